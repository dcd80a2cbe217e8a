//! Password reset by email: the request, the mail and its link, setting the password with it, and the notice.

use std::sync::Arc;
use std::time::Duration;

use authtoken_core::config::ResetSettings;
use authtoken_core::event::EventKind;
use authtoken_core::outbox::{MailKind, OutboxState};
use authtoken_core::ports::UserRepo;
use authtoken_core::service::{FieldValue, ResetError, ResetRequestError};
use authtoken_core::template::MailTemplates;
use authtoken_core::user::NewUser;
use authtoken_testkit::fixtures;

use crate::support::{App, PASSWORD, client, template, text};

const URL: &str = "https://app.example.org/reset#{token}";
const VALIDITY: Duration = Duration::from_secs(3600);
const NEW: &str = "a new horse";

/// An app with reset (English and German mail) and notices on, and alice with `alice@example.org`.
pub(crate) async fn app() -> App {
    let settings = ResetSettings {
        token_validity: VALIDITY,
        url: URL.to_owned(),
        templates: MailTemplates::new(
            template("Reset, {username}", "Open {url}"),
            vec![("de".to_owned(), template("Zurücksetzen, {username}", "Öffne {url}"))],
        ),
    };
    let mut app = App::new();
    app.service = app.service.clone().with_password_reset(Arc::new(app.store.clone()), settings).with_password_notice(
        MailTemplates::new(template("Changed, {username}", "Your password changed.{url}"), vec![]),
    );
    let mut alice: NewUser = fixtures::new_user("alice", PASSWORD);
    alice.email = Some("alice@example.org".to_owned());
    UserRepo::create(&app.store, &alice, &fixtures::event(EventKind::OperatorCreatedUser))
        .await
        .expect("alice is created");
    app
}

/// Requests a reset for `email` and delivers it; returns the token in the mail to `email`.
pub(crate) async fn reset_token(app: &App, email: &str) -> String {
    app.service.request_password_reset(text(email), &[], &client()).await.expect("the request is taken");
    let mail = app.delivered_to(email).await;
    let (_, token) = mail.body.split_once("#").expect("the mail holds the link");
    token.to_owned()
}

#[tokio::test]
async fn a_reset_mail_carries_a_link_that_sets_the_password_once_and_ends_every_session() {
    let app = app().await;
    let session = app.token("alice", PASSWORD).await;
    let token = reset_token(&app, "alice@example.org").await;

    app.service.reset_password(&token, text(NEW), &client()).await.unwrap();

    assert!(app.login("alice", PASSWORD).await.is_err());
    assert!(app.login("alice", NEW).await.is_ok());
    assert!(app.authenticate(&session).await.is_err(), "every session is revoked");
    let again = app.service.reset_password(&token, text("another one"), &client()).await;
    assert!(matches!(again, Err(ResetError::InvalidLink)), "{again:?}");
    let notice = app.delivered_to("alice@example.org").await;
    assert_eq!(notice.subject, "Changed, alice");
    assert_eq!(notice.body, "Your password changed.");
}

#[tokio::test]
async fn the_mail_goes_to_the_accounts_own_address_in_the_requested_language_with_the_configured_url() {
    let app = app().await;

    app.service.request_password_reset(text("ALICE@example.org"), &["de".to_owned()], &client()).await.unwrap();
    let mail = app.delivered_to("alice@example.org").await;

    assert_eq!(mail.subject, "Zurücksetzen, alice");
    assert!(mail.body.starts_with("Öffne https://app.example.org/reset#"), "{}", mail.body);
    assert_eq!(mail.body.len(), "Öffne https://app.example.org/reset#".len() + 64);
}

#[tokio::test]
async fn a_request_for_an_unknown_address_is_taken_alike_and_its_mail_is_void() {
    let app = app().await;
    let hashed_before = app.hasher.verifications();

    app.service.request_password_reset(text("nobody@example.org"), &[], &client()).await.unwrap();
    let report = app.deliver().await;

    assert_eq!((report.sent, report.void.len()), (0, 1));
    assert!(app.mailer.sent().is_empty());
    assert_eq!(app.hasher.verifications(), hashed_before, "no hash either way");
    let failed = app.outbox(&[OutboxState::Failed]).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].mail.kind, MailKind::PasswordReset);
}

#[tokio::test]
async fn a_newer_request_replaces_the_older_link() {
    let app = app().await;
    let older = reset_token(&app, "alice@example.org").await;
    let newer = reset_token(&app, "alice@example.org").await;

    let with_older = app.service.reset_password(&older, text(NEW), &client()).await;

    assert!(matches!(with_older, Err(ResetError::InvalidLink)), "{with_older:?}");
    app.service.reset_password(&newer, text(NEW), &client()).await.unwrap();
}

#[tokio::test]
async fn a_bad_new_password_is_refused_and_the_link_stays_usable() {
    let app = app().await;
    let token = reset_token(&app, "alice@example.org").await;

    for (new, message) in [(text("short"), "password too short"), (FieldValue::Missing, "This field is required.")] {
        let result = app.service.reset_password(&token, new, &client()).await;
        assert!(matches!(result, Err(ResetError::InvalidPassword(m)) if m == message), "{result:?}");
    }
    app.service.reset_password(&token, text(NEW), &client()).await.unwrap();
}

#[tokio::test]
async fn an_expired_or_malformed_link_is_invalid() {
    let app = app().await;
    let token = reset_token(&app, "alice@example.org").await;
    app.service.check_reset_link(&token).await.unwrap();
    app.clock.advance(VALIDITY + Duration::from_millis(1));

    for link in [token.as_str(), "short", &"A".repeat(64)] {
        let result = app.service.reset_password(link, text(NEW), &client()).await;
        assert!(matches!(result, Err(ResetError::InvalidLink)), "{link}: {result:?}");
        assert!(matches!(app.service.check_reset_link(link).await, Err(ResetError::InvalidLink)));
    }
    assert!(app.login("alice", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn a_malformed_address_is_a_field_error_and_reset_off_is_disabled() {
    let app = app().await;
    let bad = app.service.request_password_reset(text("not an address"), &[], &client()).await;
    let off = App::new().service.request_password_reset(text("alice@example.org"), &[], &client()).await;

    assert!(matches!(bad, Err(ResetRequestError::InvalidEmail("Enter a valid email address."))), "{bad:?}");
    assert!(matches!(off, Err(ResetRequestError::Disabled)), "{off:?}");
    assert!(app.outbox(&[OutboxState::Pending]).await.is_empty());
}

#[tokio::test]
async fn a_password_change_queues_a_notice_for_the_account_with_an_address() {
    let app = app().await;
    let token = app.token("alice", PASSWORD).await;
    let alice = app.authenticate(&token).await.unwrap();

    app.service.change_password(&alice, &crate::support::password(PASSWORD), text(NEW), true, &client()).await.unwrap();

    let pending = app.pending_mail().await;
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].kind, pending[0].to.as_str()), (MailKind::PasswordChanged, "alice@example.org"));
}
