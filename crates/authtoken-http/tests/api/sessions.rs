//! The session inventory: `GET /auth/sessions/`, `DELETE /auth/sessions/{id}/`, `POST /auth/logout/others/` and
//! `POST /auth/logout/all/`.

use std::time::Duration;

use poem::http::{StatusCode, header};
use poem::test::TestForm;

use super::support::{INVALID_TOKEN, NOT_PROVIDED, PASSWORD, Reply, TestApp, send};

const WRONG_PASSWORD: &str = r#"{"password":["Your password was entered incorrectly. Please enter it again."]}"#;

fn auth(token: &str) -> String {
    format!("Token {token}")
}

impl TestApp {
    async fn sessions(&self, token: &str) -> Reply {
        send(self.client.get("/auth/sessions/").header(header::AUTHORIZATION, auth(token))).await
    }

    async fn revoke(&self, token: &str, id: &str) -> Reply {
        send(self.client.delete(format!("/auth/sessions/{id}/")).header(header::AUTHORIZATION, auth(token))).await
    }

    async fn logout_many(&self, path: &str, token: &str, body: &str) -> Reply {
        let request = self.client.post(path).header(header::AUTHORIZATION, auth(token));
        send(request.content_type("application/json").body(body.to_owned())).await
    }

    /// The public ids `GET /auth/sessions/` lists for the token's user, in order.
    async fn session_ids(&self, token: &str) -> Vec<String> {
        let reply = self.sessions(token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let listed = reply.json();
        listed.as_array().expect("a list").iter().map(|s| s["id"].as_str().expect("an id").to_owned()).collect()
    }
}

#[tokio::test]
async fn sessions_lists_the_callers_sessions_newest_first_with_their_details() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    app.seed_user("bob", PASSWORD).await;
    let first = app.login("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(60));
    let login = serde_json::json!({ "username": "alice", "password": PASSWORD });
    let second = send(app.client.post("/auth/login/").header(header::USER_AGENT, "Firefox/140 é").body_json(&login))
        .await
        .token();
    app.login("bob", PASSWORD).await;
    app.clock.advance(Duration::from_secs(60));

    let reply = app.sessions(&first).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let listed = reply.json();
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 2, "bob's session is not listed: {listed:?}");
    let (newer, older) = (&listed[0], &listed[1]);
    let keys: Vec<_> = newer.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "created", "last_used", "expires", "user_agent", "ip", "current"]);
    assert_eq!(newer["created"], "2026-11-28T00:01:00.000Z");
    assert_eq!(newer["expires"], "2026-11-29T00:01:00.000Z");
    assert_eq!(newer["last_used"], serde_json::Value::Null, "never used since the login");
    assert_eq!(newer["user_agent"], "Firefox/140 é");
    assert_eq!(newer["current"], false);
    assert_eq!(older["created"], "2026-11-28T00:00:00.000Z");
    assert_eq!(older["last_used"], "2026-11-28T00:02:00.000Z", "this request is a use");
    assert_eq!(older["current"], true);
    assert_eq!(newer["id"].as_str().unwrap().len(), 22);
    assert!(!reply.body.contains(&first) && !reply.body.contains(&second), "no token is ever listed");
}

#[tokio::test]
async fn a_revoked_session_no_longer_authenticates_and_others_do() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let current = app.login("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(1));
    let other = app.login("alice", PASSWORD).await;
    let ids = app.session_ids(&other).await;

    let reply = app.revoke(&current, &ids[0]).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(reply.body, "");
    app.me_with(&auth(&other)).await.assert_unauthenticated(INVALID_TOKEN);
    assert_eq!(app.me_with(&auth(&current)).await.status, StatusCode::OK);
    assert_eq!(app.revoke(&current, &ids[1]).await.status, StatusCode::NO_CONTENT, "the current one too");
    app.me_with(&auth(&current)).await.assert_unauthenticated(INVALID_TOKEN);
}

#[tokio::test]
async fn another_users_session_and_an_unknown_id_are_both_not_found() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    app.seed_user("bob", PASSWORD).await;
    let alice = app.login("alice", PASSWORD).await;
    let bob = app.login("bob", PASSWORD).await;
    let bobs_id = app.session_ids(&bob).await.remove(0);

    for id in [bobs_id.as_str(), "AAAAAAAAAAAAAAAAAAAAAA", "not-an-id", "%2e%2e"] {
        app.revoke(&alice, id).await.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    }
    assert_eq!(app.me_with(&auth(&bob)).await.status, StatusCode::OK, "bob's session is untouched");
}

#[tokio::test]
async fn logout_others_keeps_the_current_session_only() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    app.seed_user("bob", PASSWORD).await;
    let current = app.login("alice", PASSWORD).await;
    let laptop = app.login("alice", PASSWORD).await;
    let phone = app.login("alice", PASSWORD).await;
    let bob = app.login("bob", PASSWORD).await;

    let reply = app.logout_many("/auth/logout/others/", &current, r#"{"password":"correct horse"}"#).await;

    reply.assert_json(StatusCode::OK, r#"{"revoked":2}"#);
    assert_eq!(app.me_with(&auth(&current)).await.status, StatusCode::OK);
    app.me_with(&auth(&laptop)).await.assert_unauthenticated(INVALID_TOKEN);
    app.me_with(&auth(&phone)).await.assert_unauthenticated(INVALID_TOKEN);
    assert_eq!(app.me_with(&auth(&bob)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_all_ends_every_session_of_the_caller() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let current = app.login("alice", PASSWORD).await;
    let other = app.login("alice", PASSWORD).await;
    let form = TestForm::new().text("password", PASSWORD);

    let request = app.client.post("/auth/logout/all").header(header::AUTHORIZATION, auth(&current));
    let reply = send(request.multipart(form)).await;

    reply.assert_json(StatusCode::OK, r#"{"revoked":2}"#);
    app.me_with(&auth(&current)).await.assert_unauthenticated(INVALID_TOKEN);
    app.me_with(&auth(&other)).await.assert_unauthenticated(INVALID_TOKEN);
}

#[tokio::test]
async fn a_wrong_or_missing_password_revokes_nothing() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let current = app.login("alice", PASSWORD).await;
    app.login("alice", PASSWORD).await;

    for path in ["/auth/logout/others/", "/auth/logout/all/"] {
        for body in [r#"{"password":"wrong"}"#, r#"{"password":""}"#, "{}", r#"{"password":1}"#, "[]"] {
            app.logout_many(path, &current, body).await.assert_json(StatusCode::BAD_REQUEST, WRONG_PASSWORD);
        }
        let form =
            send(app.client.post(path).header(header::AUTHORIZATION, auth(&current)).form(&[("password", "correct")]))
                .await;
        form.assert_json(StatusCode::BAD_REQUEST, WRONG_PASSWORD);
    }
    assert_eq!(app.session_count(alice).await, 2);
}

#[tokio::test]
async fn the_401s_come_before_any_judgement_of_the_body() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;

    for path in ["/auth/logout/others/", "/auth/logout/all/"] {
        let no_header = send(app.client.post(path).content_type("text/plain").body("{")).await;
        no_header.assert_unauthenticated(NOT_PROVIDED);
        let bad_token = app.logout_many(path, "0".repeat(64).as_str(), "{").await;
        bad_token.assert_unauthenticated(INVALID_TOKEN);
    }
    app.get("/auth/sessions/").await.assert_unauthenticated(NOT_PROVIDED);
    let revoke = send(app.client.delete("/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA/")).await;
    revoke.assert_unauthenticated(NOT_PROVIDED);
}

#[tokio::test]
async fn a_body_that_cannot_be_read_answers_in_the_usual_envelopes() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    let post = || app.client.post("/auth/logout/others/").header(header::AUTHORIZATION, auth(&token));

    let malformed = app.logout_many("/auth/logout/others/", &token, "{").await;
    let text = send(post().content_type("text/plain").body("password=x")).await;

    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.json()["detail"].as_str().unwrap().starts_with("JSON parse error - "), "{}", malformed.body);
    text.assert_json(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#,
    );
    assert_eq!(app.session_ids(&token).await.len(), 1);
}

#[tokio::test]
async fn another_method_is_not_allowed() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;

    let put = send(app.client.put("/auth/sessions/").header(header::AUTHORIZATION, auth(&token))).await;
    let get = send(app.client.get("/auth/logout/all/").header(header::AUTHORIZATION, auth(&token))).await;

    put.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"PUT\" not allowed."}"#);
    get.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"GET\" not allowed."}"#);
}
