//! The store contract suites against real SQLite database files.

use std::time::Duration;

use authtoken_sql::{SqliteOptions, SqliteStore};
use authtoken_testkit::contract::Stores;

/// A new database file in its own temporary directory, removed when the test's stores are dropped.
async fn fresh() -> Stores {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = SqliteOptions {
        url: format!("sqlite://{}", dir.path().join("test.sqlite3").display()),
        max_connections: 4,
        busy_timeout: Duration::from_secs(5),
    };
    Stores::of(SqliteStore::open(&options).await.expect("the store opens")).keeping(dir)
}

authtoken_testkit::store_contract_suite!(fresh);
