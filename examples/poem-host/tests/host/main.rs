//! The example through `poem::test::TestClient` over a real SQLite file and real Argon2id: a user registers and
//! logs in through authtoken's routes, then reads the application's own endpoint with the token.

use authtoken_argon2::Argon2Params;
use poem::http::StatusCode;
use poem::test::TestClient;

/// Cheap Argon2id, so the test runs fast; the service's real parameters are tested in `authtoken-argon2`.
const CHEAP: Argon2Params = Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 };

#[tokio::test]
async fn a_user_registered_through_authtoken_reads_the_hosts_notes() {
    let database = authtoken_sql::testing::sqlite();
    let service = poem_host::service(&database.options.url, CHEAP).await.expect("the service starts");
    let client = TestClient::new(poem_host::app(service));
    let credentials = serde_json::json!({ "username": "alice", "password": "correct horse" });

    let registered = client.post("/auth/register/").body_json(&credentials).send().await;
    let login = client.post("/auth/login/").body_json(&credentials).send().await;
    let token = login.json().await.value().object().get("token").string().to_owned();
    let notes = client.get("/api/notes").header("Authorization", format!("Token {token}")).send().await;
    let me = client.get("/auth/me/").header("Authorization", format!("Token {token}")).send().await;

    registered.assert_status(StatusCode::CREATED);
    notes.assert_status_is_ok();
    notes.assert_text("the notes of alice").await;
    me.assert_status_is_ok();
}

#[tokio::test]
async fn the_hosts_endpoint_refuses_a_missing_token_with_authtokens_401() {
    let database = authtoken_sql::testing::sqlite();
    let service = poem_host::service(&database.options.url, CHEAP).await.expect("the service starts");
    let client = TestClient::new(poem_host::app(service));

    let notes = client.get("/api/notes").send().await;

    notes.assert_status(StatusCode::UNAUTHORIZED);
    notes.assert_header("www-authenticate", "Token");
    notes.assert_json(serde_json::json!({ "detail": "Authentication credentials were not provided." })).await;
}

#[tokio::test]
async fn both_documents_are_served_and_the_hosts_names_the_token_scheme() {
    let database = authtoken_sql::testing::sqlite();
    let service = poem_host::service(&database.options.url, CHEAP).await.expect("the service starts");
    let client = TestClient::new(poem_host::app(service));

    let authtoken = client.get("/openapi.json").send().await;
    let host = client.get("/api/openapi.json").send().await;

    authtoken.assert_status_is_ok();
    host.assert_status_is_ok();
    let host = host.json().await;
    let scheme = host.value().object().get("components").object().get("securitySchemes").object().get("TokenAuth");
    scheme.object().get("in").assert_string("header");
    scheme.object().get("name").assert_string("Authorization");
}
