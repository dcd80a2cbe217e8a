//! An existing database upgrades in place. Earlier versions kept each mail's text in the outbox, confirmation link
//! included, and blanked it only once sent; after the upgrade no byte of that text is left in the SQLite file or its
//! write-ahead log, and the waiting mail is still delivered. A database of the version before the session lifecycle
//! keeps its users and sessions, and the new operations work on them.

use std::path::Path;
use std::time::Duration;

use authtoken_core::Timestamp;
use authtoken_core::outbox::{MailKind, OutboxMail, OutboxState};
use authtoken_core::ports::{Outbox as _, ResetRepo as _, TokenRepo, UserRepo};
use authtoken_core::session::SessionId;
use authtoken_core::token::TokenDigest;
use authtoken_core::user::UserId;
use authtoken_sql::{DatabaseOptions, SqlStore};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

/// The token of a link an earlier version wrote into the outbox.
const OLD_TOKEN: &str = "OldPlaintextTokenOfAnEarlierVersion0123456789abcdefghijklmnopqrs";

/// The migrations named before `before` (the version that came before them), copied into `into`.
fn previous_migrations(into: &Path, before: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().as_ref() < before {
            std::fs::copy(&path, into.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// Whether the database file or its write-ahead log holds `needle`.
fn on_disk(database: &Path, needle: &str) -> bool {
    let wal = database.with_extension("sqlite3-wal");
    [database, wal.as_path()]
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|window| window == needle.as_bytes()))
}

#[tokio::test]
async fn upgrading_a_sqlite_database_leaves_no_old_mail_text_in_its_files_and_keeps_the_mail() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("old.sqlite3");
    let old = previous_version(dir.path(), &database, "20261201").await;
    let body = format!("Open https://auth.example.org/auth/register/confirm/{OLD_TOKEN}/ to confirm.");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (username, username_key, email, password_hash, joined_at) \
             VALUES ('alice', 'alice', 'alice@example.org', 'x', 0), ('bob', 'bob', 'bob@example.org', 'x', 0);
         INSERT INTO outbox (user_id, recipient, subject, body, state, created_at, attempts, next_attempt_at) \
             VALUES (1, 'alice@example.org', 'Confirm', '{body}', 'pending', 0, 0, 0), \
                    (2, 'bob@example.org', 'Confirm', '{body}', 'failed', 0, 10, 0);"
    )))
    .execute(&old)
    .await
    .unwrap();
    old.close().await;
    assert!(on_disk(&database, OLD_TOKEN), "the earlier version's outbox left its link on disk");

    let store = SqlStore::open(&options(&database)).await.unwrap();

    let entries = store.entries(&[OutboxState::Pending, OutboxState::Failed]).await.unwrap();
    let mails: Vec<(&OutboxMail, OutboxState)> = entries.iter().map(|entry| (&entry.mail, entry.state)).collect();
    let mail = |to: &str| OutboxMail { to: to.to_owned(), kind: MailKind::Confirmation, language: None };
    assert_eq!(
        mails,
        [(&mail("alice@example.org"), OutboxState::Pending), (&mail("bob@example.org"), OutboxState::Failed)]
    );
    assert!(!on_disk(&database, OLD_TOKEN), "the upgrade left the old link in the database file or its log");
    store.close().await;
}

/// A SQLite database at `database` made by the migrations named before `before`, open in WAL mode.
async fn previous_version(dir: &Path, database: &Path, before: &str) -> sqlx::SqlitePool {
    let migrations = dir.join("previous");
    std::fs::create_dir(&migrations).unwrap();
    previous_migrations(&migrations, before);
    let connect =
        SqliteConnectOptions::new().filename(database).create_if_missing(true).journal_mode(SqliteJournalMode::Wal);
    let old = SqlitePoolOptions::new().max_connections(1).connect_with(connect).await.unwrap();
    sqlx::migrate::Migrator::new(migrations.as_path()).await.unwrap().run(&old).await.unwrap();
    old
}

fn options(database: &Path) -> DatabaseOptions {
    DatabaseOptions {
        url: format!("sqlite://{}", database.display()),
        max_connections: 2,
        connect_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn a_database_from_before_the_session_lifecycle_keeps_its_sessions_and_takes_the_new_operations() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("old.sqlite3");
    let old = previous_version(dir.path(), &database, "20261202").await;
    let digest = "a".repeat(64);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (username, username_key, email, email_confirmed, password_hash, joined_at) \
             VALUES ('alice', 'alice', 'Alice@Example.org', 1, 'x', 0), ('bob', 'bob', NULL, 0, 'y', 0);
         INSERT INTO sessions (digest, id, user_id, created_at, expires_at, user_agent, client_ip) \
             VALUES (CAST('{digest}' AS BLOB), 'AAAAAAAAAAAAAAAAAAAAAA', 1, 1000, 9999999999999, 'curl/8', '192.0.2.1'), \
                    (CAST('{}' AS BLOB), 'BBBBBBBBBBBBBBBBBBBBBB', 1, 2000, 9999999999999, NULL, NULL);",
        "b".repeat(64)
    )))
    .execute(&old)
    .await
    .unwrap();
    old.close().await;

    let store = SqlStore::open(&options(&database)).await.unwrap();

    let alice = UserId(1);
    let sessions = TokenRepo::sessions_of(&store, alice).await.unwrap();
    assert_eq!(sessions.len(), 2, "the sessions are kept");
    assert_eq!(sessions[0].last_used_at, None);
    assert_eq!(sessions[0].client.user_agent.as_deref(), Some("curl/8"));
    let kept = TokenDigest::from_slice(digest.as_bytes()).unwrap();
    assert!(store.touch(&kept, Timestamp::from_millis(5000), Timestamp::from_millis(5000)).await.unwrap());
    assert_eq!(store.purge_idle(Timestamp::from_millis(3000)).await.unwrap(), 1, "the session never used goes");
    let found = store.find_by_id(&SessionId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap()).await.unwrap().unwrap();
    assert_eq!(found.session.last_used_at, Some(Timestamp::from_millis(5000)));
    let users = UserRepo::list(&store, None, 10).await.unwrap();
    assert_eq!(users.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
    let link = authtoken_core::PlainToken::generate().unwrap();
    let owner = store
        .add_reset("alice@example.org", &link.digest(), Timestamp::from_millis(0), Timestamp::from_millis(1))
        .await;
    assert_eq!(owner.unwrap().map(|u| u.id), Some(alice), "the address is found in another case");
    store.close().await;
}
