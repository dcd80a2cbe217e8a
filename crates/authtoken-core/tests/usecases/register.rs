//! Registration: upstream's field rules and messages, trimming of the username only, and uniqueness that holds
//! under races.

use std::sync::Arc;
use std::time::Duration;

use authtoken_core::ports::{CreateUserError, MockPasswordHasher, MockUserRepo, StoreError, UserRepo};
use authtoken_core::service::FieldValue::{Missing, NotString, Null};
use authtoken_core::service::{Failure, FieldValue, LoginError, RegisterError, RegistrationForm};
use authtoken_core::session::ClientInfo;
use authtoken_core::user::UserId;
use authtoken_core::{AuthService, Config, Timestamp, User};
use authtoken_testkit::fixtures;

use crate::support::{App, PASSWORD, assert_field_errors, case_insensitive, field_errors, form, text};

const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const NOT_A_STRING: &str = "Not a valid string.";
const BLANK: &str = "This field may not be blank.";
const TOO_LONG_150: &str = "Ensure this field has no more than 150 characters.";
const INVALID_CHARACTERS: &str =
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
const TOO_LONG_128: &str = "Ensure this field has no more than 128 characters.";
const PASSWORD_TOO_SHORT: &str = "password too short";
const DUPLICATE: &str = "A user with that username already exists.";
const DUPLICATE_KEY: &str = "already exists";

#[tokio::test]
async fn registration_creates_an_active_user_who_can_then_log_in() {
    let app = App::new();
    app.clock.advance(Duration::from_secs(7));

    let user = app.service.register(form("alice", PASSWORD)).await.expect("the form is valid");

    assert_eq!(user.username, "alice");
    assert!(user.is_active);
    assert!(!user.email_confirmed);
    assert_eq!(user.email, None);
    assert_eq!(user.last_login_at, None);
    assert_eq!(user.joined_at, Timestamp::from_millis(fixtures::EPOCH.as_millis() + 7_000));
    let outcome = app.login("alice", PASSWORD).await.expect("the new user logs in");
    assert_eq!(outcome.user.id, user.id);
}

#[tokio::test]
async fn username_messages_are_upstreams() {
    check(with_username(Missing).await, REQUIRED);
    check(with_username(Null).await, NULL);
    check(with_username(NotString).await, NOT_A_STRING);
    check(with_username(text("")).await, BLANK);
    check(with_username(text("   ")).await, BLANK);
    check(with_username(text(" \t\r\n ")).await, BLANK);
    check(with_username(text(&"a".repeat(151))).await, TOO_LONG_150);
    check(with_username(text(&"ä".repeat(151))).await, TOO_LONG_150);
    check(with_username(text("john doe")).await, INVALID_CHARACTERS);
    check(with_username(text("john!")).await, INVALID_CHARACTERS);
    check(with_username(text("a/b")).await, INVALID_CHARACTERS);
}

#[tokio::test]
async fn password_messages_are_upstreams() {
    check(with_password(Missing).await, REQUIRED);
    check(with_password(Null).await, NULL);
    check(with_password(NotString).await, NOT_A_STRING);
    check(with_password(text("")).await, BLANK);
    check(with_password(text(&"p".repeat(129))).await, TOO_LONG_128);
    check(with_password(text(&"é".repeat(129))).await, TOO_LONG_128);
    check(with_password(text("1234567")).await, PASSWORD_TOO_SHORT);
}

#[tokio::test]
async fn values_at_the_limits_are_accepted() {
    check_accepted(with_username(text(&"a".repeat(150))).await);
    check_accepted(with_username(text(&"ä".repeat(150))).await);
    check_accepted(with_username(text("j.o+h-n_@x")).await);
    check_accepted(with_username(text("Jürgen")).await);
    check_accepted(with_password(text("12345678")).await);
    check_accepted(with_password(text(&"p".repeat(128))).await);
    check_accepted(with_password(text(&"é".repeat(128))).await);
}

#[tokio::test]
async fn the_minimum_password_length_comes_from_the_configuration() {
    let app = App::with_config(Config { password_min_length: 6, ..fixtures::config() });

    let short = app.service.register(form("alice", "12345")).await;
    let enough = app.service.register(form("alice", "123456")).await;

    assert_field_errors(short, &[("password", PASSWORD_TOO_SHORT)]);
    assert!(enough.is_ok(), "{enough:?}");
}

#[tokio::test]
async fn errors_of_both_fields_are_reported_together_username_first() {
    let app = App::new();

    let missing_and_blank = app
        .service
        .register(RegistrationForm {
            username: Missing,
            password: text(""),
            email: Missing,
            languages: vec![],
            client: ClientInfo::default(),
        })
        .await;
    let invalid_and_short = app.service.register(form("john doe", "short")).await;

    assert_field_errors(missing_and_blank, &[("username", REQUIRED), ("password", BLANK)]);
    assert_field_errors(invalid_and_short, &[("username", INVALID_CHARACTERS), ("password", PASSWORD_TOO_SHORT)]);
}

#[tokio::test]
async fn a_duplicate_username_and_a_bad_password_are_reported_together() {
    let app = App::new();
    app.register("alice", PASSWORD).await;

    let result = app.service.register(form("alice", "short")).await;

    assert_field_errors(result, &[("username", DUPLICATE), ("password", PASSWORD_TOO_SHORT)]);
}

#[tokio::test]
async fn the_username_is_trimmed() {
    let app = App::new();

    let user = app.service.register(form(" \t alice \n", PASSWORD)).await.expect("the form is valid");

    assert_eq!(user.username, "alice");
    assert!(app.login("alice", PASSWORD).await.is_ok());
    assert_field_errors(app.service.register(form("alice", PASSWORD)).await, &[("username", DUPLICATE)]);
}

#[tokio::test]
async fn the_password_is_not_trimmed() {
    let app = App::new();
    app.register("alice", "  password  ").await;

    let trimmed = app.login("alice", "password").await;
    let as_registered = app.login("alice", "  password  ").await;

    assert!(matches!(trimmed, Err(LoginError::InvalidCredentials)), "{trimmed:?}");
    assert!(as_registered.is_ok(), "{as_registered:?}");
}

#[tokio::test]
async fn a_duplicate_username_is_rejected() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;

    let result = app.service.register(form("alice", "another password")).await;

    assert_field_errors(result, &[("username", DUPLICATE)]);
    assert_eq!(app.login("alice", PASSWORD).await.expect("the first alice still logs in").user.id, alice.id);
}

#[tokio::test]
async fn with_case_insensitive_names_the_same_name_is_a_duplicate() {
    let app = App::with_config(case_insensitive(true));
    app.register("Alice", PASSWORD).await;

    let result = app.service.register(form("Alice", PASSWORD)).await;

    assert_field_errors(result, &[("username", DUPLICATE)]);
}

#[tokio::test]
async fn with_case_insensitive_names_a_case_variant_already_exists() {
    let app = App::with_config(case_insensitive(true));
    app.register("Alice", PASSWORD).await;

    let upper = app.service.register(form("ALICE", PASSWORD)).await;
    let mixed = app.service.register(form("aLiCe", PASSWORD)).await;

    assert_field_errors(upper, &[("username", DUPLICATE_KEY)]);
    assert_field_errors(mixed, &[("username", DUPLICATE_KEY)]);
}

#[tokio::test]
async fn with_case_insensitive_names_the_lower_case_variant_already_exists() {
    let app = App::with_config(case_insensitive(true));
    app.register("Alice", PASSWORD).await;

    let result = app.service.register(form("alice", PASSWORD)).await;

    assert_field_errors(result, &[("username", DUPLICATE_KEY)]);
}

#[tokio::test]
async fn with_case_sensitive_names_a_case_variant_is_another_user() {
    let app = App::with_config(case_insensitive(false));
    let upper = app.register("Alice", "upper password").await;

    let lower = app.service.register(form("alice", "lower password")).await.expect("a case variant is accepted");

    assert_ne!(lower.id, upper.id);
    assert_eq!(app.login("Alice", "upper password").await.expect("Alice logs in").user.id, upper.id);
    assert_eq!(app.login("alice", "lower password").await.expect("alice logs in").user.id, lower.id);
}

#[tokio::test]
async fn a_lost_race_for_the_username_is_a_field_error_not_a_failure() {
    let app = App::new();
    let winner = User {
        id: UserId(1),
        username: "alice".into(),
        email: None,
        email_confirmed: false,
        is_active: true,
        joined_at: fixtures::EPOCH,
        last_login_at: None,
    };
    let mut users = MockUserRepo::new();
    users.expect_find_by_username().times(1).returning(|_| Ok(None));
    users.expect_find_by_username().times(1).returning(move |_| Ok(Some(winner.clone())));
    users.expect_create().times(1).returning(|_, _| Err(CreateUserError::Duplicate));
    let service = app.service_with(|ports| ports.users = Arc::new(users));

    let result = service.register(form("alice", PASSWORD)).await;

    assert_field_errors(result, &[("username", DUPLICATE)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_name_give_exactly_one_user() {
    let app = App::new();
    let duplicate = field_errors(&[("username", DUPLICATE)]);
    let attempts: Vec<_> = (0..20).map(|i| tokio::spawn(register_carol(app.service.clone(), i))).collect();

    let mut results = Vec::new();
    for attempt in attempts {
        results.push(attempt.await.expect("the registration task does not panic"));
    }

    let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
    let losers = results.iter().filter(|(_, r)| matches!(r, Err(RegisterError::Invalid(e)) if *e == duplicate)).count();
    assert_eq!((winners.len(), losers), (1, 19), "{results:?}");
    let (password, _) = winners[0];
    assert!(app.login("carol", password).await.is_ok());
}

#[tokio::test]
async fn an_invalid_form_is_rejected_without_hashing_the_password() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_hash().never();
    let service = app.service_with(|ports| ports.hasher = Arc::new(hasher));

    let invalid = service.register(form("bob", "short")).await;
    let duplicate = service.register(form("alice", PASSWORD)).await;

    assert_field_errors(invalid, &[("password", PASSWORD_TOO_SHORT)]);
    assert_field_errors(duplicate, &[("username", DUPLICATE)]);
}

#[tokio::test]
async fn a_store_failure_during_registration_is_a_failure() {
    let app = App::new();
    let mut users = MockUserRepo::new();
    users.expect_find_by_username().returning(|_| Ok(None));
    users.expect_create().times(1).returning(|_, _| Err(CreateUserError::Store(StoreError::new("disk full"))));
    let service = app.service_with(|ports| ports.users = Arc::new(users));

    let result = service.register(form("alice", PASSWORD)).await;

    assert!(matches!(result, Err(RegisterError::Failed(Failure::Store(_)))), "{result:?}");
}

#[tokio::test]
async fn the_created_user_is_stored_under_its_key() {
    let app = App::with_config(case_insensitive(true));

    let user = app.service.register(form("Alice", PASSWORD)).await.expect("the form is valid");

    let stored = app.store.find_by_key("alice").await.unwrap().expect("the user is stored under its key");
    assert_eq!(stored.user.id, user.id);
    assert_eq!(stored.user.username, "Alice");
}

/// Registers `carol` with a password of its own, and returns that password with the result.
async fn register_carol(service: AuthService, i: usize) -> (String, Result<User, RegisterError>) {
    let password = format!("password{i}");
    let result = service.register(form("carol", &password)).await;
    (password, result)
}

/// One field's value registered on a fresh app with the default configuration, the other field valid.
struct Attempt {
    field: &'static str,
    result: Result<User, RegisterError>,
}

async fn with_username(username: FieldValue) -> Attempt {
    attempt("username", username, text(PASSWORD)).await
}

async fn with_password(password: FieldValue) -> Attempt {
    attempt("password", text("alice"), password).await
}

/// A registration with these two fields and no address; `field` is the one under test.
async fn attempt(field: &'static str, username: FieldValue, password: FieldValue) -> Attempt {
    let form = RegistrationForm {
        username,
        password,
        email: FieldValue::Missing,
        languages: vec![],
        client: ClientInfo::default(),
    };
    Attempt { field, result: App::new().service.register(form).await }
}

/// Checks that the attempt failed with this one message on its field and no other error.
#[track_caller]
fn check(attempt: Attempt, expected: &str) {
    assert_field_errors(attempt.result, &[(attempt.field, expected)]);
}

#[track_caller]
fn check_accepted(attempt: Attempt) {
    if let Err(error) = attempt.result {
        panic!("expected the {} to be accepted, got {error:?}", attempt.field);
    }
}
