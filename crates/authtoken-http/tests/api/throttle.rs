//! The throttles over HTTP (contract, section 9): 429 with Django REST framework's message and `Retry-After`, on
//! every route that counts, with the client address taken as sessions take it.

use std::time::Duration;

use authtoken_core::throttle::Limits;
use authtoken_testkit::fixtures::{limits_off, rate};
use poem::http::{StatusCode, header};

use super::client_ip::{Peer, client};
use super::support::{PASSWORD, Reply, TestApp, send};

#[track_caller]
fn assert_throttled(reply: &Reply, seconds: u64) {
    let unit = if seconds == 1 { "second" } else { "seconds" };
    let expected = format!(r#"{{"detail":"Request was throttled. Expected available in {seconds} {unit}."}}"#);
    reply.assert_json(StatusCode::TOO_MANY_REQUESTS, &expected);
    let retry_after = reply.headers.get(header::RETRY_AFTER).map(|v| v.to_str().expect("text").to_owned());
    assert_eq!(retry_after.as_deref(), Some(seconds.to_string().as_str()));
}

async fn login(app: &TestApp, password: &str) -> Reply {
    let body = serde_json::json!({ "username": "alice", "password": password });
    send(app.client.post("/auth/login/").body_json(&body)).await
}

#[tokio::test]
async fn a_throttled_login_answers_429_with_the_wait_until_it_is_admitted() {
    let Some(app) =
        TestApp::builder().throttles(Limits { login_failures_account: rate(2, 3_600), ..limits_off() }).build().await
    else {
        return;
    };
    app.seed_user("alice", PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(login(&app, "guess").await.status, StatusCode::UNAUTHORIZED);
    }

    assert_throttled(&login(&app, PASSWORD).await, 1_800);
    app.clock.advance(Duration::from_secs(1_799));
    assert_throttled(&login(&app, PASSWORD).await, 1);
    app.clock.advance(Duration::from_secs(1));
    assert_eq!(login(&app, PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_wait_under_a_second_is_announced_as_one_second() {
    let limits = Limits { login_failures_account: rate(1, 1), ..limits_off() };
    let Some(app) = TestApp::builder().throttles(limits).build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    assert_eq!(login(&app, "guess").await.status, StatusCode::UNAUTHORIZED);
    app.clock.advance(Duration::from_millis(300));

    assert_throttled(&login(&app, PASSWORD).await, 1);
}

#[tokio::test]
async fn wrong_reentered_passwords_count_and_the_routes_that_take_them_answer_429() {
    let limits = Limits { login_failures_account: rate(4, 3_600), ..limits_off() };
    let Some(app) = TestApp::builder().throttles(limits).build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    let post = |path: &'static str, body: &'static str| {
        let request = app.client.post(path).header(header::AUTHORIZATION, format!("Token {token}"));
        send(request.content_type("application/json").body(body))
    };
    for path in ["/auth/logout/others/", "/auth/logout/all/", "/auth/me/delete/"] {
        assert_eq!(post(path, r#"{"password":"guess"}"#).await.status, StatusCode::BAD_REQUEST, "{path}");
    }
    let wrong = r#"{"current_password":"guess","new_password":"a new horse"}"#;
    assert_eq!(post("/auth/password/change/", wrong).await.status, StatusCode::BAD_REQUEST);

    for path in ["/auth/logout/others/", "/auth/logout/all/", "/auth/me/delete/"] {
        assert_throttled(&post(path, r#"{"password":"correct horse"}"#).await, 900);
    }
    let right = r#"{"current_password":"correct horse","new_password":"a new horse"}"#;
    assert_throttled(&post("/auth/password/change/", right).await, 900);
    assert_throttled(&login(&app, PASSWORD).await, 900);
}

#[tokio::test]
async fn login_attempts_are_counted_per_client_address() {
    let limits = Limits { login_ip: rate(2, 60), ..limits_off() };
    let Some(app) = TestApp::builder().throttles(limits).build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let client = client(&app, "");
    let from = |peer: &str| {
        let body = serde_json::json!({ "username": "alice", "password": PASSWORD });
        send(client.post("/auth/login/").data(Peer(peer.parse().unwrap())).body_json(&body))
    };
    assert_eq!(from("198.51.100.7:1000").await.status, StatusCode::OK);
    assert_eq!(from("198.51.100.7:1001").await.status, StatusCode::OK);

    assert_throttled(&from("198.51.100.7:1002").await, 30);
    assert_eq!(from("203.0.113.9:1000").await.status, StatusCode::OK);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_count() {
    let limits = Limits { login_ip: rate(1, 60), ..limits_off() };
    let Some(app) = TestApp::builder().throttles(limits).build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let client = client(&app, "10.0.0.0/8");
    let via_proxy = |forwarded_for: &'static str| {
        let body = serde_json::json!({ "username": "alice", "password": PASSWORD });
        let request = client.post("/auth/login/").data(Peer("10.0.0.2:1000".parse().unwrap()));
        send(request.header("x-forwarded-for", forwarded_for).body_json(&body))
    };
    assert_eq!(via_proxy("198.51.100.7").await.status, StatusCode::OK);

    assert_throttled(&via_proxy("198.51.100.7").await, 60);
    assert_eq!(via_proxy("203.0.113.9").await.status, StatusCode::OK);
}

#[tokio::test]
async fn registrations_and_reset_requests_answer_429_once_an_address_has_had_its_mail() {
    let limits = Limits { mail_address: rate(1, 3_600), ..limits_off() };
    let Some(app) =
        TestApp::builder().registration(true).confirmation().password_reset(false).throttles(limits).build().await
    else {
        return;
    };
    let register = r#"{"username":"alice","password":"correct horse","email":"alice@example.org"}"#;
    assert_eq!(app.register(register).await.status, StatusCode::CREATED);

    let again = r#"{"username":"alice2","password":"correct horse","email":"ALICE@example.org"}"#;
    assert_throttled(&app.register(again).await, 3_600);
    assert_throttled(&app.post_json("/auth/password/reset/", r#"{"email":"alice@example.org"}"#).await, 3_600);
    let other = app.post_json("/auth/password/reset/", r#"{"email":"bob@example.org"}"#).await;
    assert_eq!(other.status, StatusCode::ACCEPTED, "{}", other.body);
}
