//! `token_prefix`: a login answers the prefix followed by the 64 characters, only that spelling authenticates, and
//! a token without the prefix is refused as a malformed one is, before the store is asked.

use authtoken_core::ports::MockTokenRepo;
use poem::http::StatusCode;
use serde_json::Value;

use super::support::{INVALID_TOKEN, KNOWN_TOKEN, PASSWORD, TestApp, send};

#[tokio::test]
async fn a_login_answers_the_prefix_then_64_characters_and_that_token_authenticates() {
    let Some(app) = TestApp::builder().token_prefix("at_").build().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let token = app.login("alice", PASSWORD).await;

    let bare = token.strip_prefix("at_").unwrap_or_else(|| panic!("{token} does not start with the prefix"));
    assert_eq!(bare.len(), 64, "{token}");
    assert!(bare.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
    let me = app.me_with(&format!("Token {token}")).await;
    me.assert_json(StatusCode::OK, r#"{"id":1,"username":"alice"}"#);
}

#[tokio::test]
async fn a_token_without_the_prefix_gets_the_401_of_a_malformed_token() {
    let Some(app) = TestApp::builder().token_prefix("at_").build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    let bare = &token[3..];

    let without = app.me_with(&format!("Token {bare}")).await;
    let other_prefix = app.me_with(&format!("Token xt_{bare}")).await;
    let malformed = app.me_with("Token abc").await;

    without.assert_unauthenticated(INVALID_TOKEN);
    other_prefix.assert_unauthenticated(INVALID_TOKEN);
    assert_eq!((without.status, &without.body), (malformed.status, &malformed.body));
    assert_eq!(without.header("www-authenticate"), malformed.header("www-authenticate"));
}

#[tokio::test]
async fn a_token_without_the_prefix_is_refused_without_asking_the_store() {
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find().never();
    tokens.expect_delete().never();
    tokens.expect_touch().never();
    let Some(app) = TestApp::builder().token_prefix("at_").tokens(tokens).build().await else { return };

    let bare = app.me_with(&format!("Token {KNOWN_TOKEN}")).await;
    let wrong_case = app.me_with(&format!("Token AT_{KNOWN_TOKEN}")).await;
    let logout = send(app.client.delete("/auth/logout/").header("Authorization", format!("Token {KNOWN_TOKEN}"))).await;

    bare.assert_unauthenticated(INVALID_TOKEN);
    wrong_case.assert_unauthenticated(INVALID_TOKEN);
    logout.assert_unauthenticated(INVALID_TOKEN);
}

#[tokio::test]
async fn without_a_prefix_a_prefixed_token_is_malformed() {
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find().never();
    let Some(app) = TestApp::builder().tokens(tokens).build().await else { return };

    let reply = app.me_with(&format!("Token at_{KNOWN_TOKEN}")).await;

    reply.assert_unauthenticated(INVALID_TOKEN);
}

#[tokio::test]
async fn the_document_describes_the_token_with_its_prefix() {
    let Some(plain) = TestApp::new().await else { return };
    let Some(prefixed) = TestApp::builder().token_prefix("at_").build().await else { return };

    let plain = send(plain.client.get("/openapi.json")).await.json();
    let prefixed = send(prefixed.client.get("/openapi.json")).await.json();

    let token = |document: &Value| document["components"]["schemas"]["LoginBody"]["properties"]["token"].clone();
    let scheme = |document: &Value| {
        document["components"]["securitySchemes"]["TokenAuth"]["description"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(token(&plain)["pattern"], "^[A-Za-z0-9_-]{64}$");
    assert_eq!(token(&prefixed)["pattern"], "^at_[A-Za-z0-9_-]{64}$");
    let description = token(&prefixed)["description"].as_str().unwrap_or_default().to_owned();
    assert!(description.starts_with("`at_` followed by 64 characters"), "{description}");
    assert!(!scheme(&plain).contains("prefix"), "{}", scheme(&plain));
    assert!(scheme(&prefixed).contains("`at_` followed by 64 characters"), "{}", scheme(&prefixed));
}
