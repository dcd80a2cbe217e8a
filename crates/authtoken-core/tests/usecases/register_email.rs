//! Registration with email confirmation: the email field's rules, the unconfirmed user, and the one confirmation
//! mail queued with it, written in the client's language when it is delivered.

use std::time::Duration;

use authtoken_core::outbox::{Mail, MailKind, OutboxMail, OutboxState};
use authtoken_core::ports::ConfirmationRepo;
use authtoken_core::service::FieldValue::{Missing, NotString, Null};
use authtoken_core::service::{FieldValue, RegisterError, RegistrationForm};
use authtoken_core::{PlainToken, User};
use authtoken_testkit::fixtures;

use crate::support::{
    App, EVERY_STATE, LINK_VALIDITY, PASSWORD, assert_field_errors, digest, email_form, field_errors, form, link, text,
    token_in,
};

const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const NOT_A_STRING: &str = "Not a valid string.";
const BLANK: &str = "This field may not be blank.";
const TOO_LONG_254: &str = "Ensure this field has no more than 254 characters.";
const INVALID: &str = "Enter a valid email address.";
const DUPLICATE: &str = "A user with that username already exists.";
const PASSWORD_TOO_SHORT: &str = "password too short";

#[tokio::test]
async fn email_messages_are_upstreams_and_a_blank_address_is_rejected() {
    check(with_email(Missing).await, REQUIRED);
    check(with_email(Null).await, NULL);
    check(with_email(NotString).await, NOT_A_STRING);
    check(with_email(text("")).await, BLANK);
    check(with_email(text(" \t\r\n ")).await, BLANK);
    check(with_email(text(&address_of_length(255))).await, TOO_LONG_254);
    check(with_email(text(&format!("{}@example.org", "a".repeat(300)))).await, TOO_LONG_254);
    check(with_email(text("alice")).await, INVALID);
    check(with_email(text("alice@")).await, INVALID);
    check(with_email(text("@example.org")).await, INVALID);
    check(with_email(text("alice@example")).await, INVALID);
    check(with_email(text("alice@@example.org")).await, INVALID);
    check(with_email(text("al ice@example.org")).await, INVALID);
    check(with_email(text("alice.@example.org")).await, INVALID);
    check(with_email(text("alice@example..org")).await, INVALID);
    check(with_email(text("alice@-example.org")).await, INVALID);
    check(with_email(text("alice@example.org, bob@example.org")).await, INVALID);
    check(with_email(text("<alice@example.org>")).await, INVALID);
}

#[tokio::test]
async fn an_address_with_a_display_name_is_not_a_valid_email() {
    check(with_email(text("Alice <alice@example.org>")).await, INVALID);
    check(with_email(text("\"Bob\" <bob@example.org>")).await, INVALID);
}

#[tokio::test]
async fn an_address_no_mail_transport_can_send_to_is_not_a_valid_email() {
    check(with_email(text("alice@[192.0.2.1]")).await, INVALID);
    check(with_email(text("user@[127.0.0.1]")).await, INVALID);
    check(with_email(text("\"a b\"@example.org")).await, INVALID);
    check(with_email(text("\"john doe\"@example.org")).await, INVALID);
}

#[tokio::test]
async fn valid_addresses_are_accepted_trimmed() {
    check_accepted(with_email(text("alice@example.org")).await, "alice@example.org");
    check_accepted(with_email(text(" \talice@example.org\n")).await, "alice@example.org");
    check_accepted(with_email(text("alice+tag@mail.example.co.uk")).await, "alice+tag@mail.example.co.uk");
    check_accepted(with_email(text("alice@localhost")).await, "alice@localhost");
    check_accepted(with_email(text(&address_of_length(254))).await, &address_of_length(254));
}

#[tokio::test]
async fn a_valid_registration_stores_an_unconfirmed_user_and_queues_one_mail_with_the_link() {
    let app = App::confirming();

    let user = app.service.register(email_form("alice", "alice@example.org")).await.expect("the form is valid");

    assert_eq!(user.email.as_deref(), Some("alice@example.org"));
    assert!(!user.email_confirmed);
    assert!(user.is_active);
    assert_eq!(app.user("alice").await, user);
    let outbox = app.outbox(EVERY_STATE).await;
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let entry = &outbox[0];
    let queued = OutboxMail { to: "alice@example.org".to_owned(), kind: MailKind::Confirmation, language: None };
    assert_eq!(entry.mail, queued, "the outbox keeps what the mail is, never its text");
    assert_eq!(entry.user_id, Some(user.id));
    assert_eq!((entry.state, entry.attempts, entry.next_attempt_at), (OutboxState::Pending, 0, fixtures::EPOCH));
    assert_eq!(app.store.confirmation_count(user.id), 0, "the link is minted when the mail is delivered");
    let mail = app.delivered_to("alice@example.org").await;
    let token = token_in(&mail);
    let expected = Mail {
        to: "alice@example.org".to_owned(),
        subject: "Confirm your address, alice".to_owned(),
        body: format!("Hello alice,\n\nopen {} to confirm your address.\n", link(&token)),
    };
    assert_eq!(mail, expected);
    assert!(PlainToken::parse(token.as_bytes()).is_ok(), "{token}");
}

#[tokio::test]
async fn the_link_in_the_mail_is_stored_as_a_digest_for_the_user_and_the_address() {
    let app = App::confirming();
    app.clock.advance(Duration::from_secs(3));

    let user = app.register_with_email("alice", "alice@example.org").await;

    let token = app.link_token("alice@example.org").await;
    let found = app.store.find_confirmation(&digest(&token)).await.unwrap().expect("the link is stored");
    let created_at = fixtures::EPOCH.plus(Duration::from_secs(3));
    assert_eq!(found.user, user);
    assert_eq!(found.confirmation.user_id, user.id);
    assert_eq!(found.confirmation.email, "alice@example.org");
    assert_eq!(found.confirmation.created_at, created_at);
    assert_eq!(found.confirmation.expires_at, created_at.plus(LINK_VALIDITY));
}

#[tokio::test]
async fn the_mail_is_in_the_first_configured_language_the_client_prefers() {
    let app = App::confirming();
    let languages = vec!["fr".to_owned(), "de-AT".to_owned(), "en".to_owned()];

    app.service.register(RegistrationForm { languages, ..email_form("alice", "alice@example.org") }).await.unwrap();

    assert_eq!(single(app.pending_mail().await).language.as_deref(), Some("de"));
    let mail = app.delivered_to("alice@example.org").await;
    assert_eq!(mail.subject, "Bestätige deine Adresse, alice");
    assert_eq!(
        mail.body,
        format!("Hallo alice,\n\nöffne {}, um deine Adresse zu bestätigen.\n", link(&token_in(&mail)))
    );
}

#[tokio::test]
async fn without_a_configured_language_the_mail_is_in_the_default_one() {
    let app = App::confirming();
    let languages = vec!["fr".to_owned(), "pt-BR".to_owned()];

    app.service.register(RegistrationForm { languages, ..email_form("alice", "alice@example.org") }).await.unwrap();

    assert_eq!(single(app.pending_mail().await).language, None);
    let mail = app.delivered_to("alice@example.org").await;
    assert_eq!(mail.subject, "Confirm your address, alice");
    assert_eq!(mail.body, format!("Hello alice,\n\nopen {} to confirm your address.\n", link(&token_in(&mail))));
}

#[tokio::test]
async fn errors_of_all_three_fields_are_reported_together_in_field_order_and_no_mail_is_queued() {
    let app = App::confirming();
    app.register_with_email("alice", "alice@example.org").await;
    let form = RegistrationForm { email: text("not an address"), ..form("alice", "short") };

    let result = app.service.register(form).await;

    assert_field_errors(result, &[("username", DUPLICATE), ("password", PASSWORD_TOO_SHORT), ("email", INVALID)]);
    assert_eq!(app.outbox(EVERY_STATE).await.len(), 1);
}

#[tokio::test]
async fn a_duplicate_username_with_a_valid_address_queues_no_mail() {
    let app = App::confirming();
    app.register_with_email("alice", "alice@example.org").await;

    let result = app.service.register(email_form("alice", "other@example.org")).await;

    assert_field_errors(result, &[("username", DUPLICATE)]);
    let outbox = app.outbox(EVERY_STATE).await;
    assert_eq!(outbox.iter().map(|e| e.mail.to.as_str()).collect::<Vec<_>>(), ["alice@example.org"]);
}

#[tokio::test]
async fn without_confirmation_the_email_field_is_ignored_and_no_mail_is_queued() {
    let app = App::new();

    let invalid = app.service.register(email_form("alice", "not an address")).await;
    let valid = app.service.register(email_form("bob", "bob@example.org")).await;
    let not_a_string = app.service.register(RegistrationForm { email: NotString, ..form("carol", PASSWORD) }).await;

    assert_eq!(invalid.expect("the email is ignored").email, None);
    assert_eq!(valid.expect("the email is ignored").email, None);
    assert_eq!(not_a_string.expect("the email is ignored").email, None);
    assert!(app.outbox(EVERY_STATE).await.is_empty());
}

/// One email value registered as `alice` on a fresh app with confirmation on, and what it left behind.
struct Attempt {
    /// The value as the test gave it (`FieldValue` redacts text in `Debug`).
    email: String,
    result: Result<User, RegisterError>,
    outbox: Vec<OutboxMail>,
}

async fn with_email(email: FieldValue) -> Attempt {
    let app = App::confirming();
    let shown = match &email {
        FieldValue::Text(text) => format!("{text:?}"),
        other => format!("{other:?}"),
    };
    let result = app.service.register(RegistrationForm { email, ..form("alice", PASSWORD) }).await;
    let outbox = app.outbox(EVERY_STATE).await.into_iter().map(|entry| entry.mail).collect();
    Attempt { email: shown, result, outbox }
}

/// Checks that the attempt failed with this one message on the email and queued no mail.
#[track_caller]
fn check(attempt: Attempt, expected: &str) {
    let Attempt { email, result, outbox } = attempt;
    match result {
        Err(RegisterError::Invalid(errors)) => assert_eq!(errors, field_errors(&[("email", expected)]), "{email}"),
        other => panic!("expected {expected:?} for {email}, got {other:?}"),
    }
    assert!(outbox.is_empty(), "{outbox:?}");
}

/// Checks that the attempt created a user with this address and queued one mail to it.
#[track_caller]
fn check_accepted(attempt: Attempt, address: &str) {
    let Attempt { email, result, outbox } = attempt;
    match result {
        Ok(user) => assert_eq!(user.email.as_deref(), Some(address), "{email}"),
        Err(error) => panic!("expected {email} to be accepted as {address:?}, got {error:?}"),
    }
    assert_eq!(outbox.iter().map(|mail| mail.to.as_str()).collect::<Vec<_>>(), [address]);
}

#[track_caller]
fn single(mut mail: Vec<OutboxMail>) -> OutboxMail {
    assert_eq!(mail.len(), 1, "{mail:?}");
    mail.remove(0)
}

/// A valid address of exactly `chars` characters (at least 135): a 64-character local part and labels of at most
/// 63 characters.
fn address_of_length(chars: usize) -> String {
    let last_label = chars - 64 - 1 - 64 - 64 - ".com".len();
    format!("{}@{}.{}.{}.com", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(last_label))
}
