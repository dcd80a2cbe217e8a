//! The audit trail against the real binary, on SQLite and PostgreSQL: a whole account's life (registration,
//! confirmation, login, a wrong password, a change, a reset, logout) leaves its events, shown over HTTP and by
//! `authtoken events`, and no token, link or password used on the way reaches the database at rest (the SQLite file,
//! its write-ahead log and shared memory, or a dump of the PostgreSQL schema) or either listing.

use std::process::Stdio;

use authtoken_core::ports::UserRepo as _;
use authtoken_sql::{Backend, SqlStore};
use authtoken_testkit::{Received, SmtpSink};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::at_rest::at_rest;
use crate::confirmation::{WAIT, client, confirming, link_path, register, start};
use crate::operator::{PASSWORD, SETTINGS, cli, command, create, login, ok};
use crate::support::{Server, database};

/// The password a change sets, and the one a reset sets after it.
const CHANGED: &str = "battery staple";
const RESET: &str = "staple battery horse";
/// A wrong password tried once.
const WRONG: &str = "wrong horse guess";

/// What every link of the flow holds, whatever its token.
const LINKS: [&str; 2] = ["/register/confirm/", "/password/reset/confirm/"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accounts_whole_life_is_in_its_events_and_no_secret_is_at_rest_on_sqlite() {
    whole_life(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn an_accounts_whole_life_is_in_its_events_and_no_secret_is_at_rest_on_postgres() {
    whole_life(Backend::Postgres).await;
}

async fn whole_life(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let sink = SmtpSink::start().await;
    let mut settings = confirming(&sink, &[]);
    settings.push(("AUTHTOKEN_PASSWORD_RESET_ENABLED", "true".to_owned()));
    let server = start(url, &settings);

    assert_eq!(register(&server, "alice", "alice@example.org").await, StatusCode::CREATED);
    let confirm = link_path(&sink.wait_for(1, WAIT).await[0]);
    assert_eq!(client().get(server.url(&confirm)).send().await.unwrap().status(), StatusCode::FOUND);
    let phone = login(&server, "alice", PASSWORD, "phone/1.0").await.expect("alice logs in");
    assert_eq!(login(&server, "alice", WRONG, "guesser/0.1").await, Err(StatusCode::UNAUTHORIZED));
    let change = json!({ "current_password": PASSWORD, "new_password": CHANGED });
    assert_eq!(send(&server, Method::POST, "/auth/password/change/", Some(&phone), Some(change)).await.0, 200);
    let requested =
        send(&server, Method::POST, "/auth/password/reset/", None, Some(json!({ "email": "alice@example.org" })));
    assert_eq!(requested.await.0, 202);
    let reset = link_path(&mail_with_subject(&sink, "Reset your password").await);
    let reset_token = token_of(&reset);
    let body = json!({ "token": reset_token, "new_password": RESET });
    assert_eq!(send(&server, Method::POST, "/auth/password/reset/confirm/", None, Some(body)).await.0, 200);
    let laptop = login(&server, "alice", RESET, "laptop/2.0").await.expect("the new password logs in");

    let (status, listed) = send(&server, Method::GET, "/auth/events/", Some(&laptop), None).await;

    assert_eq!(status, 200, "{listed}");
    let events: Vec<Value> = serde_json::from_str(&listed).unwrap();
    let kinds: Vec<&str> = events.iter().map(|event| event["kind"].as_str().expect("a kind")).collect();
    assert_eq!(
        kinds,
        [
            "login",
            "password_reset",
            "password_reset_requested",
            "password_changed",
            "login_failed",
            "login",
            "email_confirmed",
            "registered"
        ]
    );
    assert_eq!((&events[0]["ip"], &events[0]["user_agent"]), (&json!("127.0.0.1"), &json!("laptop/2.0")));
    assert_eq!(events[4]["user_agent"], json!("guesser/0.1"));
    assert_eq!(send(&server, Method::DELETE, "/auth/logout/", Some(&laptop), None).await.0, 204);
    let trail = ok(url, &["events", "--user", "alice"], None);
    let lines: Vec<&str> = trail.lines().collect();
    assert_eq!(lines.len(), 10, "a header and nine events: {trail}");
    let last: Vec<&str> = lines[9].split_whitespace().collect();
    assert_eq!(last[1..3], ["logout", "alice"], "{trail}");

    let secrets = [
        phone.as_str(),
        laptop.as_str(),
        token_of(&confirm).as_str(),
        reset_token.as_str(),
        PASSWORD,
        CHANGED,
        RESET,
        WRONG,
    ]
    .map(str::to_owned);
    let store = SqlStore::open(&database.options).await.unwrap();
    let hash = store.find_by_key("alice").await.unwrap().expect("alice exists").password_hash;
    store.close().await;
    let log = server.log();
    for (name, text) in
        [("GET /auth/events/", listed.as_str()), ("authtoken events", trail.as_str()), ("the log", &log)]
    {
        assert_none(text.as_bytes(), &secrets, name);
        assert!(!text.contains(hash.as_str()) && !text.contains("$argon2"), "{name} holds a password hash");
    }
    for (name, bytes) in at_rest(&database) {
        assert_none(&bytes, &secrets, &name);
    }
    let at_rest_text: String = at_rest(&database).iter().map(|(_, bytes)| String::from_utf8_lossy(bytes)).collect();
    for written in ["password_reset_requested", "guesser/0.1", "laptop/2.0"] {
        assert!(at_rest_text.contains(written), "the scan reads the events: {written} is missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_command_shows_the_trail_of_everyone_or_one_user_since_a_time_on_sqlite() {
    events_command(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn the_events_command_shows_the_trail_of_everyone_or_one_user_since_a_time_on_postgres() {
    events_command(Backend::Postgres).await;
}

async fn events_command(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    assert_eq!(ok(url, &["events"], None), "no events\n");
    let server = Server::start(url, &SETTINGS);
    create(url, "alice");
    create(url, "bob");
    login(&server, "alice", PASSWORD, "phone/1.0").await.unwrap();
    assert!(login(&server, "nobody", PASSWORD, "e2e").await.is_err());
    ok(url, &["sessions", "revoke", "--user", "alice"], None);

    let everyone = ok(url, &["events"], None);
    let alices = ok(url, &["events", "--user", "alice"], None);
    let recent = ok(url, &["events", "--since", "1h"], None);

    let kinds = |listing: &str| -> Vec<(String, String)> {
        let cells = |line: &str| line.split_whitespace().skip(1).take(2).map(str::to_owned).collect::<Vec<_>>();
        listing.lines().skip(1).map(cells).map(|c| (c[0].clone(), c[1].clone())).collect()
    };
    let pair = |kind: &str, user: &str| (kind.to_owned(), user.to_owned());
    let header: Vec<&str> =
        everyone.lines().next().unwrap().split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(header, ["time", "kind", "user", "session", "ip", "user agent"]);
    assert_eq!(
        kinds(&everyone),
        [
            pair("operator_created_user", "alice"),
            pair("operator_created_user", "bob"),
            pair("login", "alice"),
            pair("login_failed", "-"),
            pair("operator_revoked_sessions", "alice"),
        ]
    );
    let login = everyone.lines().nth(3).unwrap();
    assert!(login.contains(" 127.0.0.1  phone/1.0") && login.split_whitespace().nth(3).unwrap().len() == 22, "{login}");
    let of_alice =
        [pair("operator_created_user", "alice"), pair("login", "alice"), pair("operator_revoked_sessions", "alice")];
    assert_eq!(kinds(&alices), of_alice);
    assert_eq!(recent, everyone);
    assert_eq!(ok(url, &["events", "--since", "2999-01-01T00:00:00+01:00"], None), "no events\n");
    let unknown = cli(url, &["events", "--user", "nobody"], None);
    assert_eq!((unknown.code, unknown.stderr.trim()), (Some(1), "error: no user named `nobody`"));
    let bad = cli(url, &["events", "--since", "yesterday"], None);
    assert_eq!(bad.code, Some(1), "{bad:?}");
    assert!(bad.stderr.contains("`yesterday` is neither an RFC 3339 time"), "{bad:?}");

    let mut child = command(url, &["events"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "a closed pipe ends the command quietly: {output:?}");
}

/// A request to `path` with `token` and a JSON `body` when given: the status and the body.
async fn send(server: &Server, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, String) {
    let mut request = client().request(method, server.url(path));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Token {token}"));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The first mail the sink received with `subject`, waiting for it.
async fn mail_with_subject(sink: &SmtpSink, subject: &str) -> Received {
    for count in 1..=5 {
        let mails = sink.wait_for(count, WAIT).await;
        if let Some(mail) = mails.into_iter().find(|mail| mail.header("Subject").as_deref() == Some(subject)) {
            return mail;
        }
    }
    panic!("no mail with the subject {subject}: {:?}", sink.received().len())
}

/// The token of a link path: its last segment.
fn token_of(path: &str) -> String {
    let token = path.trim_end_matches('/').rsplit('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 64, "{path}");
    token
}

/// Asserts that `bytes` (of `name`) hold no link and none of `secrets`.
#[track_caller]
fn assert_none(bytes: &[u8], secrets: &[String], name: &str) {
    let holds = |needle: &str| bytes.windows(needle.len()).any(|window| window == needle.as_bytes());
    // A link's path, but not a route's template (`/auth/register/confirm/{token}`), which the access log writes.
    let holds_link = |link: &str| {
        bytes.windows(link.len() + 1).any(|window| window.starts_with(link.as_bytes()) && window[link.len()] != b'{')
    };
    for link in LINKS {
        assert!(!holds_link(link), "{name} holds a link");
    }
    for (i, secret) in secrets.iter().enumerate() {
        assert!(!holds(secret), "{name} holds secret number {i} ({} characters)", secret.len());
    }
}
