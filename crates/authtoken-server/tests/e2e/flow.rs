//! The README's curl flow over real HTTP: register, duplicate, login, me, logout.

use reqwest::StatusCode;
use serde_json::{Value, json};

use authtoken_sql::Backend;

use crate::support::{CHEAP_ARGON2, Server, database};

async fn login(client: &reqwest::Client, server: &Server, username: &str, password: &str) -> String {
    let response = client
        .post(server.url("/auth/login/"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn the_readme_flow_works_on_sqlite() {
    readme_flow(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn the_readme_flow_works_on_postgres() {
    readme_flow(Backend::Postgres).await;
}

async fn readme_flow(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let server = Server::start(&database.options.url, &CHEAP_ARGON2);
    let client = reqwest::Client::new();
    let credentials = json!({ "username": "john", "password": "correct horse" });

    let registered = client.post(server.url("/auth/register/")).json(&credentials).send().await.unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    assert_eq!(registered.text().await.unwrap(), r#"{"success":true}"#);

    let duplicate = client.post(server.url("/auth/register/")).json(&credentials).send().await.unwrap();
    assert_eq!(duplicate.status(), StatusCode::BAD_REQUEST);
    assert_eq!(duplicate.text().await.unwrap(), r#"{"username":["A user with that username already exists."]}"#);

    let wrong = client
        .post(server.url("/auth/login/"))
        .json(&json!({ "username": "john", "password": "wrong horse" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("www-authenticate").is_none());
    assert_eq!(wrong.text().await.unwrap(), r#""invalid credentials""#);

    let first = login(&client, &server, "john", "correct horse").await;
    let second = login(&client, &server, "john", "correct horse").await;
    assert_eq!(first.len(), 64);
    assert_ne!(first, second);

    let me =
        client.get(server.url("/auth/me/")).header("Authorization", format!("Token {first}")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.text().await.unwrap(), r#"{"id":1,"username":"john"}"#);

    let logout = client
        .delete(server.url("/auth/logout/"))
        .header("Authorization", format!("Token {first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(logout.text().await.unwrap(), "");

    let revoked =
        client.get(server.url("/auth/me")).header("Authorization", format!("Token {first}")).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(revoked.headers()["www-authenticate"], "Token");
    assert_eq!(revoked.text().await.unwrap(), r#"{"detail":"invalid auth token"}"#);

    let other =
        client.get(server.url("/auth/me")).header("Authorization", format!("token {second}")).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);

    let log = server.log();
    for secret in [first.as_str(), second.as_str(), "correct horse", "wrong horse"] {
        assert!(!log.contains(secret), "the log contains a secret:\n{log}");
    }
}

#[tokio::test]
async fn health_and_documentation_are_served() {
    let database = database(Backend::Sqlite).await.unwrap();
    let server = Server::start(&database.options.url, &CHEAP_ARGON2);
    let client = reqwest::Client::new();

    let health = client.get(server.url("/healthz")).send().await.unwrap();
    let docs = client.get(server.url("/docs")).send().await.unwrap();

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), r#"{"status":"ok"}"#);
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}
