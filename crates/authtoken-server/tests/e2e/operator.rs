//! The operator CLI end to end: `authtoken users …` and `authtoken sessions …` run as the real binary on the same
//! database as a running `authtoken serve`, whose answers over HTTP show what each command did.

use std::io::Write as _;
use std::process::{Command, Stdio};

use authtoken_sql::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{CHEAP_ARGON2, Server, binary, database};

pub(crate) const PASSWORD: &str = "correct horse";

/// The settings of both the server and the CLI: no self-service registration, and only users with a confirmed
/// address may log in, so the operator's commands are the only way in.
pub(crate) const SETTINGS: [(&str, &str); 4] = [
    CHEAP_ARGON2[0],
    CHEAP_ARGON2[1],
    ("AUTHTOKEN_REGISTRATION_ENABLED", "false"),
    ("AUTHTOKEN_REQUIRE_CONFIRMED_EMAIL_FOR_LOGIN", "true"),
];

/// What a run of the CLI left behind.
#[derive(Debug)]
pub(crate) struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `authtoken ARGS` on `url` with [`SETTINGS`], writing `stdin` (when given) to its standard input; without
/// it, stdin is empty and not a terminal.
pub(crate) fn cli(url: &str, args: &[&str], stdin: Option<&str>) -> Ran {
    let mut command = command(url, args);
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) fn command(url: &str, args: &[&str]) -> Command {
    let mut command = binary();
    command.args(args).env("AUTHTOKEN_DATABASE_URL", url);
    for (name, value) in SETTINGS {
        command.env(name, value);
    }
    command
}

/// Runs the CLI and expects success; returns its stdout.
#[track_caller]
pub(crate) fn ok(url: &str, args: &[&str], stdin: Option<&str>) -> String {
    let ran = cli(url, args, stdin);
    assert_eq!(ran.code, Some(0), "authtoken {args:?}: {ran:?}");
    ran.stdout
}

/// Creates `name` with the address `name@example.org` and [`PASSWORD`], given on stdin.
#[track_caller]
pub(crate) fn create(url: &str, name: &str) {
    let email = format!("{name}@example.org");
    ok(url, &["users", "create", name, "--email", &email, "--password-stdin"], Some(&format!("{PASSWORD}\n")));
}

/// Logs in over HTTP: the token, or the status of the refusal.
pub(crate) async fn login(server: &Server, username: &str, password: &str, agent: &str) -> Result<String, StatusCode> {
    let body = json!({ "username": username, "password": password });
    let client = reqwest::Client::new();
    let response =
        client.post(server.url("/auth/login/")).header("User-Agent", agent).json(&body).send().await.unwrap();
    if response.status() != StatusCode::OK {
        return Err(response.status());
    }
    let body: Value = response.json().await.unwrap();
    Ok(body["token"].as_str().expect("a token").to_owned())
}

/// Whether `token` still authenticates.
pub(crate) async fn works(server: &Server, token: &str) -> bool {
    let me = reqwest::Client::new().get(server.url("/auth/me/")).header("Authorization", format!("Token {token}"));
    let status = me.send().await.unwrap().status();
    assert!(status == StatusCode::OK || status == StatusCode::UNAUTHORIZED, "{status}");
    status == StatusCode::OK
}

/// The ids in the first column of a table, header left out.
pub(crate) fn ids(table: &str) -> Vec<String> {
    table.lines().skip(1).filter_map(|line| line.split_whitespace().next()).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_listed_deactivated_activated_and_deleted_on_sqlite() {
    users_lifecycle(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn users_are_created_listed_deactivated_activated_and_deleted_on_postgres() {
    users_lifecycle(Backend::Postgres).await;
}

async fn users_lifecycle(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let server = Server::start(url, &SETTINGS);

    let created = ok(
        url,
        &["users", "create", "alice", "--email", "alice@example.org", "--password-stdin"],
        Some("correct horse\n"),
    );
    assert_eq!(created, "created alice (id 1) with the confirmed address alice@example.org\n");
    let token = login(&server, "alice", PASSWORD, "e2e").await.expect("the vouched-for address lets alice log in");
    assert!(works(&server, &token).await);
    create(url, "bob");
    let listing = ok(url, &["users", "list"], None);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 3, "{listing}");
    let header: Vec<&str> = lines[0].split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(header, ["id", "username", "email", "active", "confirmed", "last login"]);
    let alice: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(alice[..5], ["1", "alice", "alice@example.org", "yes", "yes"]);
    assert!(alice[5].ends_with('Z') && alice[5].contains('T'), "the last login in RFC 3339: {listing}");
    assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["2", "bob", "bob@example.org", "yes", "yes", "never"]);

    let deactivated = ok(url, &["users", "deactivate", "alice"], None);

    assert_eq!(deactivated, "deactivated alice; every session of the user has ended\n");
    assert!(!works(&server, &token).await, "deactivation ends every session at once");
    assert_eq!(login(&server, "alice", PASSWORD, "e2e").await, Err(StatusCode::UNAUTHORIZED));
    assert!(ok(url, &["users", "list"], None).lines().nth(1).unwrap().contains(" no "));
    assert_eq!(ok(url, &["users", "activate", "alice"], None), "activated alice\n");
    let token = login(&server, "alice", PASSWORD, "e2e").await.expect("alice is active again");

    let deleted = ok(url, &["users", "delete", "alice"], None);

    assert_eq!(deleted, "deleted alice with every session, confirmation link and pending mail of the user\n");
    assert!(!works(&server, &token).await);
    assert_eq!(login(&server, "alice", PASSWORD, "e2e").await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(ids(&ok(url, &["users", "list"], None)), ["2"]);
    let log = server.log();
    assert!(!log.contains(PASSWORD) && !log.contains(&token), "the log holds a secret:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_password_takes_the_password_from_stdin_and_revokes_every_session_on_sqlite() {
    set_password_revokes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn set_password_takes_the_password_from_stdin_and_revokes_every_session_on_postgres() {
    set_password_revokes(Backend::Postgres).await;
}

async fn set_password_revokes(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let server = Server::start(url, &SETTINGS);
    create(url, "alice");
    create(url, "bob");
    let first = login(&server, "alice", PASSWORD, "e2e").await.unwrap();
    let second = login(&server, "alice", PASSWORD, "e2e").await.unwrap();
    let bobs = login(&server, "bob", PASSWORD, "e2e").await.unwrap();

    let set = ok(url, &["users", "set-password", "alice", "--password-stdin"], Some("  new horse  \r\n"));

    assert_eq!(set, "set the password of alice; revoked 2 sessions\n");
    assert!(!works(&server, &first).await && !works(&server, &second).await);
    assert!(works(&server, &bobs).await, "other users keep their sessions");
    assert_eq!(login(&server, "alice", PASSWORD, "e2e").await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(login(&server, "alice", "new horse", "e2e").await, Err(StatusCode::UNAUTHORIZED), "never trimmed");
    assert!(login(&server, "alice", "  new horse  ", "e2e").await.is_ok(), "only the line ending is stripped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_revoked_by_user_by_id_and_for_everyone_on_sqlite() {
    sessions_listed_and_revoked(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn sessions_are_listed_and_revoked_by_user_by_id_and_for_everyone_on_postgres() {
    sessions_listed_and_revoked(Backend::Postgres).await;
}

async fn sessions_listed_and_revoked(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let server = Server::start(url, &SETTINGS);
    for name in ["alice", "bob", "carol"] {
        create(url, name);
    }
    let phone = login(&server, "alice", PASSWORD, "phone/1.0").await.unwrap();
    let laptop = login(&server, "alice", PASSWORD, "laptop/2.0").await.unwrap();
    let tablet = login(&server, "alice", PASSWORD, "tablet/3.0").await.unwrap();
    let bobs = login(&server, "bob", PASSWORD, "e2e").await.unwrap();
    let carols = login(&server, "carol", PASSWORD, "e2e").await.unwrap();

    let listing = ok(url, &["sessions", "list", "--user", "alice"], None);

    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 4, "{listing}");
    let header: Vec<&str> = lines[0].split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(header, ["id", "created", "last used", "expires", "state", "ip", "user agent"]);
    for (line, agent) in lines[1..].iter().zip(["phone/1.0", "laptop/2.0", "tablet/3.0"]) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0].len(), 22, "{line}");
        assert_eq!(cells[4..], ["live", "127.0.0.1", agent], "{line}");
    }
    for token in [&phone, &laptop, &tablet] {
        assert!(!listing.contains(token.as_str()), "a token is never shown");
    }
    let session_ids = ids(&listing);

    let one = ok(url, &["sessions", "revoke", "--id", &session_ids[0]], None);

    assert_eq!(one, format!("revoked the session {} of alice\n", session_ids[0]));
    assert!(!works(&server, &phone).await);
    assert!(works(&server, &laptop).await && works(&server, &tablet).await);
    assert_eq!(ids(&ok(url, &["sessions", "list", "--user", "alice"], None)), session_ids[1..]);
    let again = cli(url, &["sessions", "revoke", "--id", &session_ids[0]], None);
    assert_eq!(
        (again.code, again.stderr.trim()),
        (Some(1), format!("error: no session with the id `{}`", session_ids[0]).as_str())
    );

    let of_alice = ok(url, &["sessions", "revoke", "--user", "alice"], None);

    assert_eq!(of_alice, "revoked 2 sessions of alice\n");
    assert!(!works(&server, &laptop).await && !works(&server, &tablet).await);
    assert!(works(&server, &bobs).await && works(&server, &carols).await);
    assert_eq!(ok(url, &["sessions", "list", "--user", "alice"], None), "alice has no sessions\n");

    let everyone = ok(url, &["sessions", "revoke", "--all-users"], None);

    assert_eq!(everyone, "revoked 2 sessions of every user\n");
    assert!(!works(&server, &bobs).await && !works(&server, &carols).await);
    assert!(login(&server, "bob", PASSWORD, "e2e").await.is_ok(), "revoking sessions locks nobody out");
}
