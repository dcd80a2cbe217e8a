//! No plaintext confirmation link at rest: after registrations, deliveries, a confirmation and mail refused for good,
//! neither the SQLite database file nor its write-ahead log, nor a dump of the PostgreSQL schema, holds a link or a
//! token that was mailed. The scans are shared with the password reset's tests (`lifecycle.rs`).

use std::path::Path;
use std::process::Command;

use authtoken_sql::Backend;
use authtoken_sql::testing::{self, TestDatabase};
use authtoken_testkit::SmtpSink;
use reqwest::StatusCode;

use crate::confirmation::{WAIT, client, confirming, link_path, outbox_until, register, start};
use crate::support::database;

/// What every confirmation link holds, whatever its token.
const LINK_PATH: &str = "/register/confirm/";

/// The addresses the SMTP server refuses for good (550), so their mail fails at once.
const REFUSED: [&str; 2] = ["gone@example.org", "lost@example.org"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_link_reaches_the_sqlite_file_or_its_write_ahead_log() {
    let database = database(Backend::Sqlite).await.unwrap();
    let tokens = mail_links_and_fail_some(&database).await;

    for (file, bytes) in sqlite_files(&database) {
        assert_absent(&bytes, LINK_PATH, &tokens, &file);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn no_link_reaches_a_dump_of_the_postgres_schema() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let tokens = mail_links_and_fail_some(&database).await;

    let dump = postgres_dump(&database);
    let text = String::from_utf8_lossy(&dump);
    assert!(text.contains("gone@example.org"), "the dump holds the outbox: {text}");
    assert_absent(&dump, LINK_PATH, &tokens, "the dump");
}

/// What the database holds at rest, named: the SQLite file with its write-ahead log and shared memory, or a dump of
/// the PostgreSQL test schema.
pub(crate) fn at_rest(database: &TestDatabase) -> Vec<(String, Vec<u8>)> {
    match database.options.backend().expect("a supported database") {
        Backend::Sqlite => sqlite_files(database),
        Backend::Postgres => vec![("the dump".to_owned(), postgres_dump(database))],
    }
}

/// The SQLite database file, its write-ahead log and its shared memory, those that exist; at least one does.
fn sqlite_files(database: &TestDatabase) -> Vec<(String, Vec<u8>)> {
    let path = database.options.url.strip_prefix("sqlite://").expect("a SQLite file URL");
    let files = [path.to_owned(), format!("{path}-wal"), format!("{path}-shm")];
    let found: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|file| Path::new(file).exists())
        .map(|file| (file.clone(), std::fs::read(file).unwrap()))
        .collect();
    assert!(found.iter().any(|(_, bytes)| !bytes.is_empty()), "the database files exist: {files:?}");
    found
}

/// A `pg_dump` of the PostgreSQL test schema.
fn postgres_dump(database: &TestDatabase) -> Vec<u8> {
    let schema = database.options.url.rsplit("search_path%3D").next().expect("the test schema is in the URL");
    let admin_url = testing::postgres_url().expect("the PostgreSQL tests run");
    let dump = Command::new("pg_dump").args(["--dbname", &admin_url, "--schema", schema]).output().unwrap();
    assert!(dump.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&dump.stderr));
    dump.stdout
}

/// Registers three users whose mail arrives and two whose mail is refused for good, confirms one address, and
/// returns the tokens of the links that were mailed.
async fn mail_links_and_fail_some(database: &TestDatabase) -> Vec<String> {
    let sink = SmtpSink::start().await;
    for address in REFUSED {
        sink.refuse(address);
    }
    let server = start(&database.options.url, &confirming(&sink, &[]));
    for name in ["ann", "ben", "cem", "gone", "lost"] {
        assert_eq!(register(&server, name, &format!("{name}@example.org")).await, StatusCode::CREATED);
    }
    let links: Vec<String> = sink.wait_for(3, WAIT).await.iter().map(link_path).collect();
    let failed =
        |listing: &str| listing.lines().filter(|line| line.split_whitespace().nth(1) == Some("failed")).count();
    let listing = outbox_until(&database.options.url, |listing| failed(listing) == REFUSED.len()).await;
    assert_eq!(failed(&listing), REFUSED.len(), "the refused mail failed for good: {listing}");
    let confirmed = client().get(server.url(&links[0])).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    links.iter().map(|link| link.trim_end_matches('/').rsplit('/').next().unwrap().to_owned()).collect()
}

/// Asserts that `bytes` (from `file`) hold neither a link, known by `link_path`, nor any of `tokens`.
#[track_caller]
pub(crate) fn assert_absent(bytes: &[u8], link_path: &str, tokens: &[String], file: &str) {
    let holds = |needle: &str| bytes.windows(needle.len()).any(|window| window == needle.as_bytes());
    assert!(!holds(link_path), "{file} holds a link");
    for token in tokens {
        assert!(!holds(token), "{file} holds a mailed token");
    }
}
