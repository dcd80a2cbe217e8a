//! The account: changing the password (with or without revoking the other sessions), setting it, and deleting the
//! account.

use authtoken_core::PlainToken;
use authtoken_core::service::{Authenticated, ChangePasswordError, FieldValue, ReauthError, SetPasswordError};
use authtoken_core::session::Revoke;
use authtoken_core::user::UserId;

use crate::support::{App, PASSWORD, client, password, text};

const NEW: &str = "a new horse";

async fn session_of(app: &App, token: &PlainToken) -> Authenticated {
    app.authenticate(token).await.expect("the token authenticates")
}

#[tokio::test]
async fn change_password_sets_the_new_password_and_revokes_the_other_sessions() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let current = app.token("alice", PASSWORD).await;
    let other = app.token("alice", PASSWORD).await;
    let caller = session_of(&app, &current).await;

    let revoked = app.service.change_password(&caller, &password(PASSWORD), text(NEW), true, &client()).await.unwrap();

    assert_eq!(revoked, 1);
    assert!(app.authenticate(&current).await.is_ok(), "the caller's session stays");
    assert!(app.authenticate(&other).await.is_err());
    assert!(app.login("alice", PASSWORD).await.is_err(), "the old password no longer works");
    assert!(app.login("alice", NEW).await.is_ok());
}

#[tokio::test]
async fn change_password_can_keep_the_other_sessions() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let current = app.token("alice", PASSWORD).await;
    let other = app.token("alice", PASSWORD).await;
    let caller = session_of(&app, &current).await;

    let revoked = app.service.change_password(&caller, &password(PASSWORD), text(NEW), false, &client()).await.unwrap();

    assert_eq!(revoked, 0);
    assert!(app.authenticate(&other).await.is_ok());
    assert!(app.login("alice", NEW).await.is_ok());
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let current = app.token("alice", PASSWORD).await;
    let other = app.token("alice", PASSWORD).await;
    let caller = session_of(&app, &current).await;

    let result = app.service.change_password(&caller, &password("guess"), text(NEW), true, &client()).await;

    assert!(matches!(result, Err(ChangePasswordError::WrongPassword)), "{result:?}");
    assert!(app.authenticate(&other).await.is_ok());
    assert!(app.login("alice", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn a_new_password_that_breaks_a_rule_answers_its_message_and_costs_no_hash() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let caller = session_of(&app, &app.token("alice", PASSWORD).await).await;
    let verified_before = app.hasher.verifications();

    for (new, message) in [
        (text("short"), "password too short"),
        (text(""), "This field may not be blank."),
        (text(&"x".repeat(129)), "Ensure this field has no more than 128 characters."),
        (FieldValue::Missing, "This field is required."),
        (FieldValue::Null, "This field may not be null."),
        (FieldValue::Bool(true), "Not a valid string."),
    ] {
        let result = app.service.change_password(&caller, &password("wrong anyway"), new, true, &client()).await;
        assert!(matches!(result, Err(ChangePasswordError::Invalid(m)) if m == message), "{result:?}");
    }
    assert_eq!(app.hasher.verifications(), verified_before);
    assert!(app.login("alice", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn set_password_checks_the_rules_and_revokes_what_it_is_told() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;

    let short = app.service.set_password(alice.id, password("short"), &Revoke::All).await;
    let nobody = app.service.set_password(UserId(alice.id.0 + 1), password(NEW), &Revoke::All).await;
    let revoked = app.service.set_password(alice.id, password(NEW), &Revoke::All).await.unwrap();

    assert!(matches!(short, Err(SetPasswordError::Invalid("password too short"))), "{short:?}");
    assert!(matches!(nobody, Err(SetPasswordError::NoSuchUser)), "{nobody:?}");
    assert_eq!(revoked, 1);
    assert!(app.authenticate(&token).await.is_err());
    assert!(app.login("alice", NEW).await.is_ok());
}

#[tokio::test]
async fn delete_account_deletes_the_user_and_every_session_once_the_password_is_right() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let current = app.token("alice", PASSWORD).await;
    app.token("alice", PASSWORD).await;
    let bobs = app.token("bob", PASSWORD).await;
    let caller = session_of(&app, &current).await;

    let wrong = app.service.delete_account(&caller, &password("guess"), &client()).await;
    assert!(matches!(wrong, Err(ReauthError::WrongPassword)), "{wrong:?}");
    assert!(app.login("alice", PASSWORD).await.is_ok(), "a wrong password deletes nothing");

    app.service.delete_account(&caller, &password(PASSWORD), &client()).await.unwrap();

    assert!(app.authenticate(&current).await.is_err());
    assert!(app.login("alice", PASSWORD).await.is_err());
    assert!(app.authenticate(&bobs).await.is_ok());
    assert_eq!(app.store.session_count(), 1, "only bob's session is left");
}
