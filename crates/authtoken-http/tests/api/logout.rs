//! `DELETE /auth/logout/`: revokes the presented token only; other methods authenticate first, then answer 405.

use poem::http::StatusCode;

use super::support::{INVALID_TOKEN, NOT_PROVIDED, PASSWORD, TestApp, send};

#[tokio::test]
async fn logout_answers_204_with_an_empty_body() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;

    let reply = send(app.client.delete("/auth/logout/").header("authorization", format!("Token {token}"))).await;

    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_eq!(app.session_count(alice).await, 0);
}

#[tokio::test]
async fn logout_works_without_the_trailing_slash() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;

    let reply = send(app.client.delete("/auth/logout").header("authorization", format!("Token {token}"))).await;

    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::NO_CONTENT, ""));
}

#[tokio::test]
async fn logout_revokes_only_the_presented_token() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let phone = app.login("alice", PASSWORD).await;
    let laptop = app.login("alice", PASSWORD).await;

    let reply = send(app.client.delete("/auth/logout/").header("authorization", format!("Token {phone}"))).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    app.me_with(&format!("Token {phone}")).await.assert_unauthenticated(INVALID_TOKEN);
    app.me_with(&format!("Token {laptop}")).await.assert_json(StatusCode::OK, r#"{"id":1,"username":"alice"}"#);
    assert_eq!(app.session_count(alice).await, 1);
}

#[tokio::test]
async fn a_revoked_token_cannot_log_out_again() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    let logout = || send(app.client.delete("/auth/logout/").header("authorization", format!("Token {token}")));
    assert_eq!(logout().await.status, StatusCode::NO_CONTENT);

    let reply = logout().await;

    reply.assert_unauthenticated(INVALID_TOKEN);
}

#[tokio::test]
async fn logout_without_a_header_is_not_provided() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.delete("/auth/logout/")).await;

    reply.assert_unauthenticated(NOT_PROVIDED);
}

#[tokio::test]
async fn get_and_post_on_logout_without_a_token_answer_401_not_provided() {
    let Some(app) = TestApp::new().await else { return };

    let get = send(app.client.get("/auth/logout/")).await;
    let post = send(app.client.post("/auth/logout/")).await;
    let post_without_slash = send(app.client.post("/auth/logout")).await;

    get.assert_unauthenticated(NOT_PROVIDED);
    post.assert_unauthenticated(NOT_PROVIDED);
    post_without_slash.assert_unauthenticated(NOT_PROVIDED);
}

#[tokio::test]
async fn get_on_logout_with_a_bad_token_answers_401_invalid_auth_token() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.get("/auth/logout/").header("authorization", "Token x")).await;

    reply.assert_unauthenticated(INVALID_TOKEN);
}

#[tokio::test]
async fn get_and_post_on_logout_with_a_valid_token_answer_405_and_keep_the_session() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let authorization = format!("Token {}", app.login("alice", PASSWORD).await);

    let get = send(app.client.get("/auth/logout/").header("authorization", authorization.as_str())).await;
    let post = send(app.client.post("/auth/logout").header("authorization", authorization.as_str())).await;
    let put = send(app.client.put("/auth/logout/").header("authorization", authorization.as_str())).await;

    get.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"GET\" not allowed."}"#);
    post.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"POST\" not allowed."}"#);
    put.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"PUT\" not allowed."}"#);
    assert_eq!(get.header("www-authenticate"), None);
    assert_eq!(app.session_count(alice).await, 1);
}

#[tokio::test]
async fn logout_under_a_custom_prefix_authenticates_other_methods_first() {
    let Some(app) = TestApp::builder().prefix("/api/v1/auth").build().await else { return };

    let reply = send(app.client.get("/api/v1/auth/logout/")).await;

    reply.assert_unauthenticated(NOT_PROVIDED);
}
