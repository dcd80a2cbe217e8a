//! `POST /auth/login/`: JSON, form and multipart bodies, the token response, and one 401 for every kind of failure.

use authtoken_http::UserField;
use poem::http::StatusCode;
use poem::test::{TestForm, TestFormField};

use super::support::{PASSWORD, Reply, TestApp, send};

#[tokio::test]
async fn a_json_login_answers_a_64_character_url_safe_token() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;

    assert_token_only(&reply);
}

#[tokio::test]
async fn a_form_login_answers_a_token() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let reply = send(app.client.post("/auth/login/").form(&[("username", "alice"), ("password", PASSWORD)])).await;

    assert_token_only(&reply);
}

#[tokio::test]
async fn a_multipart_login_answers_a_token() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let form = TestForm::new().text("username", "alice").text("password", PASSWORD);

    let reply = send(app.client.post("/auth/login/").multipart(form)).await;

    assert_token_only(&reply);
}

#[tokio::test]
async fn a_json_content_type_with_a_charset_is_still_json() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let body = r#"{"username":"alice","password":"correct horse"}"#;

    let reply = send(app.client.post("/auth/login/").content_type("application/json; charset=utf-8").body(body)).await;

    assert_token_only(&reply);
}

#[tokio::test]
async fn every_login_issues_a_different_token() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;

    let first = app.login("alice", PASSWORD).await;
    let second = app.login("alice", PASSWORD).await;

    assert_ne!(first, second);
    assert_eq!(app.session_count(alice).await, 2);
}

#[tokio::test]
async fn the_login_path_works_with_and_without_the_trailing_slash() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let body = r#"{"username":"alice","password":"correct horse"}"#;

    let with_slash = app.post_json("/auth/login/", body).await;
    let without_slash = app.post_json("/auth/login", body).await;

    assert_token_only(&with_slash);
    assert_token_only(&without_slash);
}

#[tokio::test]
async fn configured_user_fields_add_the_user_after_the_token() {
    let Some(app) = TestApp::builder().user_fields(&[UserField::Id, UserField::Username]).build().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;

    let token = reply.token();
    reply.assert_json(StatusCode::OK, &format!(r#"{{"token":"{token}","user":{{"id":1,"username":"alice"}}}}"#));
    assert_url_safe_token(&token);
}

#[tokio::test]
async fn the_user_on_login_shows_this_login_as_the_last_one() {
    let fields = [UserField::Username, UserField::DateJoined, UserField::LastLogin];
    let Some(app) = TestApp::builder().user_fields(&fields).build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    app.clock.advance(std::time::Duration::from_millis(90 * 60 * 1000 + 15_250));

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;

    let token = reply.token();
    let user =
        r#"{"username":"alice","date_joined":"2026-11-28T00:00:00.000Z","last_login":"2026-11-28T01:30:15.250Z"}"#;
    reply.assert_json(StatusCode::OK, &format!(r#"{{"token":"{token}","user":{user}}}"#));
}

#[tokio::test]
async fn a_wrong_password_is_invalid_credentials() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":"wrong horse"}"#).await;

    assert_invalid_credentials(&reply);
    assert_eq!(app.session_count(alice).await, 0);
}

#[tokio::test]
async fn an_unknown_user_is_invalid_credentials() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let reply = app.post_json("/auth/login/", r#"{"username":"bob","password":"correct horse"}"#).await;

    assert_invalid_credentials(&reply);
}

#[tokio::test]
async fn an_inactive_user_is_invalid_credentials() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    app.deactivate(alice).await;

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;

    assert_invalid_credentials(&reply);
    assert_eq!(app.session_count(alice).await, 0);
}

#[tokio::test]
async fn a_password_is_compared_as_typed_without_trimming() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":" correct horse "}"#).await;

    assert_invalid_credentials(&reply);
}

#[tokio::test]
async fn missing_empty_and_non_string_fields_are_invalid_credentials() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;

    check(app.post_json("/auth/login/", r#"{"username":"alice"}"#).await);
    check(app.post_json("/auth/login/", r#"{"password":"correct horse"}"#).await);
    check(app.post_json("/auth/login/", "{}").await);
    check(app.post_json("/auth/login/", "").await);
    check(send(app.client.post("/auth/login/")).await);
    check(send(app.client.post("/auth/login/").form(&[("username", "alice")])).await);
    check(send(app.client.post("/auth/login/").multipart(TestForm::new().text("username", "alice"))).await);
    check(app.post_json("/auth/login/", r#"{"username":1,"password":"correct horse"}"#).await);
    check(app.post_json("/auth/login/", r#"{"username":"alice","password":12345678}"#).await);
    check(app.post_json("/auth/login/", r#"{"username":"alice","password":null}"#).await);
    check(app.post_json("/auth/login/", r#"{"username":null,"password":"correct horse"}"#).await);
    check(app.post_json("/auth/login/", r#"{"username":["alice"],"password":"correct horse"}"#).await);
    check(app.post_json("/auth/login/", r#"{"username":"alice","password":["correct horse"]}"#).await);
    check(app.post_json("/auth/login/", r#"{"username":"alice","password":{"a":1}}"#).await);
    check(app.post_json("/auth/login/", r#"{"username":"alice","password":true}"#).await);
    check(app.post_json("/auth/login/", r#"["alice","correct horse"]"#).await);
    check(app.post_json("/auth/login/", "[]").await);
    check(app.post_json("/auth/login/", r#""alice""#).await);
    check(app.post_json("/auth/login/", "null").await);
    check(app.post_json("/auth/login/", "42").await);
    assert_eq!(app.session_count(alice).await, 0);
}

#[tokio::test]
async fn a_file_part_is_not_a_field() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let password_file = TestFormField::bytes(PASSWORD).name("password").filename("password.txt");
    let form = TestForm::new().text("username", "alice").field(password_file);

    let reply = send(app.client.post("/auth/login/").multipart(form)).await;

    assert_invalid_credentials(&reply);
}

#[tokio::test]
async fn the_login_ignores_a_stale_or_garbage_authorization_header() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let stale = app.login("alice", PASSWORD).await;
    app.clock.advance(std::time::Duration::from_secs(2 * 24 * 60 * 60));
    let body = r#"{"username":"alice","password":"correct horse"}"#;
    let login_with = |authorization: String| {
        send(
            app.client
                .post("/auth/login/")
                .header("authorization", authorization)
                .content_type("application/json")
                .body(body),
        )
    };

    let with_stale = login_with(format!("Token {stale}")).await;
    let with_garbage = login_with("Token not-a-token at all".to_owned()).await;
    let with_keyword_alone = login_with("Token".to_owned()).await;

    assert_token_only(&with_stale);
    assert_token_only(&with_garbage);
    assert_token_only(&with_keyword_alone);
}

#[tokio::test]
async fn a_case_insensitive_service_logs_in_any_case_variant() {
    let Some(app) = TestApp::builder().case_insensitive().build().await else { return };
    app.seed_user("Alice", PASSWORD).await;

    let reply = app.post_json("/auth/login/", r#"{"username":"aLICE","password":"correct horse"}"#).await;

    assert_token_only(&reply);
}

#[tokio::test]
async fn a_case_sensitive_service_refuses_a_case_variant() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("Alice", PASSWORD).await;

    let reply = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;

    assert_invalid_credentials(&reply);
}

/// The login failure: the JSON string `"invalid credentials"` and no challenge.
#[track_caller]
fn check(reply: Reply) {
    assert_invalid_credentials(&reply);
}

#[track_caller]
fn assert_invalid_credentials(reply: &Reply) {
    reply.assert_json(StatusCode::UNAUTHORIZED, r#""invalid credentials""#);
    assert_eq!(reply.header("www-authenticate"), None);
}

/// A 200 whose body is exactly `{"token":"<64 URL-safe characters>"}`.
#[track_caller]
fn assert_token_only(reply: &Reply) {
    let token = reply.token();
    reply.assert_json(StatusCode::OK, &format!(r#"{{"token":"{token}"}}"#));
    assert_url_safe_token(&token);
}

#[track_caller]
fn assert_url_safe_token(token: &str) {
    assert_eq!(token.len(), 64, "{token}");
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
}
