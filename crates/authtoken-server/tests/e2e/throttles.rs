//! The throttles with the real binary: two servers on one database count together with `throttle_store =
//! database` (the default on PostgreSQL) and each on its own with `memory`.

use authtoken_sql::Backend;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Server, database};

/// Three failed logins of one account from one address per hour, and every other limit at its default.
const LIMIT: (&str, &str) = ("AUTHTOKEN_THROTTLE_LOGIN_FAILURES_IP_ACCOUNT", "3/1h");

async fn register(server: &Server, username: &str) {
    let body = json!({ "username": username, "password": "correct horse" });
    let response = reqwest::Client::new().post(server.url("/auth/register/")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// The status of a login, and its `Retry-After` when it has one.
async fn login(server: &Server, username: &str, password: &str) -> (StatusCode, Option<String>) {
    let body = json!({ "username": username, "password": password });
    let response = reqwest::Client::new().post(server.url("/auth/login/")).json(&body).send().await.unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (response.status(), retry_after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn two_servers_on_one_postgres_database_add_up_their_attempts_by_default() {
    add_up(Backend::Postgres, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_sqlite_file_add_up_their_attempts_with_the_database_store() {
    add_up(Backend::Sqlite, Some("database")).await;
}

async fn add_up(backend: Backend, store: Option<&str>) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    let mut settings = vec![LIMIT];
    settings.extend(store.map(|store| ("AUTHTOKEN_THROTTLE_STORE", store)));
    let (one, two) = (Server::start(url, &settings), Server::start(url, &settings));
    register(&one, "alice").await;
    register(&two, "bob").await;

    assert_eq!(login(&one, "alice", "guess one").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&two, "alice", "guess two").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&one, "alice", "guess three").await.0, StatusCode::UNAUTHORIZED);

    for server in [&one, &two] {
        let (status, retry_after) = login(server, "alice", "correct horse").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let seconds: u64 = retry_after.expect("a Retry-After").parse().unwrap();
        assert!((1_190..=1_200).contains(&seconds), "{seconds}");
    }
    assert_eq!(login(&two, "bob", "correct horse").await.0, StatusCode::OK, "another account is not slowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn with_the_memory_store_each_server_counts_on_its_own() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let url = database.options.url.as_str();
    let settings = [LIMIT, ("AUTHTOKEN_THROTTLE_STORE", "memory")];
    let (one, two) = (Server::start(url, &settings), Server::start(url, &settings));
    register(&one, "alice").await;
    for _ in 0..3 {
        assert_eq!(login(&one, "alice", "guess").await.0, StatusCode::UNAUTHORIZED);
    }

    assert_eq!(login(&one, "alice", "correct horse").await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login(&two, "alice", "correct horse").await.0, StatusCode::OK);
}
