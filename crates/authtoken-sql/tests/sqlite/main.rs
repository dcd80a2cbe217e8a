//! The store contract suites against real SQLite database files.

use std::time::Duration;

use authtoken_sql::{SqliteOptions, SqliteStore};
use authtoken_testkit::contract::Stores;

/// A new database file in its own temporary directory, kept until the process ends.
async fn fresh() -> Stores {
    let dir = tempfile::tempdir().expect("a temporary directory").keep();
    let options = SqliteOptions {
        url: format!("sqlite://{}", dir.join("test.sqlite3").display()),
        max_connections: 4,
        busy_timeout: Duration::from_secs(5),
    };
    Stores::of(SqliteStore::open(&options).await.expect("the store opens"))
}

authtoken_testkit::store_contract_suite!(fresh);
