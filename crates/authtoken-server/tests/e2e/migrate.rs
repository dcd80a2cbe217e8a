//! Migrations: two servers starting at once against one empty PostgreSQL database migrate it once, in turn.

use std::process::Stdio;

use authtoken_sql::Backend;

use crate::support::{binary, database};

#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn two_migrations_started_together_both_succeed_and_apply_each_migration_once() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let start = || {
        binary()
            .arg("migrate")
            .env("AUTHTOKEN_DATABASE_URL", &database.options.url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts")
    };

    let (first, second) = (start(), start());
    let outputs = [first.wait_with_output().unwrap(), second.wait_with_output().unwrap()];

    for output in &outputs {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let pool = sqlx::PgPool::connect(&database.options.url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&pool).await.unwrap();
    let expected =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres")).unwrap().count();
    assert_eq!(applied, i64::try_from(expected).unwrap());
}
