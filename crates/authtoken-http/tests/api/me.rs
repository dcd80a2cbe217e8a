//! `GET /auth/me/`: the authenticated user, with `id` and `username` by default or the configured `user_fields`.

use std::time::Duration;

use authtoken_http::UserField;
use poem::http::StatusCode;

use super::support::{NOT_PROVIDED, PASSWORD, TestApp, send};

#[tokio::test]
async fn me_shows_the_id_and_username_by_default() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", "alice's password").await;
    app.seed_user("bob", PASSWORD).await;
    let token = app.login("bob", PASSWORD).await;

    let reply = app.me_with(&format!("Token {token}")).await;

    reply.assert_json(StatusCode::OK, r#"{"id":2,"username":"bob"}"#);
}

#[tokio::test]
async fn me_works_without_the_trailing_slash() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;

    let reply = send(app.client.get("/auth/me").header("authorization", format!("Token {token}"))).await;

    reply.assert_json(StatusCode::OK, r#"{"id":1,"username":"alice"}"#);
}

#[tokio::test]
async fn me_shows_only_the_configured_user_fields() {
    let Some(app) = TestApp::builder().user_fields(&[UserField::Username]).build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;

    let reply = app.me_with(&format!("Token {token}")).await;

    reply.assert_json(StatusCode::OK, r#"{"username":"alice"}"#);
}

#[tokio::test]
async fn me_shows_every_known_field_in_a_fixed_order_with_null_for_missing_values() {
    let fields = [
        UserField::LastLogin,
        UserField::DateJoined,
        UserField::IsActive,
        UserField::EmailConfirmed,
        UserField::Email,
        UserField::Username,
        UserField::Id,
    ];
    let Some(app) = TestApp::builder().user_fields(&fields).build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    app.clock.advance(Duration::from_millis(90 * 60 * 1000 + 15_250));
    let token = app.login("alice", PASSWORD).await;

    let reply = app.me_with(&format!("Token {token}")).await;

    reply.assert_json(
        StatusCode::OK,
        concat!(
            r#"{"id":1,"username":"alice","email":null,"email_confirmed":false,"is_active":true,"#,
            r#""date_joined":"2026-11-28T00:00:00.000Z","last_login":"2026-11-28T01:30:15.250Z"}"#,
        ),
    );
}

#[tokio::test]
async fn me_without_a_header_is_not_provided() {
    let Some(app) = TestApp::new().await else { return };

    let reply = app.me(None).await;

    reply.assert_unauthenticated(NOT_PROVIDED);
}

#[tokio::test]
async fn me_refuses_other_methods_with_405() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.post("/auth/me/")).await;

    reply.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"POST\" not allowed."}"#);
}
