//! The account and session lifecycle against the real binary, on SQLite and PostgreSQL: password reset through the
//! file mail drop and through the SMTP server on loopback, no reset link at rest, the session inventory and its
//! revocations, the password change, deleting the account, and the idle timeout on the real clock.

use std::path::Path;
use std::time::{Duration, Instant};

use authtoken_sql::Backend;
use authtoken_testkit::SmtpSink;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::at_rest::{assert_absent, at_rest};
use crate::confirmation::{WAIT, client, outbox_until, start};
use crate::operator::{PASSWORD, SETTINGS, login, ok, works};
use crate::support::{Server, database};

/// The password a reset or a change sets.
const NEW_PASSWORD: &str = "battery staple";

/// Where the mailed links to the built-in form point.
const BASE_URL: &str = "http://app.example.org";

/// What every link to the built-in form holds, whatever its token.
const FORM_PATH: &str = "/auth/password/reset/confirm/";

/// The front end of one's own that `password_reset_url` names in the SMTP tests.
const FRONT_END: &str = "https://app.example.org/reset#";

const RESET_SUBJECT: &str = "Reset your password";
const NOTICE_SUBJECT: &str = "Your password was changed";
const SUCCESS: &str = r#"{"success":true}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_through_the_file_drop_ends_every_session_and_leaves_no_link_at_rest_on_sqlite() {
    reset_through_the_file_drop(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn a_reset_through_the_file_drop_ends_every_session_and_leaves_no_link_at_rest_on_postgres() {
    reset_through_the_file_drop(Backend::Postgres).await;
}

async fn reset_through_the_file_drop(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let drop_dir = tempfile::tempdir().unwrap();
    let server = start(url, &resetting(&format!("file://{}", drop_dir.path().display()), &[]));
    create(url, "alice", "alice@example.org");
    create(url, "mia", "Mia@Example.ORG");
    let phone = login(&server, "alice", PASSWORD, "phone/1.0").await.unwrap();
    let laptop = login(&server, "alice", PASSWORD, "laptop/2.0").await.unwrap();

    for address in ["nobody@example.org", "alice@example.org", "mia@example.org"] {
        assert_eq!(request_reset(&server, address).await, (StatusCode::ACCEPTED, SUCCESS.to_owned()), "{address}");
    }

    let mails = mail_in(drop_dir.path(), 2).await;
    let alices = mails.iter().find(|mail| mail.to == "alice@example.org").expect("alice's reset mail");
    let mias = mails.iter().find(|mail| mail.to.eq_ignore_ascii_case("mia@example.org"));
    let mias = mias.expect("an address registered in another ASCII case gets the mail");
    assert_eq!((alices.subject.as_str(), mias.subject.as_str()), (RESET_SUBJECT, RESET_SUBJECT));
    let listing = outbox_until(url, |listing| failed_to(listing, "nobody@example.org")).await;
    assert!(failed_to(&listing, "nobody@example.org"), "the unknown address gets no mail: {listing}");
    assert_eq!(mail_in(drop_dir.path(), 0).await.len(), 2, "nothing but the two reset mails: {listing}");
    let link = alices.link(BASE_URL);
    let form = link.strip_prefix(BASE_URL).unwrap().to_owned();
    assert!(form.starts_with(FORM_PATH) && form.ends_with('/'), "{link}");

    let page = client().get(server.url(&form)).send().await.unwrap();

    assert_eq!(page.status(), StatusCode::OK);
    for (header, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(page.headers()[header], value, "{header}");
    }
    assert!(page.text().await.unwrap().contains(r#"name="new_password""#));
    assert!(works(&server, &phone).await, "opening the form uses nothing");

    let sent = client().post(server.url(&form)).form(&[("new_password", NEW_PASSWORD)]).send().await.unwrap();

    assert_eq!(sent.status(), StatusCode::OK);
    assert!(sent.text().await.unwrap().contains("Password set"));
    assert!(!works(&server, &phone).await && !works(&server, &laptop).await, "every session ended");
    assert_eq!(login(&server, "alice", PASSWORD, "e2e").await, Err(StatusCode::UNAUTHORIZED));
    let fresh = login(&server, "alice", NEW_PASSWORD, "e2e").await.expect("the new password logs in");
    assert_eq!(client().get(server.url(&form)).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    let again = client().post(server.url(&form)).form(&[("new_password", "another horse")]).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "the link is used");
    let mails = mail_in(drop_dir.path(), 3).await;
    let (alice_token, mia_token) = (token_of(&link), token_of(&mias.link(BASE_URL)));
    assert_notice(&mails, "alice@example.org", &alice_token);
    for (name, bytes) in at_rest(&database) {
        assert_absent(&bytes, FORM_PATH, &[alice_token.clone(), mia_token.clone()], &name);
    }
    assert_log_clean(&server, &[&phone, &laptop, &fresh, &alice_token, &mia_token]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_through_smtp_to_a_front_end_of_ones_own_ends_every_session_on_sqlite() {
    reset_through_smtp(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn a_reset_through_smtp_to_a_front_end_of_ones_own_ends_every_session_on_postgres() {
    reset_through_smtp(Backend::Postgres).await;
}

async fn reset_through_smtp(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let sink = SmtpSink::start().await;
    let server = start(
        url,
        &resetting(&sink.url(), &[("AUTHTOKEN_PASSWORD_RESET_URL", "https://app.example.org/reset#{token}")]),
    );
    create(url, "alice", "alice@example.org");
    let phone = login(&server, "alice", PASSWORD, "phone/1.0").await.unwrap();
    let laptop = login(&server, "alice", PASSWORD, "laptop/2.0").await.unwrap();

    assert_eq!(request_reset(&server, "alice@example.org").await, (StatusCode::ACCEPTED, SUCCESS.to_owned()));

    let received = sink.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, ["alice@example.org"]);
    let mail = Mail::parse(&received[0].data);
    assert_eq!(mail.subject, RESET_SUBJECT);
    let token = token_of(&mail.link(FRONT_END));
    let form = client().get(server.url(&format!("{FORM_PATH}{token}/"))).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::NOT_FOUND, "no built-in form with a front end of one's own");
    let short = confirm_reset(&server, &token, "short").await;
    assert_eq!(short.0, StatusCode::BAD_REQUEST);
    assert!(short.1.starts_with(r#"{"new_password":["#), "{}", short.1);

    let reset = confirm_reset(&server, &token, NEW_PASSWORD).await;

    assert_eq!(reset, (StatusCode::OK, SUCCESS.to_owned()), "a bad new password left the link usable");
    assert!(!works(&server, &phone).await && !works(&server, &laptop).await, "every session ended");
    assert_eq!(login(&server, "alice", PASSWORD, "e2e").await, Err(StatusCode::UNAUTHORIZED));
    let fresh = login(&server, "alice", NEW_PASSWORD, "e2e").await.expect("the new password logs in");
    let reused = confirm_reset(&server, &token, "another horse").await;
    assert_eq!(reused, (StatusCode::BAD_REQUEST, r#"{"token":["Invalid or expired link."]}"#.to_owned()));
    let received = sink.wait_for(2, WAIT).await;
    let mails: Vec<Mail> = received.iter().map(|mail| Mail::parse(&mail.data)).collect();
    assert_notice(&mails, "alice@example.org", &token);
    assert_log_clean(&server, &[&phone, &laptop, &fresh, &token]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_revoked_and_ended_by_a_password_change_and_the_accounts_deletion_on_sqlite() {
    sessions_and_account(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn sessions_are_listed_revoked_and_ended_by_a_password_change_and_the_accounts_deletion_on_postgres() {
    sessions_and_account(Backend::Postgres).await;
}

async fn sessions_and_account(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let server = Server::start(url, &SETTINGS);
    create(url, "alice", "alice@example.org");
    create(url, "bob", "bob@example.org");
    let phone = login(&server, "alice", PASSWORD, "phone/1.0").await.unwrap();
    let laptop = login(&server, "alice", PASSWORD, "laptop/2.0").await.unwrap();
    let bobs = login(&server, "bob", PASSWORD, "bob/1.0").await.unwrap();

    let listed = sessions(&server, &phone).await;

    let shown: Vec<(&str, bool)> =
        listed.iter().map(|s| (s["user_agent"].as_str().unwrap(), s["current"].as_bool().unwrap())).collect();
    assert_eq!(shown, [("laptop/2.0", false), ("phone/1.0", true)], "newest first: {listed:?}");
    for session in &listed {
        assert_eq!(session["ip"], "127.0.0.1");
        assert!(session["created"].as_str().unwrap().ends_with('Z') && session["expires"].as_str().is_some());
        assert!(session["last_used"].is_null() || session["last_used"].as_str().is_some(), "{session}");
        assert_eq!(session["id"].as_str().unwrap().len(), 22, "{session}");
    }
    let laptop_id = listed[0]["id"].as_str().unwrap().to_owned();
    let bobs_id = sessions(&server, &bobs).await[0]["id"].as_str().unwrap().to_owned();
    let not_found = (StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#.to_owned());
    assert_eq!(answer(revoke(&server, &phone, &bobs_id)).await, not_found, "another user's session");
    assert!(works(&server, &bobs).await);

    let revoked = answer(revoke(&server, &phone, &laptop_id)).await;

    assert_eq!(revoked.0, StatusCode::NO_CONTENT);
    assert!(!works(&server, &laptop).await, "a revoked session ends at once");
    assert_eq!(answer(revoke(&server, &phone, &laptop_id)).await, not_found, "it is gone");
    let tablet = login(&server, "alice", PASSWORD, "tablet/3.0").await.unwrap();
    let desk = login(&server, "alice", PASSWORD, "desk/4.0").await.unwrap();
    let wrong = answer(with_password(&server, &phone, "/auth/logout/others/", "wrong horse")).await;
    let message = r#"{"password":["Your password was entered incorrectly. Please enter it again."]}"#;
    assert_eq!(wrong, (StatusCode::BAD_REQUEST, message.to_owned()));
    assert!(works(&server, &tablet).await);

    let others = answer(with_password(&server, &phone, "/auth/logout/others/", PASSWORD)).await;

    assert_eq!(others, (StatusCode::OK, r#"{"revoked":2}"#.to_owned()));
    assert!(!works(&server, &tablet).await && !works(&server, &desk).await);
    assert!(works(&server, &phone).await, "the current session stays");
    let all = answer(with_password(&server, &phone, "/auth/logout/all/", PASSWORD)).await;
    assert_eq!(all, (StatusCode::OK, r#"{"revoked":1}"#.to_owned()));
    assert!(!works(&server, &phone).await, "logging out everywhere ends the current session too");
    assert!(works(&server, &bobs).await, "other users keep their sessions");

    let current = login(&server, "alice", PASSWORD, "phone/1.0").await.unwrap();
    let other = login(&server, "alice", PASSWORD, "laptop/2.0").await.unwrap();
    let change = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let changed = answer(authed(Method::POST, &server, "/auth/password/change/", &current).json(&change)).await;

    assert_eq!(changed, (StatusCode::OK, r#"{"success":true,"revoked":1}"#.to_owned()));
    assert!(!works(&server, &other).await && works(&server, &current).await, "the other session ends, this one stays");
    assert_eq!(login(&server, "alice", PASSWORD, "e2e").await, Err(StatusCode::UNAUTHORIZED));
    let wrong = answer(with_password(&server, &current, "/auth/me/delete/", PASSWORD)).await;
    assert_eq!(wrong, (StatusCode::BAD_REQUEST, message.to_owned()), "the old password deletes nothing");

    let deleted = answer(with_password(&server, &current, "/auth/me/delete/", NEW_PASSWORD)).await;

    assert_eq!(deleted, (StatusCode::NO_CONTENT, String::new()));
    assert!(!works(&server, &current).await);
    assert_eq!(login(&server, "alice", NEW_PASSWORD, "e2e").await, Err(StatusCode::UNAUTHORIZED));
    assert!(works(&server, &bobs).await);
    assert_log_clean(&server, &[&phone, &laptop, &bobs, &tablet, &desk, &current, &other]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_use_outlives_the_idle_timeout_and_one_left_alone_is_refused_on_sqlite() {
    idle_timeout(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn a_token_in_use_outlives_the_idle_timeout_and_one_left_alone_is_refused_on_postgres() {
    idle_timeout(Backend::Postgres).await;
}

async fn idle_timeout(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let mut settings = SETTINGS.to_vec();
    settings.extend([("AUTHTOKEN_AUTH_TOKEN_IDLE_TIMEOUT", "2s"), ("AUTHTOKEN_LAST_USED_RESOLUTION", "1s")]);
    let server = Server::start(url, &settings);
    create(url, "alice", "alice@example.org");
    let busy = login(&server, "alice", PASSWORD, "busy").await.unwrap();
    let idle = login(&server, "alice", PASSWORD, "idle").await.unwrap();
    let began = Instant::now();

    // The binary runs on the real clock: use one token every 500 ms for 5 s, and try the other once, after 4 s alone.
    let mut idle_refused = None;
    while began.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(works(&server, &busy).await, "a token in use stays valid, {:?} after login", began.elapsed());
        if idle_refused.is_none() && began.elapsed() >= Duration::from_secs(4) {
            idle_refused = Some(!works(&server, &idle).await);
        }
    }

    assert_eq!(idle_refused, Some(true), "a token left alone for 4 s is refused");
    let listed = sessions(&server, &busy).await;
    assert_eq!(listed.len(), 1, "the idle session is gone: {listed:?}");
    assert_eq!((&listed[0]["user_agent"], &listed[0]["current"]), (&json!("busy"), &json!(true)));
    assert!(listed[0]["last_used"].is_string(), "the use is recorded: {listed:?}");
    assert_log_clean(&server, &[&busy, &idle]);
}

/// The settings of a server that resets passwords by mail through `mail_url`, with `extra` on top.
fn resetting(mail_url: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut settings: Vec<(&str, String)> = SETTINGS.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    settings.extend([
        ("AUTHTOKEN_PASSWORD_RESET_ENABLED", "true".to_owned()),
        ("AUTHTOKEN_REGISTRATION_EMAIL_BASE_URL", BASE_URL.to_owned()),
        ("AUTHTOKEN_REGISTRATION_EMAIL_FROM", "authtoken <noreply@example.org>".to_owned()),
        ("AUTHTOKEN_MAIL_URL", mail_url.to_owned()),
        ("AUTHTOKEN_OUTBOX_POLL_INTERVAL", "100ms".to_owned()),
    ]);
    settings.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    settings
}

/// Creates `name` with the confirmed address `email` and [`PASSWORD`] through the operator CLI.
#[track_caller]
fn create(url: &str, name: &str, email: &str) {
    ok(url, &["users", "create", name, "--email", email, "--password-stdin"], Some(&format!("{PASSWORD}\n")));
}

/// A request with `token` in the `Authorization` header.
fn authed(method: Method, server: &Server, path: &str, token: &str) -> RequestBuilder {
    client().request(method, server.url(path)).header("Authorization", format!("Token {token}"))
}

/// The status and body of the answer.
async fn answer(request: RequestBuilder) -> (StatusCode, String) {
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The caller's sessions as `GET /auth/sessions/` lists them.
async fn sessions(server: &Server, token: &str) -> Vec<Value> {
    let (status, body) = answer(authed(Method::GET, server, "/auth/sessions/", token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn revoke(server: &Server, token: &str, id: &str) -> RequestBuilder {
    authed(Method::DELETE, server, &format!("/auth/sessions/{id}/"), token)
}

/// A POST to `path` with the re-entered `password`.
fn with_password(server: &Server, token: &str, path: &str, password: &str) -> RequestBuilder {
    authed(Method::POST, server, path, token).json(&json!({ "password": password }))
}

async fn request_reset(server: &Server, email: &str) -> (StatusCode, String) {
    answer(client().post(server.url("/auth/password/reset/")).json(&json!({ "email": email }))).await
}

async fn confirm_reset(server: &Server, token: &str, new_password: &str) -> (StatusCode, String) {
    let body = json!({ "token": token, "new_password": new_password });
    answer(client().post(server.url("/auth/password/reset/confirm/")).json(&body)).await
}

/// Whether the outbox listing shows the mail to `address` failed (a reset mail with no account to go to is void).
fn failed_to(listing: &str, address: &str) -> bool {
    listing.lines().any(|line| line.contains(address) && line.split_whitespace().nth(1) == Some("failed"))
}

/// Asserts that `mails` hold the notice of a password change to `to`, with no link and not the reset `token`.
#[track_caller]
fn assert_notice(mails: &[Mail], to: &str, token: &str) {
    let notice = mails.iter().find(|mail| mail.subject == NOTICE_SUBJECT).expect("the notice of the change");
    assert_eq!(notice.to, to);
    assert!(notice.body.contains("password of your account has just been changed"), "{}", notice.body);
    assert!(!notice.body.contains("http") && !notice.body.contains(token), "the notice holds a link: {}", notice.body);
}

/// Asserts that the server's log holds none of `secrets` and neither password.
#[track_caller]
fn assert_log_clean(server: &Server, secrets: &[&str]) {
    let log = server.log();
    for secret in secrets.iter().chain(&[PASSWORD, NEW_PASSWORD]) {
        assert!(!log.contains(secret), "the log holds a secret ({} characters):\n{log}", secret.len());
    }
}

/// The token of a mailed link: what follows its last `/` or `#`.
fn token_of(link: &str) -> String {
    let token = link.trim_end_matches('/').rsplit(['/', '#']).next().unwrap();
    assert_eq!(token.len(), 64, "{link}");
    token.to_owned()
}

/// Waits until the file drop `dir` holds `count` messages, or [`WAIT`] passed; returns them all, oldest first.
async fn mail_in(dir: &Path, count: usize) -> Vec<Mail> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
            .unwrap_or_default();
        files.retain(|file| file.extension().is_some_and(|extension| extension == "eml"));
        if files.len() >= count || tokio::time::Instant::now() > deadline {
            files.sort();
            return files.iter().map(|file| Mail::parse(&std::fs::read_to_string(file).unwrap())).collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A delivered mail: its recipient, subject and body, the body decoded when it came quoted-printable.
#[derive(Debug)]
struct Mail {
    to: String,
    subject: String,
    body: String,
}

impl Mail {
    /// Reads an RFC 5322 message with CRLF line ends, as the file drop and the SMTP server keep it.
    fn parse(message: &str) -> Self {
        let (head, body) = message.split_once("\r\n\r\n").expect("headers and a body");
        let header = |name: &str| {
            head.split("\r\n").find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
            })
        };
        let body = match header("Content-Transfer-Encoding").as_deref() {
            Some("quoted-printable") => quoted_printable(body),
            Some("7bit") | None => body.to_owned(),
            Some(other) => panic!("a body in {other}: {message}"),
        };
        Self { to: header("To").expect("a recipient"), subject: header("Subject").expect("a subject"), body }
    }

    /// The first link in the body that starts with `start`, whole.
    fn link(&self, start: &str) -> String {
        let at = self.body.find(start).unwrap_or_else(|| panic!("no link to {start} in {}", self.body));
        self.body[at..].chars().take_while(|c| !c.is_whitespace()).collect()
    }
}

/// Decodes quoted-printable text: soft line breaks go, `=XX` becomes its byte.
fn quoted_printable(text: &str) -> String {
    let text = text.replace("=\r\n", "");
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = bytes.get(at + 1..at + 3).filter(|hex| hex.iter().all(u8::is_ascii_hexdigit));
        match (bytes[at], escaped) {
            (b'=', Some(hex)) => {
                decoded.push(u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap());
                at += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap()
}
