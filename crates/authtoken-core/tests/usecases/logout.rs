//! Logout: only the presented session is revoked, and revoking it again is not an error.

use std::sync::Arc;

use authtoken_core::ports::{MockTokenRepo, StoreError};
use authtoken_core::service::{AuthenticateError, LogoutError};

use crate::support::{App, PASSWORD, client};

#[tokio::test]
async fn logout_revokes_only_the_presented_token() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let presented = app.token("alice", PASSWORD).await;
    let bobs = app.token("bob", PASSWORD).await;
    let auth = app.authenticate(&presented).await.expect("the token authenticates");

    app.service.logout(&auth, &client()).await.expect("logout succeeds");

    let result = app.authenticate(&presented).await;
    assert!(matches!(result, Err(AuthenticateError::InvalidToken)), "{result:?}");
    assert!(app.authenticate(&bobs).await.is_ok(), "another user's token keeps working");
    assert_eq!(app.store.session_count(), 1);
}

#[tokio::test]
async fn a_second_token_of_the_same_user_keeps_working_after_logout() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let laptop = app.token("alice", PASSWORD).await;
    let phone = app.token("alice", PASSWORD).await;
    let auth = app.authenticate(&laptop).await.expect("the token authenticates");

    app.service.logout(&auth, &client()).await.expect("logout succeeds");

    assert!(app.authenticate(&laptop).await.is_err());
    let still = app.authenticate(&phone).await.expect("the other session keeps working");
    assert_eq!(still.user.id, alice.id);
}

#[tokio::test]
async fn logging_out_twice_does_not_fail() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    let auth = app.authenticate(&token).await.expect("the token authenticates");
    app.service.logout(&auth, &client()).await.expect("the first logout succeeds");

    let second = app.service.logout(&auth, &client()).await;

    assert!(second.is_ok(), "{second:?}");
    assert_eq!(app.store.session_count(), 0);
}

#[tokio::test]
async fn a_store_failure_during_logout_is_a_failure() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    let auth = app.authenticate(&token).await.expect("the token authenticates");
    let mut tokens = MockTokenRepo::new();
    tokens.expect_revoke().times(1).returning(|_, _, _| Err(StoreError::new("timed out")));
    let service = app.service_with(|ports| ports.tokens = Arc::new(tokens));

    let result = service.logout(&auth, &client()).await;

    assert!(matches!(result, Err(LogoutError::Failed(_))), "{result:?}");
    assert!(app.authenticate(&token).await.is_ok(), "the session is still there");
}
