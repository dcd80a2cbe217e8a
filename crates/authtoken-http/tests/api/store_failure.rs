//! A failing store: every operation answers 503 with a generic `{"detail":…}` body that never shows the store's error.

use std::time::Duration;

use authtoken_core::ports::{CreateUserError, MockTokenRepo, MockUserRepo, StoreError};
use authtoken_core::session::SessionWithUser;
use authtoken_core::user::UserCredentials;
use authtoken_testkit::{FakePasswordHasher, fixtures};
use poem::http::StatusCode;

use super::support::{KNOWN_TOKEN, PASSWORD, Reply, TestApp, send, stored_user};

const SECRET: &str = "connection to db.internal:5432 refused for role authtoken";

#[tokio::test]
async fn login_answers_503_when_the_user_store_fails() {
    let mut users = MockUserRepo::new();
    users.expect_find_by_key().times(1).returning(|_| Err(StoreError::new(SECRET)));
    let Some(app) = TestApp::builder().users(users).build().await else { return };

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;

    assert_unavailable(&reply);
}

#[tokio::test]
async fn login_answers_503_when_the_session_cannot_be_stored() {
    let mut users = MockUserRepo::new();
    users.expect_find_by_key().times(1).returning(|_| {
        Ok(Some(UserCredentials {
            user: stored_user(1, "alice"),
            password_hash: FakePasswordHasher::hash_of(PASSWORD),
        }))
    });
    let mut tokens = MockTokenRepo::new();
    tokens.expect_insert_for_login().times(1).returning(|_, _, _, _| Err(StoreError::new(SECRET)));
    let Some(app) = TestApp::builder().users(users).tokens(tokens).build().await else { return };

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;

    assert_unavailable(&reply);
}

#[tokio::test]
async fn me_answers_503_when_the_session_store_fails() {
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find().times(1).returning(|_| Err(StoreError::new(SECRET)));
    let Some(app) = TestApp::builder().tokens(tokens).build().await else { return };

    let reply = app.me_with(&format!("Token {KNOWN_TOKEN}")).await;

    assert_unavailable(&reply);
}

#[tokio::test]
async fn logout_answers_503_when_the_session_cannot_be_deleted() {
    let (token, session) = fixtures::session(stored_user(1, "alice").id, fixtures::EPOCH, Duration::from_secs(60));
    let found = SessionWithUser { session, user: stored_user(1, "alice") };
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find().times(1).returning(move |_| Ok(Some(found.clone())));
    tokens.expect_touch().times(1).returning(|_, _, _| Ok(true));
    tokens.expect_revoke().times(1).returning(|_, _, _| Err(StoreError::new(SECRET)));
    let Some(app) = TestApp::builder().tokens(tokens).build().await else { return };

    let reply =
        send(app.client.delete("/auth/logout/").header("authorization", format!("Token {}", token.expose()))).await;

    assert_unavailable(&reply);
}

#[tokio::test]
async fn register_answers_503_when_the_user_store_fails() {
    let mut users = MockUserRepo::new();
    users.expect_find_by_username().returning(|_| Ok(None));
    users.expect_create().times(1).returning(|_, _| Err(CreateUserError::Store(StoreError::new(SECRET))));
    let Some(app) = TestApp::builder().registration(true).users(users).build().await else { return };

    let reply = app.post_json("/auth/register/", r#"{"username":"alice","password":"correct horse"}"#).await;

    assert_unavailable(&reply);
}

#[track_caller]
fn assert_unavailable(reply: &Reply) {
    reply.assert_json(
        StatusCode::SERVICE_UNAVAILABLE,
        r#"{"detail":"The service is temporarily unavailable. Try again later."}"#,
    );
    assert!(!reply.body.contains("db.internal"), "{}", reply.body);
    assert_eq!(reply.header("www-authenticate"), None);
}

#[tokio::test]
async fn readyz_answers_503_when_the_store_does_not_answer() {
    let mut tokens = MockTokenRepo::new();
    tokens.expect_ping().times(1).returning(|| Err(StoreError::new(SECRET)));
    let Some(app) = TestApp::builder().tokens(tokens).build().await else { return };

    let reply = send(app.client.get("/readyz")).await;

    assert_unavailable(&reply);
}
