//! The operator's use cases: creating a user with registration's rules and a vouched-for address, and setting a
//! user's password with every session revoked.

use std::sync::Arc;

use authtoken_core::ports::{CreateUserError, MockUserRepo};
use authtoken_core::service::{AddUser, SetPasswordError};
use authtoken_core::session::Revoke;
use authtoken_core::user::UserId;
use authtoken_core::{Config, User};
use authtoken_testkit::fixtures;

use crate::support::{
    App, EVERY_STATE, PASSWORD, assert_field_errors, case_insensitive, confirmation_settings, password,
};

const REQUIRED: &str = "This field is required.";
const BLANK: &str = "This field may not be blank.";
const INVALID_CHARACTERS: &str =
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
const TOO_LONG_128: &str = "Ensure this field has no more than 128 characters.";
const PASSWORD_TOO_SHORT: &str = "password too short";
const DUPLICATE: &str = "A user with that username already exists.";
const DUPLICATE_KEY: &str = "already exists";
const INVALID_EMAIL: &str = "Enter a valid email address.";

fn add(username: &str, email: Option<&str>, secret: &str) -> AddUser {
    AddUser { username: username.to_owned(), email: email.map(str::to_owned), password: password(secret) }
}

/// An app that confirms addresses by mail and lets only confirmed users log in.
fn strict() -> App {
    let config = Config { require_confirmed_email_for_login: true, ..fixtures::config() };
    App::with_config(config).with_confirmation(confirmation_settings())
}

#[tokio::test]
async fn an_operator_creates_an_active_user_who_can_log_in() {
    let app = App::new();

    let user = app.service.add_user(add(" alice ", None, PASSWORD)).await.expect("the fields are valid");

    assert_eq!(user.username, "alice");
    assert!(user.is_active);
    assert_eq!((user.email, user.email_confirmed), (None, false));
    assert_eq!(user.joined_at, fixtures::EPOCH);
    assert_eq!(app.login("alice", PASSWORD).await.expect("the new user logs in").user.id, user.id);
}

#[tokio::test]
async fn an_address_the_operator_gives_is_stored_confirmed_and_no_mail_is_queued() {
    let app = strict();

    let user = app.service.add_user(add("alice", Some(" alice@example.org\n"), PASSWORD)).await.expect("valid");

    assert_eq!((user.email.as_deref(), user.email_confirmed), (Some("alice@example.org"), true));
    assert_eq!(app.outbox(EVERY_STATE).await, vec![]);
    assert!(app.login("alice", PASSWORD).await.is_ok(), "a confirmed address is enough to log in");
}

#[tokio::test]
async fn an_address_is_stored_confirmed_with_confirmation_off_too() {
    let app = App::new();

    let user = app.service.add_user(add("alice", Some("alice@example.org"), PASSWORD)).await.expect("valid");

    assert_eq!(app.user("alice").await, user);
    assert!(user.email_confirmed);
}

#[tokio::test]
async fn the_rules_and_messages_are_registrations() {
    let app = App::with_config(case_insensitive(true));
    app.register("Alice", PASSWORD).await;

    let invalid = app.service.add_user(add("john doe", None, "")).await;
    let short = app.service.add_user(add("bob", None, "1234567")).await;
    let long = app.service.add_user(add("bob", None, &"p".repeat(129))).await;
    let email = app.service.add_user(add("bob", Some("bob@example"), PASSWORD)).await;
    let duplicate = app.service.add_user(add("Alice", None, PASSWORD)).await;
    let variant = app.service.add_user(add("ALICE", None, "short")).await;

    assert_field_errors(invalid, &[("username", INVALID_CHARACTERS), ("password", BLANK)]);
    assert_field_errors(short, &[("password", PASSWORD_TOO_SHORT)]);
    assert_field_errors(long, &[("password", TOO_LONG_128)]);
    assert_field_errors(email, &[("email", INVALID_EMAIL)]);
    assert_field_errors(duplicate, &[("username", DUPLICATE)]);
    assert_field_errors(variant, &[("username", DUPLICATE_KEY), ("password", PASSWORD_TOO_SHORT)]);
    assert!(app.user("Alice").await.email.is_none(), "nothing changed");
}

#[tokio::test]
async fn an_address_is_required_where_registration_or_a_login_needs_one() {
    let confirming = App::confirming();
    let login_needs_it = App::with_config(Config { require_confirmed_email_for_login: true, ..fixtures::config() });

    let without_mail = confirming.service.add_user(add("alice", None, PASSWORD)).await;
    let without_login = login_needs_it.service.add_user(add("alice", None, PASSWORD)).await;
    let blank = confirming.service.add_user(add("bob", Some("  "), PASSWORD)).await;

    assert_field_errors(without_mail, &[("email", REQUIRED)]);
    assert_field_errors(without_login, &[("email", REQUIRED)]);
    assert_field_errors(blank, &[("email", BLANK)]);
}

#[tokio::test]
async fn a_name_taken_in_a_race_is_a_field_error_not_a_failure() {
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

    let result = service.add_user(add("alice", None, PASSWORD)).await;

    assert_field_errors(result, &[("username", DUPLICATE)]);
}

#[tokio::test]
async fn setting_a_password_revokes_every_session_and_only_the_new_password_logs_in() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let bob = app.register("bob", PASSWORD).await;
    let first = app.token("alice", PASSWORD).await;
    let second = app.token("alice", PASSWORD).await;
    let bobs = app.token("bob", PASSWORD).await;

    let revoked = app.service.set_password(alice.id, password("new password"), &Revoke::All).await;

    assert_eq!(revoked.expect("the password is valid"), 2);
    assert!(app.authenticate(&first).await.is_err());
    assert!(app.authenticate(&second).await.is_err());
    assert_eq!(app.authenticate(&bobs).await.expect("bob's session stays").user.id, bob.id);
    assert!(app.login("alice", PASSWORD).await.is_err());
    assert!(app.login("alice", "new password").await.is_ok());
}

#[tokio::test]
async fn a_password_that_breaks_a_rule_is_refused_and_changes_nothing() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;

    let short = app.service.set_password(alice.id, password("short"), &Revoke::All).await;
    let blank = app.service.set_password(alice.id, password(""), &Revoke::All).await;

    assert!(matches!(short, Err(SetPasswordError::Invalid(PASSWORD_TOO_SHORT))), "{short:?}");
    assert!(matches!(blank, Err(SetPasswordError::Invalid(BLANK))), "{blank:?}");
    assert!(app.authenticate(&token).await.is_ok());
    assert!(app.login("alice", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn setting_the_password_of_a_user_who_is_gone_says_so() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;

    let result = app.service.set_password(UserId(alice.id.0 + 1), password("new password"), &Revoke::All).await;

    assert!(matches!(result, Err(SetPasswordError::NoSuchUser)), "{result:?}");
}
