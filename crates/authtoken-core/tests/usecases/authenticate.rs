//! Authentication from the `Authorization` header: what is rejected before the store, expiry to the millisecond,
//! and inactive users.

use std::sync::Arc;
use std::time::Duration;

use authtoken_core::event::EventKind;
use authtoken_core::ports::UserRepo;
use authtoken_core::ports::{MockTokenRepo, StoreError, TokenRepo};
use authtoken_core::service::{AuthenticateError, Authenticated};
use authtoken_core::session::SessionWithUser;
use authtoken_core::user::User;
use authtoken_core::{AuthService, Config, PlainToken, TokenPrefix};
use authtoken_testkit::fixtures;

use crate::support::{App, PASSWORD, header};

const ANONYMOUS: &str = "Authentication credentials were not provided.";
const NO_CREDENTIALS: &str = "invalid auth header, No credentials provided.";
const INVALID: &str = "invalid auth token";

#[tokio::test]
async fn headers_without_a_well_formed_token_are_rejected_without_touching_the_store() {
    let app = App::new();
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find().never();
    tokens.expect_delete().never();
    let service = app.service_with(|ports| ports.tokens = Arc::new(tokens));
    let good = PlainToken::generate().unwrap().expose();
    let (short, head) = (&good[..63], &good[..62]);
    let latin1 = [b"Token ", short.as_bytes(), b"\xe9"].concat();

    check(service.authenticate(None).await, ANONYMOUS);
    check(present(&service, "").await, ANONYMOUS);
    check(present(&service, "   ").await, ANONYMOUS);
    check(present(&service, format!("Bearer {good}")).await, ANONYMOUS);
    check(present(&service, "Basic dXNlcjpwYXNz").await, ANONYMOUS);
    check(present(&service, format!("Tokens {good}")).await, ANONYMOUS);
    check(present(&service, "Token").await, NO_CREDENTIALS);
    check(present(&service, "  token \t ").await, NO_CREDENTIALS);
    check(present(&service, "Token abc").await, INVALID);
    check(present(&service, format!("Token {short}")).await, INVALID);
    check(present(&service, format!("Token {good}A")).await, INVALID);
    check(present(&service, format!("Token {good}=")).await, INVALID);
    check(present(&service, format!("Token {short}+")).await, INVALID);
    check(present(&service, format!("Token {short}/")).await, INVALID);
    check(present(&service, format!("Token {head}é")).await, INVALID);
    check(present(&service, format!("Token {good} x")).await, INVALID);
    check(present(&service, &latin1).await, INVALID);
}

#[tokio::test]
async fn an_unknown_token_is_an_invalid_token() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    app.token("alice", PASSWORD).await;
    let stranger = PlainToken::generate().unwrap();

    let result = app.authenticate(&stranger).await;

    assert!(matches!(result, Err(AuthenticateError::InvalidToken)), "{result:?}");
    assert_eq!(app.store.session_count(), 1);
}

#[tokio::test]
async fn the_keyword_is_case_insensitive_and_any_ascii_whitespace_separates_the_parts() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    let value = format!(" \r\n tOkEn \t\x0b\x0c {} \t", token.expose());

    let result = app.service.authenticate(Some(value.as_bytes())).await;

    assert_eq!(result.expect("the token authenticates").user.id, alice.id);
}

#[tokio::test]
async fn a_token_is_still_valid_at_its_expiry_instant() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    app.clock.advance(fixtures::config().auth_token_validity);

    let result = app.authenticate(&token).await;

    assert_eq!(result.expect("the token is still valid").user.id, alice.id);
    assert_eq!(app.store.session_count(), 1);
}

#[tokio::test]
async fn a_token_is_invalid_one_millisecond_after_its_expiry_and_is_deleted_when_presented() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let expired = app.token("alice", PASSWORD).await;
    app.clock.advance(fixtures::config().auth_token_validity);
    let fresh = app.token("alice", PASSWORD).await;
    app.clock.advance(Duration::from_millis(1));

    let result = app.authenticate(&expired).await;

    assert!(matches!(result, Err(AuthenticateError::InvalidToken)), "{result:?}");
    assert_eq!(app.store.session_count(), 1);
    assert!(app.authenticate(&fresh).await.is_ok(), "only the expired session is deleted");
    let again = app.authenticate(&expired).await;
    assert!(matches!(again, Err(AuthenticateError::InvalidToken)), "{again:?}");
}

#[tokio::test]
async fn using_a_token_does_not_extend_its_life() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    let half = fixtures::config().auth_token_validity / 2;
    app.clock.advance(half);
    app.authenticate(&token).await.expect("the token is valid half-way");
    app.clock.advance(half + Duration::from_millis(1));

    let result = app.authenticate(&token).await;

    assert!(matches!(result, Err(AuthenticateError::InvalidToken)), "{result:?}");
}

#[tokio::test]
async fn deactivating_a_user_ends_every_session_of_the_user_for_good() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    UserRepo::set_active(&app.store, alice.id, false, &fixtures::event(EventKind::OperatorDeactivatedUser))
        .await
        .unwrap();

    let while_inactive = app.authenticate(&token).await;
    UserRepo::set_active(&app.store, alice.id, true, &fixtures::event(EventKind::OperatorActivatedUser)).await.unwrap();
    let after_reactivation = app.authenticate(&token).await;

    assert!(matches!(while_inactive, Err(AuthenticateError::InvalidToken)), "{while_inactive:?}");
    assert!(matches!(after_reactivation, Err(AuthenticateError::InvalidToken)), "{after_reactivation:?}");
    assert_eq!(app.store.session_count(), 0);
}

#[tokio::test]
async fn a_session_whose_user_is_inactive_is_invalid_and_not_touched() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let (token, session) = fixtures::session(alice.id, fixtures::EPOCH, Duration::from_secs(60));
    let inactive = User { is_active: false, ..alice };
    let mut tokens = MockTokenRepo::new();
    tokens
        .expect_find()
        .returning(move |_| Ok(Some(SessionWithUser { session: session.clone(), user: inactive.clone() })));
    tokens.expect_touch().never();
    tokens.expect_delete().never();
    let service = app.service_with(|ports| ports.tokens = Arc::new(tokens));

    let result = service.authenticate(Some(header(&token).as_bytes())).await;

    assert!(matches!(result, Err(AuthenticateError::InvalidToken)), "{result:?}");
}

#[tokio::test]
async fn a_store_failure_is_a_failure_not_an_invalid_token() {
    let app = App::new();
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find().times(1).returning(|_| Err(StoreError::new("timed out")));
    let service = app.service_with(|ports| ports.tokens = Arc::new(tokens));
    let token = PlainToken::generate().unwrap();

    let result = service.authenticate(Some(header(&token).as_bytes())).await;

    assert!(matches!(result, Err(AuthenticateError::Failed(_))), "{result:?}");
}

/// Authenticates a raw `Authorization` header value.
#[tokio::test]
async fn with_a_token_prefix_login_issues_prefixed_tokens_and_only_those_authenticate() {
    let app = App::with_config(Config { token_prefix: TokenPrefix::parse("at_").unwrap(), ..fixtures::config() });
    let alice = app.register("alice", PASSWORD).await;

    let issued = app.login("alice", PASSWORD).await.expect("the login succeeds").token;

    let text = issued.expose();
    let bare = issued.plain().expose();
    assert_eq!(text, format!("at_{bare}"));
    let auth = present(&app.service, format!("Token {text}")).await.expect("the prefixed token authenticates");
    assert_eq!(auth.user.id, alice.id);
    let digest = PlainToken::parse(bare.as_bytes()).unwrap().digest();
    assert!(TokenRepo::find(&app.store, &digest).await.unwrap().is_some(), "stored under the digest of the bytes");
    check(present(&app.service, format!("Token {bare}")).await, INVALID);
    check(present(&app.service, format!("Token AT_{bare}")).await, INVALID);
}

#[tokio::test]
async fn a_token_without_the_prefix_is_rejected_without_touching_the_store() {
    let app = App::with_config(Config { token_prefix: TokenPrefix::parse("at_").unwrap(), ..fixtures::config() });
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find().never();
    tokens.expect_delete().never();
    let service = app.service_with(|ports| ports.tokens = Arc::new(tokens));
    let good = PlainToken::generate().unwrap().expose();

    check(present(&service, format!("Token {good}")).await, INVALID);
    check(present(&service, format!("Token xt_{good}")).await, INVALID);
    check(present(&service, format!("Token at_{}", &good[..63])).await, INVALID);
    check(present(&service, "Token at_").await, INVALID);
}

async fn present(service: &AuthService, value: impl AsRef<[u8]>) -> Result<Authenticated, AuthenticateError> {
    service.authenticate(Some(value.as_ref())).await
}

/// Checks a rejection by its message, which is the wire contract's text.
#[track_caller]
fn check(result: Result<Authenticated, AuthenticateError>, expected: &str) {
    match result {
        Err(AuthenticateError::Failed(failure)) => {
            panic!("expected {expected:?}, got the failure {failure}")
        }
        Err(error) => assert_eq!(error.to_string(), expected),
        Ok(auth) => panic!("expected {expected:?}, got user {:?}", auth.user.username),
    }
}
