//! Throwaway databases for tests: a SQLite file in a temporary directory, or a fresh schema in PostgreSQL.
//!
//! PostgreSQL tests read `AUTHTOKEN_TEST_POSTGRES_URL`. In CI (`CI` set) a missing URL is a failure;
//! elsewhere the PostgreSQL tests say once that they did not run, and how to run them.

use std::io::Write as _;
use std::sync::Once;
use std::time::Duration;

use rand::RngExt as _;

use crate::options::DatabaseOptions;

/// The variable that points the tests at a PostgreSQL server.
pub const POSTGRES_URL_VAR: &str = "AUTHTOKEN_TEST_POSTGRES_URL";

/// A database that exists until this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    pub options: DatabaseOptions,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Directory(#[allow(dead_code, reason = "held only to be dropped")] tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

/// Options for a test store; short timeouts so a broken database fails a test quickly.
fn options(url: String) -> DatabaseOptions {
    DatabaseOptions {
        url,
        max_connections: 8,
        connect_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(10),
    }
}

/// A new SQLite file in its own temporary directory.
pub fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
    TestDatabase { options: options(url), cleanup: Cleanup::Directory(dir) }
}

/// A new, empty schema in the PostgreSQL database of `AUTHTOKEN_TEST_POSTGRES_URL`, or `None` outside CI without it.
///
/// # Panics
///
/// In CI, when the variable is missing or the server cannot be reached: a PostgreSQL test must fail there, not skip.
pub async fn postgres() -> Option<TestDatabase> {
    let admin_url = postgres_url()?;
    let schema = format!("test_{:016x}", rand::rng().random::<u64>());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_URL_VAR}: {e}"));
    // The schema name is made here from hex digits only, so it is safe to write into the statement.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create a test schema: {e}"));
    admin.close().await;
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
    Some(TestDatabase { options: options(url), cleanup: Cleanup::Schema { admin_url, schema } })
}

/// The PostgreSQL URL for tests, if any; see [`postgres`].
pub fn postgres_url() -> Option<String> {
    static NOTICE: Once = Once::new();
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{POSTGRES_URL_VAR} is not set: in CI the PostgreSQL tests must run (see .ci/run)")
        }
        _ => {
            // Written to stderr directly: the test harness captures `eprintln!`, and this note must be seen.
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: the PostgreSQL tests did not run; set {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/test to run them"
                );
            });
            None
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Schema { admin_url, schema } = &self.cleanup else {
            return;
        };
        let (admin_url, schema) = (admin_url.clone(), schema.clone());
        // Drop may run inside an async runtime, which cannot be blocked on; a thread of its own can.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .execute(&admin)
                    .await
                    .ok()?;
                admin.close().await;
                Some(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("note: could not drop the test schema {}", self.cleanup_name());
        }
    }
}

impl TestDatabase {
    fn cleanup_name(&self) -> &str {
        match &self.cleanup {
            Cleanup::Directory(_) => "directory",
            Cleanup::Schema { schema, .. } => schema,
        }
    }
}
