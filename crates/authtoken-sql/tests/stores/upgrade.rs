//! An existing database upgrades in place. Earlier versions kept each mail's text in the outbox, confirmation link
//! included, and blanked it only once sent; after the upgrade no byte of that text is left in the SQLite file or its
//! write-ahead log, and the waiting mail is still delivered.

use std::path::Path;
use std::time::Duration;

use authtoken_core::outbox::{MailKind, OutboxMail, OutboxState};
use authtoken_core::ports::Outbox as _;
use authtoken_sql::{DatabaseOptions, SqlStore};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

/// The token of a link an earlier version wrote into the outbox.
const OLD_TOKEN: &str = "OldPlaintextTokenOfAnEarlierVersion0123456789abcdefghijklmnopqrs";

/// The migrations of the version before the outbox stopped keeping mail text, copied into `into`.
fn previous_migrations(into: &Path) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().as_ref() < "20261201" {
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
    let migrations = dir.path().join("previous");
    std::fs::create_dir(&migrations).unwrap();
    previous_migrations(&migrations);
    let connect =
        SqliteConnectOptions::new().filename(&database).create_if_missing(true).journal_mode(SqliteJournalMode::Wal);
    let old = SqlitePoolOptions::new().max_connections(1).connect_with(connect).await.unwrap();
    sqlx::migrate::Migrator::new(migrations.as_path()).await.unwrap().run(&old).await.unwrap();
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

    let url = format!("sqlite://{}", database.display());
    let options = DatabaseOptions {
        url,
        max_connections: 2,
        connect_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(10),
    };
    let store = SqlStore::open(&options).await.unwrap();

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
