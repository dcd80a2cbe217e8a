//! Login: credentials are checked without telling why they fail, an unknown user costs a dummy verification,
//! and every login issues a new, independent token.

use std::sync::Arc;
use std::time::Duration;

use authtoken_core::Timestamp;
use authtoken_core::event::EventKind;
use authtoken_core::ports::Clock as _;
use authtoken_core::ports::{HashError, MockPasswordHasher, MockUserRepo, StoreError, UserRepo};
use authtoken_core::service::{Failure, LoginError};
use authtoken_core::user::{Password, PasswordHash};
use authtoken_testkit::FakePasswordHasher;
use authtoken_testkit::fixtures;

use crate::support::{App, PASSWORD, case_insensitive, client, password};

#[tokio::test]
async fn login_returns_a_64_character_token_that_authenticates() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;

    let outcome = app.login("alice", PASSWORD).await.expect("the login succeeds");

    let text = outcome.token.expose();
    assert_eq!(text.len(), 64);
    assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{text}");
    assert_eq!(outcome.user.id, alice.id);
    let auth = app.authenticate(outcome.token.plain()).await.expect("the new token authenticates");
    assert_eq!(auth.user.id, alice.id);
}

#[tokio::test]
async fn login_with_a_wrong_password_gives_invalid_credentials() {
    let app = App::new();
    app.register("alice", PASSWORD).await;

    let result = app.login("alice", "wrong password").await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)), "{result:?}");
    assert_eq!(app.store.session_count(), 0);
}

#[tokio::test]
async fn login_of_an_unknown_user_gives_invalid_credentials() {
    let app = App::new();
    app.register("alice", PASSWORD).await;

    let result = app.login("bob", PASSWORD).await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)), "{result:?}");
    assert_eq!(app.store.session_count(), 0);
}

#[tokio::test]
async fn login_of_an_inactive_user_gives_invalid_credentials_even_with_the_right_password() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    UserRepo::set_active(&app.store, alice.id, false, &fixtures::event(EventKind::OperatorDeactivatedUser))
        .await
        .unwrap();

    let result = app.login("alice", PASSWORD).await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)), "{result:?}");
    assert_eq!(app.store.session_count(), 0);
}

#[tokio::test]
async fn an_unknown_user_costs_one_dummy_verification_and_no_real_one() {
    let app = App::new();

    let result = app.login("nobody", PASSWORD).await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)), "{result:?}");
    assert_eq!(app.hasher.verifications(), (0, 1));
}

#[tokio::test]
async fn a_wrong_password_costs_one_real_verification_and_no_dummy_one() {
    let app = App::new();
    app.register("alice", PASSWORD).await;

    let result = app.login("alice", "wrong password").await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)), "{result:?}");
    assert_eq!(app.hasher.verifications(), (1, 0));
}

#[tokio::test]
async fn an_inactive_user_costs_one_real_verification_like_a_wrong_password() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    UserRepo::set_active(&app.store, alice.id, false, &fixtures::event(EventKind::OperatorDeactivatedUser))
        .await
        .unwrap();

    let result = app.login("alice", PASSWORD).await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)), "{result:?}");
    assert_eq!(app.hasher.verifications(), (1, 0));
}

#[tokio::test]
async fn each_login_issues_a_new_independent_token() {
    let app = App::new();
    app.register("alice", PASSWORD).await;

    let first = app.token("alice", PASSWORD).await;
    let second = app.token("alice", PASSWORD).await;

    assert_ne!(first.expose(), second.expose());
    assert_eq!(app.store.session_count(), 2);
    assert!(app.authenticate(&first).await.is_ok());
    assert!(app.authenticate(&second).await.is_ok());
}

#[tokio::test]
async fn login_records_the_last_login_time() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(5));
    let expected = Timestamp::from_millis(fixtures::EPOCH.as_millis() + 5_000);

    let outcome = app.login("alice", PASSWORD).await.expect("the login succeeds");

    assert_eq!(alice.last_login_at, None);
    assert_eq!(outcome.user.last_login_at, Some(expected));
    let stored = app.store.find_by_username("alice").await.unwrap().expect("alice exists");
    assert_eq!(stored.last_login_at, Some(expected));
}

#[tokio::test]
async fn login_issues_a_session_that_expires_one_validity_after_the_login() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(60));
    let now = Timestamp::from_millis(fixtures::EPOCH.as_millis() + 60_000);

    let token = app.token("alice", PASSWORD).await;

    let auth = app.authenticate(&token).await.expect("the new token authenticates");
    assert_eq!(auth.session.created_at, now);
    assert_eq!(auth.session.expires_at, now.plus(fixtures::config().auth_token_validity));
    assert_eq!(auth.session.digest, token.digest());
}

#[tokio::test]
async fn a_session_records_where_the_login_came_from_and_gets_its_own_public_id() {
    let app = App::new();
    app.register("alice", PASSWORD).await;

    let first = app.token("alice", PASSWORD).await;
    let second = app.token("alice", PASSWORD).await;

    let first = app.authenticate(&first).await.unwrap().session;
    let second = app.authenticate(&second).await.unwrap().session;
    assert_eq!(first.client, client());
    assert_eq!(first.last_used_at, Some(app.clock.now()), "authenticating records the use");
    assert_eq!(first.id.as_str().len(), 22);
    assert_ne!(first.id, second.id);
}

#[tokio::test]
async fn case_insensitive_usernames_log_in_in_any_case() {
    let app = App::with_config(case_insensitive(true));
    let alice = app.register("Alice", PASSWORD).await;

    let lower = app.login("alice", PASSWORD).await;
    let upper = app.login("ALICE", PASSWORD).await;
    let exact = app.login("Alice", PASSWORD).await;

    assert_eq!(lower.expect("lower case logs in").user.id, alice.id);
    assert_eq!(upper.expect("upper case logs in").user.id, alice.id);
    assert_eq!(exact.expect("the registered case logs in").user.id, alice.id);
}

#[tokio::test]
async fn case_sensitive_usernames_log_in_only_in_the_registered_case() {
    let app = App::with_config(case_insensitive(false));
    app.register("Alice", PASSWORD).await;

    let lower = app.login("alice", PASSWORD).await;
    let exact = app.login("Alice", PASSWORD).await;

    assert!(matches!(lower, Err(LoginError::InvalidCredentials)), "{lower:?}");
    assert!(exact.is_ok(), "{exact:?}");
}

#[tokio::test]
async fn a_store_failure_is_a_failure_not_invalid_credentials() {
    let app = App::new();
    let mut users = MockUserRepo::new();
    users.expect_find_by_key().times(1).returning(|_| Err(StoreError::new("connection refused")));
    let service = app.service_with(|ports| ports.users = Arc::new(users));

    let result = service.login("alice", &password(PASSWORD), client()).await;

    assert!(matches!(result, Err(LoginError::Failed(Failure::Store(_)))), "{result:?}");
    assert_eq!(app.hasher.verifications(), (0, 0));
}

#[tokio::test]
async fn an_unknown_user_is_verified_against_the_dummy_hash_only() {
    let app = App::new();
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify_dummy().times(1).returning(|_| Ok(()));
    hasher.expect_verify().never();
    let service = app.service_with(|ports| ports.hasher = Arc::new(hasher));

    let result = service.login("nobody", &password(PASSWORD), client()).await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)), "{result:?}");
}

#[tokio::test]
async fn a_hasher_failure_is_a_failure_not_invalid_credentials() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().times(1).returning(|_, _| Err(HashError::new("pool closed")));
    let service = app.service_with(|ports| ports.hasher = Arc::new(hasher));

    let result = service.login("alice", &password(PASSWORD), client()).await;

    assert!(matches!(result, Err(LoginError::Failed(Failure::Hash(_)))), "{result:?}");
    assert_eq!(app.store.session_count(), 0);
}

/// A user whose stored hash the hasher wants replaced (as the real hasher wants a Django hash replaced).
async fn legacy_user(app: &App, username: &str) -> authtoken_core::user::User {
    let user = authtoken_core::user::NewUser {
        password_hash: FakePasswordHasher::legacy_hash_of(PASSWORD),
        ..fixtures::new_user(username, PASSWORD)
    };
    UserRepo::create(&app.store, &user, &fixtures::event(EventKind::Registered)).await.expect("the user is created")
}

async fn stored_hash(app: &App, id: authtoken_core::user::UserId) -> String {
    let found = UserRepo::find_credentials(&app.store, id).await.expect("the store answers");
    found.expect("the user exists").password_hash.as_str().to_owned()
}

#[tokio::test]
async fn a_successful_login_replaces_a_hash_the_hasher_wants_replaced_and_keeps_the_password() {
    let app = App::new();
    let alice = legacy_user(&app, "alice").await;

    app.login("alice", PASSWORD).await.expect("the old hash verifies");

    assert_eq!(stored_hash(&app, alice.id).await, FakePasswordHasher::hash_of(PASSWORD).as_str());
    app.login("alice", PASSWORD).await.expect("the new hash verifies the same password");
    assert_eq!(app.store.session_count(), 2, "replacing the hash revoked no session");
}

#[tokio::test]
async fn a_refused_login_leaves_an_old_hash_alone() {
    let app = App::new();
    let alice = legacy_user(&app, "alice").await;
    let bob = legacy_user(&app, "bob").await;
    UserRepo::set_active(&app.store, bob.id, false, &fixtures::event(EventKind::OperatorDeactivatedUser))
        .await
        .unwrap();

    assert!(app.login("alice", "wrong password").await.is_err());
    assert!(app.login("bob", PASSWORD).await.is_err(), "bob is inactive");

    assert_eq!(stored_hash(&app, alice.id).await, FakePasswordHasher::legacy_hash_of(PASSWORD).as_str());
    assert_eq!(stored_hash(&app, bob.id).await, FakePasswordHasher::legacy_hash_of(PASSWORD).as_str());
}

#[tokio::test]
async fn a_current_hash_is_not_hashed_again() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().times(1).returning(|_, _| Ok(true));
    hasher.expect_needs_rehash().times(1).returning(|_| false);
    hasher.expect_hash().never();
    let service = app.service_with(|ports| ports.hasher = Arc::new(hasher));

    service.login("alice", &password(PASSWORD), client()).await.expect("the login succeeds");
}

/// The fake hasher, with each verification taking 20 ms, so that two logins check the same old hash at once.
struct SlowVerify(FakePasswordHasher);

#[async_trait::async_trait]
impl authtoken_core::ports::PasswordHasher for SlowVerify {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        self.0.hash(password).await
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.verify(password, hash).await
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        self.0.needs_rehash(hash)
    }

    async fn verify_dummy(&self, password: &Password) -> Result<(), HashError> {
        self.0.verify_dummy(password).await
    }
}

#[tokio::test]
async fn two_logins_at_once_with_an_old_hash_both_succeed() {
    let app = App::new();
    legacy_user(&app, "alice").await;
    let service = app.service_with(|ports| ports.hasher = Arc::new(SlowVerify(FakePasswordHasher::default())));

    let right = password(PASSWORD);
    let (first, second) =
        tokio::join!(service.login("alice", &right, client()), service.login("alice", &right, client()));

    assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
    assert_eq!(app.store.session_count(), 2);
}

#[tokio::test]
async fn a_failed_rehash_stores_no_session() {
    let app = App::new();
    legacy_user(&app, "alice").await;
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().returning(|_, _| Ok(true));
    hasher.expect_needs_rehash().returning(|_| true);
    hasher.expect_hash().returning(|_| Err(HashError::new("pool closed")));
    let service = app.service_with(|ports| ports.hasher = Arc::new(hasher));

    let result = service.login("alice", &password(PASSWORD), client()).await;

    assert!(matches!(result, Err(LoginError::Failed(Failure::Hash(_)))), "{result:?}");
    assert_eq!(app.store.session_count(), 0);
}
