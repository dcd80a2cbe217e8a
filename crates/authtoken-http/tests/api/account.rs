//! The account: `POST /auth/password/change/` and `POST /auth/me/delete/`.

use poem::http::{StatusCode, header};

use super::support::{INVALID_TOKEN, NOT_PROVIDED, PASSWORD, Reply, TestApp, send};

const NEW: &str = "a new horse";
const WRONG_PASSWORD: &str = r#"{"password":["Your password was entered incorrectly. Please enter it again."]}"#;
const WRONG_OLD: &str = r#"{"current_password":["Your old password was entered incorrectly. Please enter it again."]}"#;

fn auth(token: &str) -> String {
    format!("Token {token}")
}

impl TestApp {
    async fn change(&self, token: &str, body: serde_json::Value) -> Reply {
        let request = self.client.post("/auth/password/change/").header(header::AUTHORIZATION, auth(token));
        send(request.body_json(&body)).await
    }

    async fn delete_me(&self, token: &str, body: &str) -> Reply {
        let request = self.client.post("/auth/me/delete/").header(header::AUTHORIZATION, auth(token));
        send(request.content_type("application/json").body(body.to_owned())).await
    }
}

#[tokio::test]
async fn a_password_change_revokes_the_other_sessions_by_default() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let current = app.login("alice", PASSWORD).await;
    let other = app.login("alice", PASSWORD).await;

    let reply = app.change(&current, serde_json::json!({ "current_password": PASSWORD, "new_password": NEW })).await;

    reply.assert_json(StatusCode::OK, r#"{"success":true,"revoked":1}"#);
    assert_eq!(app.me_with(&auth(&current)).await.status, StatusCode::OK);
    app.me_with(&auth(&other)).await.assert_unauthenticated(INVALID_TOKEN);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_status("alice", NEW).await, StatusCode::OK);
}

#[tokio::test]
async fn a_password_change_keeps_the_other_sessions_when_asked_to() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let current = app.login("alice", PASSWORD).await;
    let other = app.login("alice", PASSWORD).await;
    let form = [("current_password", PASSWORD), ("new_password", NEW), ("revoke_other_sessions", "false")];

    let request = app.client.post("/auth/password/change").header(header::AUTHORIZATION, auth(&current));
    let reply = send(request.form(&form)).await;

    reply.assert_json(StatusCode::OK, r#"{"success":true,"revoked":0}"#);
    assert_eq!(app.me_with(&auth(&other)).await.status, StatusCode::OK);
    assert_eq!(app.login_status("alice", NEW).await, StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_current_password_or_a_bad_new_one_changes_nothing() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    let other = app.login("alice", PASSWORD).await;

    let wrong = app.change(&token, serde_json::json!({ "current_password": "guess", "new_password": NEW })).await;
    let missing = app.change(&token, serde_json::json!({ "new_password": NEW })).await;
    let short = app.change(&token, serde_json::json!({ "current_password": PASSWORD, "new_password": "short" })).await;
    let absent = app.change(&token, serde_json::json!({ "current_password": PASSWORD })).await;
    let flag =
        serde_json::json!({ "current_password": PASSWORD, "new_password": NEW, "revoke_other_sessions": "maybe" });
    let not_boolean = app.change(&token, flag).await;

    wrong.assert_json(StatusCode::BAD_REQUEST, WRONG_OLD);
    missing.assert_json(StatusCode::BAD_REQUEST, WRONG_OLD);
    short.assert_json(StatusCode::BAD_REQUEST, r#"{"new_password":["password too short"]}"#);
    absent.assert_json(StatusCode::BAD_REQUEST, r#"{"new_password":["This field is required."]}"#);
    not_boolean.assert_json(StatusCode::BAD_REQUEST, r#"{"revoke_other_sessions":["Must be a valid boolean."]}"#);
    assert_eq!(app.me_with(&auth(&other)).await.status, StatusCode::OK);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_ends_everything() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    app.seed_user("bob", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    let other = app.login("alice", PASSWORD).await;
    let bob = app.login("bob", PASSWORD).await;

    app.delete_me(&token, r#"{"password":"guess"}"#).await.assert_json(StatusCode::BAD_REQUEST, WRONG_PASSWORD);
    app.delete_me(&token, "{}").await.assert_json(StatusCode::BAD_REQUEST, WRONG_PASSWORD);
    assert_eq!(app.session_count(alice).await, 2, "a wrong password deletes nothing");
    let reply = app.delete_me(&token, r#"{"password":"correct horse"}"#).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(reply.body, "");
    app.me_with(&auth(&token)).await.assert_unauthenticated(INVALID_TOKEN);
    app.me_with(&auth(&other)).await.assert_unauthenticated(INVALID_TOKEN);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.session_count(alice).await, 0);
    assert_eq!(app.me_with(&auth(&bob)).await.status, StatusCode::OK);
    assert_eq!(app.users.find_by_username("alice").await.unwrap(), None);
}

#[tokio::test]
async fn the_account_routes_need_a_token_before_anything_else() {
    let Some(app) = TestApp::new().await else { return };

    for path in ["/auth/password/change/", "/auth/me/delete/"] {
        send(app.client.post(path).content_type("text/plain").body("{")).await.assert_unauthenticated(NOT_PROVIDED);
    }
}
