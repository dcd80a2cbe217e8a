//! No plaintext confirmation link at rest: after registrations, deliveries, a confirmation and mail refused for good,
//! neither the SQLite database file nor its write-ahead log, nor a dump of the PostgreSQL schema, holds a link or a
//! token that was mailed.

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

    let path = database.options.url.strip_prefix("sqlite://").expect("a SQLite file URL");
    let files = [path.to_owned(), format!("{path}-wal"), format!("{path}-shm")];
    let mut scanned = 0;
    for file in files.iter().filter(|file| Path::new(file).exists()) {
        let bytes = std::fs::read(file).unwrap();
        scanned += bytes.len();
        assert_absent(&bytes, &tokens, file);
    }
    assert!(scanned > 0, "the database files exist: {files:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_link_reaches_a_dump_of_the_postgres_schema() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let tokens = mail_links_and_fail_some(&database).await;

    let schema = database.options.url.rsplit("search_path%3D").next().expect("the test schema is in the URL");
    let admin_url = testing::postgres_url().expect("the PostgreSQL tests run");
    let dump = Command::new("pg_dump").args(["--dbname", &admin_url, "--schema", schema]).output().unwrap();
    assert!(dump.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&dump.stderr));
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(text.contains("gone@example.org"), "the dump holds the outbox: {text}");
    assert_absent(&dump.stdout, &tokens, "the dump");
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

#[track_caller]
fn assert_absent(bytes: &[u8], tokens: &[String], file: &str) {
    let holds = |needle: &str| bytes.windows(needle.len()).any(|window| window == needle.as_bytes());
    assert!(!holds(LINK_PATH), "{file} holds a confirmation link");
    for token in tokens {
        assert!(!holds(token), "{file} holds a mailed token");
    }
}
