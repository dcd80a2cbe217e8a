//! The `Authorization: Token <t>` header against `GET /auth/me/`: every 401 of token authentication, with its
//! challenge, and proof that a malformed token never reaches the store.

use std::time::Duration;

use authtoken_core::ports::MockTokenRepo;
use poem::http::{HeaderValue, StatusCode};

use super::support::{INVALID_TOKEN, KNOWN_TOKEN, NO_CREDENTIALS, NOT_PROVIDED, PASSWORD, Reply, TestApp};

/// What `GET /auth/me/` answers for a header.
enum Expected {
    Ok,
    Unauthenticated(&'static str),
}

#[tokio::test]
async fn the_authorization_header_is_judged_like_upstream_but_strictly() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    app.seed_session(alice, KNOWN_TOKEN).await;
    let t = KNOWN_TOKEN;
    let standard_alphabet = KNOWN_TOKEN.replace('-', "+").replace('_', "/");
    let unknown = "Z".repeat(64);

    check(app.me(None).await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with("").await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with("Bearer x").await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with(&format!("Bearer {t}")).await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with("Basic dXNlcjpwYXNz").await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with("Tokens x").await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with(&format!("Tokens {t}")).await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with("Token").await, Expected::Unauthenticated(NO_CREDENTIALS));
    check(app.me_with("token   ").await, Expected::Unauthenticated(NO_CREDENTIALS));
    check(app.me_with("Token a b").await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t} extra")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t}=")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t}!")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {standard_alphabet}")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {}", &t[..63])).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t}A")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me(Some(non_ascii(t))).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {unknown}")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t}")).await, Expected::Ok);
    check(app.me_with(&format!("TOKEN {t}")).await, Expected::Ok);
    check(app.me_with(&format!("token\t{t}")).await, Expected::Ok);
    check(app.me_with(&format!("Token \t  {t}\t ")).await, Expected::Ok);
}

#[tokio::test]
async fn a_malformed_token_is_refused_without_asking_the_store() {
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find().never();
    tokens.expect_delete().never();
    let Some(app) = TestApp::builder().tokens(tokens).build().await else { return };
    let t = KNOWN_TOKEN;
    let standard_alphabet = KNOWN_TOKEN.replace('-', "+").replace('_', "/");

    check(app.me(None).await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with("Bearer x").await, Expected::Unauthenticated(NOT_PROVIDED));
    check(app.me_with("Token").await, Expected::Unauthenticated(NO_CREDENTIALS));
    check(app.me_with("token   ").await, Expected::Unauthenticated(NO_CREDENTIALS));
    check(app.me_with("Token a b").await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t} extra")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t}=")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t}!")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {standard_alphabet}")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {}", &t[..63])).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me_with(&format!("Token {t}A")).await, Expected::Unauthenticated(INVALID_TOKEN));
    check(app.me(Some(non_ascii(t))).await, Expected::Unauthenticated(INVALID_TOKEN));
}

#[tokio::test]
async fn a_token_is_valid_up_to_its_expiry_instant() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(24 * 60 * 60));

    let reply = app.me_with(&format!("Token {token}")).await;

    check(reply, Expected::Ok);
}

#[tokio::test]
async fn an_expired_token_is_refused_and_its_session_deleted() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(24 * 60 * 60) + Duration::from_millis(1));

    let reply = app.me_with(&format!("Token {token}")).await;

    check(reply, Expected::Unauthenticated(INVALID_TOKEN));
    assert_eq!(app.session_count(alice).await, 0);
}

#[tokio::test]
async fn the_token_of_a_deactivated_user_is_refused() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    app.deactivate(alice).await;

    let reply = app.me_with(&format!("Token {token}")).await;

    check(reply, Expected::Unauthenticated(INVALID_TOKEN));
}

#[track_caller]
fn check(reply: Reply, expected: Expected) {
    match expected {
        Expected::Ok => reply.assert_json(StatusCode::OK, r#"{"id":1,"username":"alice"}"#),
        Expected::Unauthenticated(detail) => reply.assert_unauthenticated(detail),
    }
}

/// `Token <63 characters of t>é`, with `é` as one Latin-1 byte: not visible ASCII, so not even a `&str` header.
fn non_ascii(t: &str) -> HeaderValue {
    let bytes = [b"Token ", &t.as_bytes()[..63], b"\xe9"].concat();
    HeaderValue::from_bytes(&bytes).expect("obs-text is a valid header byte")
}
