//! The example end to end: the application on a real port over a real SQLite file and real Argon2id, driven by
//! an HTTP client.

use authtoken_argon2::Argon2Params;
use authtoken_core::AuthService;
use authtoken_core::service::{FieldValue, RegistrationForm};
use reqwest::StatusCode;

/// Cheap Argon2id, so the test runs fast; the service's real parameters are tested in `authtoken-argon2`.
const CHEAP: Argon2Params = Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 };

/// The application on `127.0.0.1:0`, its base URL, and the database it keeps until dropped.
async fn spawn_app() -> (String, AuthService, authtoken_sql::testing::TestDatabase) {
    let database = authtoken_sql::testing::sqlite();
    let service = axum_notes::service(&database.options.url, CHEAP).await.expect("the service starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("a local address"));
    let app = axum_notes::app(service.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, service, database)
}

async fn register(service: &AuthService, username: &str, password: &str) {
    let form = RegistrationForm {
        username: FieldValue::Text(username.to_owned()),
        password: FieldValue::Text(password.to_owned()),
        email: FieldValue::Missing,
        languages: Vec::new(),
        client: authtoken_core::session::ClientInfo::default(),
    };
    service.register(form).await.expect("the user is registered");
}

#[tokio::test]
async fn a_logged_in_user_reads_notes_until_logging_out() {
    let (base, service, _database) = spawn_app().await;
    register(&service, "alice", "correct horse").await;
    let client = reqwest::Client::new();
    let credentials = serde_json::json!({ "username": "alice", "password": "correct horse" });

    let login = client.post(format!("{base}/login")).json(&credentials).send().await.unwrap();
    let token = login.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let notes = client.get(format!("{base}/notes")).header("Authorization", format!("Token {token}")).send().await;
    let logout = client.post(format!("{base}/logout")).header("Authorization", format!("Token {token}")).send().await;
    let after = client.get(format!("{base}/notes")).header("Authorization", format!("Token {token}")).send().await;

    assert_eq!(notes.unwrap().text().await.unwrap(), "the notes of alice");
    assert_eq!(logout.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(after.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn notes_need_a_valid_token() {
    let (base, service, _database) = spawn_app().await;
    register(&service, "alice", "correct horse").await;
    let client = reqwest::Client::new();
    let wrong = serde_json::json!({ "username": "alice", "password": "wrong horse" });

    let without = client.get(format!("{base}/notes")).send().await.unwrap();
    let forged = format!("Token {}", "A".repeat(64));
    let forged = client.get(format!("{base}/notes")).header("Authorization", forged).send().await.unwrap();
    let bad_login = client.post(format!("{base}/login")).json(&wrong).send().await.unwrap();

    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(without.headers()["www-authenticate"], "Token");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(bad_login.status(), StatusCode::UNAUTHORIZED);
}
