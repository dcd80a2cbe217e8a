//! `authtoken-http`'s HTTP suite over the SQL stores: the same test files, once over a SQLite file and once over a
//! PostgreSQL schema, each test on a fresh database, so the whole HTTP behaviour is shown alike on both backends.
//!
//! Each backend module takes the suite's files from `authtoken-http/tests/api` (the `path` on the module names
//! that directory) and supplies only `stores::fresh`, which the suite's `support.rs` builds every `TestApp` on.
//! Without `AUTHTOKEN_TEST_POSTGRES_URL` (and outside CI) the PostgreSQL half is not built, and one ignored test
//! stands for it in the summary.

#![allow(clippy::duplicate_mod, reason = "each backend module loads the same test files, which is the point")]

use std::collections::BTreeSet;
use std::path::Path;

/// The suite's modules, as `authtoken-http/tests/api/main.rs` declares them.
macro_rules! http_suite {
    () => {
        mod account;
        mod authorization;
        mod client_ip;
        mod concurrency;
        mod confirmation;
        mod cors;
        mod envelopes;
        mod events;
        mod headers;
        mod host;
        mod login;
        mod logout;
        mod me;
        mod openapi;
        mod register;
        mod reply;
        mod reset;
        mod schema;
        mod sessions;
        mod store_failure;
        mod support;
        mod throttle;
        mod token_prefix;
    };
}

#[path = "../../../authtoken-http/tests/api"]
mod sqlite {
    http_suite!();

    /// The stores behind every `TestApp` of this module.
    mod stores {
        use authtoken_sql::{SqlStore, testing};
        use authtoken_testkit::contract::Stores;

        /// A store on a new SQLite file, removed when the stores are dropped.
        pub(super) async fn fresh() -> Option<Stores> {
            let database = testing::sqlite();
            let store = SqlStore::open(&database.options).await.expect("the SQLite store opens");
            Some(Stores::of(store).keeping(database))
        }
    }
}

/// Built only where the PostgreSQL tests run (the `postgres_tests` cfg of `authtoken-sql/build.rs`); elsewhere
/// [`the_http_suite_on_postgres_did_not_run`] stands for it, as one ignored test.
#[cfg(postgres_tests)]
#[path = "../../../authtoken-http/tests/api"]
mod postgres {
    http_suite!();

    /// The stores behind every `TestApp` of this module.
    mod stores {
        use authtoken_sql::{SqlStore, testing};
        use authtoken_testkit::contract::Stores;

        /// A store on a new PostgreSQL schema, dropped when the stores are dropped; `None` without a server.
        pub(super) async fn fresh() -> Option<Stores> {
            let database = testing::postgres().await?;
            let store = SqlStore::open(&database.options).await.expect("the PostgreSQL store opens");
            Some(Stores::of(store).keeping(database))
        }
    }
}

/// Reports the HTTP suite's PostgreSQL half as ignored in a run without PostgreSQL, rather than leaving it out
/// silently; asked for with `--ignored`, it fails and says what to set.
#[cfg(not(postgres_tests))]
#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "the HTTP suite on PostgreSQL needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL"
)]
fn the_http_suite_on_postgres_did_not_run() {
    panic!("the HTTP suite on PostgreSQL was not built: set AUTHTOKEN_TEST_POSTGRES_URL and run the tests again");
}

/// A new file in `authtoken-http/tests/api` runs here too, or this test names it.
#[test]
fn the_sql_backends_run_every_file_of_the_http_suite() {
    let declared: BTreeSet<String> = include_str!("main.rs")
        .lines()
        .filter_map(|line| line.trim().strip_prefix("mod ")?.strip_suffix(';').map(|name| format!("{name}.rs")))
        .collect();

    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../authtoken-http/tests/api");
    let files: BTreeSet<String> = std::fs::read_dir(&directory)
        .expect("the HTTP suite's directory can be read")
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs") && name != "main.rs")
        .collect();

    assert_eq!(declared, files, "the modules of `http_suite!` and the files of {}", directory.display());
}
