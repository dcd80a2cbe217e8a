//! Email confirmation: a link confirms once and only while it is valid and matches the user's address, checking it
//! consumes nothing, sending again revokes older links, and logins can wait for a confirmed address.

use std::time::Duration;

use authtoken_core::event::EventKind;
use authtoken_core::outbox::OutboxState;
use authtoken_core::ports::{ConfirmationRepo, Outbox, UserRepo};
use authtoken_core::service::{ConfirmError, LoginError, SendConfirmationError};
use authtoken_core::user::{NewUser, UserId};
use authtoken_core::{Config, PlainToken, User};
use authtoken_testkit::fixtures;

use crate::support::{App, EVERY_STATE, LINK_VALIDITY, PASSWORD, client, confirmation_settings, digest};

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";

#[tokio::test]
async fn a_fresh_link_confirms_the_user() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    let token = app.link_token(ALICE).await;

    let result = app.service.confirm_email(&token, &client()).await;

    assert!(result.is_ok(), "{result:?}");
    assert!(app.user("alice").await.email_confirmed);
}

#[tokio::test]
async fn a_link_is_consumed_by_its_first_use() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    let token = app.link_token(ALICE).await;

    let first = app.service.confirm_email(&token, &client()).await;
    let second = app.service.confirm_email(&token, &client()).await;

    assert!(first.is_ok(), "{first:?}");
    check_invalid(second);
    assert_eq!(app.store.find_confirmation(&digest(&token)).await.unwrap(), None);
}

#[tokio::test]
async fn malformed_and_unknown_tokens_are_invalid_and_confirm_nothing() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    let token = app.link_token(ALICE).await;
    let unknown = PlainToken::generate().unwrap().expose();

    check_invalid(app.service.confirm_email("", &client()).await);
    check_invalid(app.service.confirm_email("not a token", &client()).await);
    check_invalid(app.service.confirm_email(&token[..63], &client()).await);
    check_invalid(app.service.confirm_email(&format!("{token}A"), &client()).await);
    check_invalid(app.service.confirm_email(&format!("{token}/"), &client()).await);
    check_invalid(app.service.confirm_email(&format!("{}=", &token[..63]), &client()).await);
    check_invalid(app.service.confirm_email(&"+".repeat(64), &client()).await);
    check_invalid(app.service.confirm_email(&unknown, &client()).await);

    assert!(!app.user("alice").await.email_confirmed);
    assert!(app.service.confirm_email(&token, &client()).await.is_ok());
}

#[tokio::test]
async fn a_link_is_valid_at_exactly_its_expiry_instant() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    let token = app.link_token(ALICE).await;
    app.clock.advance(LINK_VALIDITY);

    let checked = app.service.check_confirmation_link(&token).await;
    let confirmed = app.service.confirm_email(&token, &client()).await;

    assert!(checked.is_ok(), "{checked:?}");
    assert!(confirmed.is_ok(), "{confirmed:?}");
    assert!(app.user("alice").await.email_confirmed);
}

#[tokio::test]
async fn a_link_is_invalid_one_millisecond_after_its_expiry_and_is_deleted_when_presented() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    let token = app.link_token(ALICE).await;
    app.clock.advance(LINK_VALIDITY + Duration::from_millis(1));

    let result = app.service.confirm_email(&token, &client()).await;

    check_invalid(result);
    assert_eq!(app.store.find_confirmation(&digest(&token)).await.unwrap(), None);
    assert!(!app.user("alice").await.email_confirmed);
}

#[tokio::test]
async fn a_link_sent_to_another_address_than_the_users_current_one_is_invalid_and_kept() {
    let app = App::confirming();
    let user = NewUser { email: Some("new@example.org".to_owned()), ..fixtures::new_user("alice", PASSWORD) };
    let alice = UserRepo::create(&app.store, &user, &fixtures::event(EventKind::OperatorCreatedUser)).await.unwrap();
    let (token, link) = fixtures::confirmation(alice.id, "old@example.org", fixtures::EPOCH, LINK_VALIDITY);
    app.store.insert_confirmation(link);

    let checked = app.service.check_confirmation_link(&token.expose()).await;
    let confirmed = app.service.confirm_email(&token.expose(), &client()).await;

    check_invalid(checked);
    check_invalid(confirmed);
    let kept = app.store.find_confirmation(&token.digest()).await.unwrap().expect("the link is kept");
    assert_eq!(kept.confirmation.email, "old@example.org");
    assert!(!app.user("alice").await.email_confirmed);
}

#[tokio::test]
async fn with_confirmation_off_every_link_is_invalid() {
    let app = App::new();
    let user = NewUser { email: Some(ALICE.to_owned()), ..fixtures::new_user("alice", PASSWORD) };
    let alice = UserRepo::create(&app.store, &user, &fixtures::event(EventKind::OperatorCreatedUser)).await.unwrap();
    let (token, link) = fixtures::confirmation(alice.id, ALICE, fixtures::EPOCH, LINK_VALIDITY);
    app.store.add_confirmation(&link).await.unwrap().expect("the link is stored");

    let checked = app.service.check_confirmation_link(&token.expose()).await;
    let confirmed = app.service.confirm_email(&token.expose(), &client()).await;

    check_invalid(checked);
    check_invalid(confirmed);
    assert!(!app.user("alice").await.email_confirmed);
}

#[tokio::test]
async fn checking_a_link_answers_like_confirming_but_consumes_nothing() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    let token = app.link_token(ALICE).await;

    let first = app.service.check_confirmation_link(&token).await;
    let second = app.service.check_confirmation_link(&token).await;
    let malformed = app.service.check_confirmation_link("not a token").await;
    let unknown = app.service.check_confirmation_link(&PlainToken::generate().unwrap().expose()).await;

    assert!(first.is_ok(), "{first:?}");
    assert!(second.is_ok(), "{second:?}");
    check_invalid(malformed);
    check_invalid(unknown);
    assert!(!app.user("alice").await.email_confirmed);
    assert!(app.service.confirm_email(&token, &client()).await.is_ok());
    assert!(app.user("alice").await.email_confirmed);
}

#[tokio::test]
async fn checking_a_used_or_expired_link_is_invalid() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    app.register_with_email("bob", BOB).await;
    let used = app.link_token(ALICE).await;
    let expired = app.link_token(BOB).await;
    app.service.confirm_email(&used, &client()).await.unwrap();
    app.clock.advance(LINK_VALIDITY + Duration::from_millis(1));

    let used = app.service.check_confirmation_link(&used).await;
    let expired = app.service.check_confirmation_link(&expired).await;

    check_invalid(used);
    check_invalid(expired);
}

#[tokio::test]
async fn sending_again_queues_a_fresh_link_and_the_older_links_stop_working() {
    let app = App::confirming();
    let alice = app.register_with_email("alice", ALICE).await;
    let old = app.link_token(ALICE).await;
    app.clock.advance(Duration::from_secs(3600));

    app.service.send_confirmation_email(&alice).await.expect("the link is sent");

    let pending = app.pending_mail().await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    check_invalid(app.service.confirm_email(&old, &client()).await);
    let mail = app.delivered_to(ALICE).await;
    let new = crate::support::token_in(&mail);
    assert_ne!(new, old);
    assert_eq!(mail.subject, "Confirm your address, alice");
    let stored = app.store.find_confirmation(&digest(&new)).await.unwrap().expect("the new link is stored");
    assert_eq!(stored.confirmation.expires_at, fixtures::EPOCH.plus(Duration::from_secs(3600) + LINK_VALIDITY));
    check_invalid(app.service.confirm_email(&old, &client()).await);
    assert!(app.service.confirm_email(&new, &client()).await.is_ok());
}

#[tokio::test]
async fn sending_again_leaves_other_users_links_and_mail_alone() {
    let app = App::confirming();
    let alice = app.register_with_email("alice", ALICE).await;
    app.register_with_email("bob", BOB).await;
    app.mailer.fail_for(ALICE);
    let bobs = app.link_token(BOB).await;
    app.register_with_email("carol", "carol@example.org").await;

    app.service.send_confirmation_email(&alice).await.expect("the link is sent");

    let recipients: Vec<String> = app.pending_mail().await.into_iter().map(|mail| mail.to).collect();
    assert_eq!(recipients, ["carol@example.org", ALICE]);
    assert_eq!(app.outbox(&[OutboxState::Sent]).await.len(), 1, "bob's mail stays sent");
    assert!(app.service.confirm_email(&bobs, &client()).await.is_ok());
}

#[tokio::test]
async fn sending_again_keeps_the_record_of_mail_already_sent() {
    let app = App::confirming();
    let alice = app.register_with_email("alice", ALICE).await;
    let first = app.outbox(&[OutboxState::Pending]).await.remove(0);
    app.store.mark_sent(first.id, fixtures::EPOCH).await.unwrap();

    app.service.send_confirmation_email(&alice).await.expect("the link is sent");

    let sent = app.outbox(&[OutboxState::Sent]).await;
    assert_eq!(sent.iter().map(|entry| entry.id).collect::<Vec<_>>(), [first.id]);
    assert_eq!(app.pending_mail().await.len(), 1);
}

#[tokio::test]
async fn an_already_confirmed_user_gets_no_new_link() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    app.service.confirm_email(&app.link_token(ALICE).await, &client()).await.unwrap();
    let alice = app.user("alice").await;
    let before = app.outbox(EVERY_STATE).await;

    let result = app.service.send_confirmation_email(&alice).await;

    assert!(matches!(result, Err(SendConfirmationError::AlreadyConfirmed)), "{result:?}");
    assert_eq!(app.outbox(EVERY_STATE).await, before);
}

#[tokio::test]
async fn a_user_without_an_address_gets_no_link() {
    let app = App::confirming();
    let none = UserRepo::create(
        &app.store,
        &fixtures::new_user("bob", PASSWORD),
        &fixtures::event(EventKind::OperatorCreatedUser),
    )
    .await
    .unwrap();
    let empty = NewUser { email: Some(String::new()), ..fixtures::new_user("carol", PASSWORD) };
    let empty = UserRepo::create(&app.store, &empty, &fixtures::event(EventKind::OperatorCreatedUser)).await.unwrap();

    let none = app.service.send_confirmation_email(&none).await;
    let empty = app.service.send_confirmation_email(&empty).await;

    assert!(matches!(none, Err(SendConfirmationError::NoEmail)), "{none:?}");
    assert!(matches!(empty, Err(SendConfirmationError::NoEmail)), "{empty:?}");
    assert!(app.pending_mail().await.is_empty());
}

#[tokio::test]
async fn an_unknown_user_gets_no_link() {
    let app = App::confirming();
    let ghost = User {
        id: UserId(42),
        username: "ghost".to_owned(),
        email: Some("ghost@example.org".to_owned()),
        email_confirmed: false,
        is_active: true,
        joined_at: fixtures::EPOCH,
        last_login_at: None,
    };

    let result = app.service.send_confirmation_email(&ghost).await;

    assert!(matches!(result, Err(SendConfirmationError::UnknownUser)), "{result:?}");
    assert!(app.pending_mail().await.is_empty());
}

#[tokio::test]
async fn with_confirmation_off_no_link_is_sent() {
    let app = App::new();
    let user = NewUser { email: Some(ALICE.to_owned()), ..fixtures::new_user("alice", PASSWORD) };
    let alice = UserRepo::create(&app.store, &user, &fixtures::event(EventKind::OperatorCreatedUser)).await.unwrap();

    let result = app.service.send_confirmation_email(&alice).await;

    assert!(matches!(result, Err(SendConfirmationError::Disabled)), "{result:?}");
    assert!(app.pending_mail().await.is_empty());
}

#[tokio::test]
async fn an_unconfirmed_user_cannot_log_in_when_confirmation_is_required_yet_costs_one_real_verification() {
    let app = App::with_config(requiring_confirmation(true)).with_confirmation(confirmation_settings());
    app.register_with_email("alice", ALICE).await;

    let result = app.login("alice", PASSWORD).await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)), "{result:?}");
    assert_eq!(app.hasher.verifications(), (1, 0));
    assert_eq!(app.store.session_count(), 0);
}

#[tokio::test]
async fn after_confirming_the_user_logs_in_when_confirmation_is_required() {
    let app = App::with_config(requiring_confirmation(true)).with_confirmation(confirmation_settings());
    let alice = app.register_with_email("alice", ALICE).await;
    app.service.confirm_email(&app.link_token(ALICE).await, &client()).await.unwrap();

    let result = app.login("alice", PASSWORD).await;

    assert_eq!(result.expect("the confirmed user logs in").user.id, alice.id);
}

#[tokio::test]
async fn an_unconfirmed_user_logs_in_when_confirmation_is_not_required() {
    let app = App::with_config(requiring_confirmation(false)).with_confirmation(confirmation_settings());
    let alice = app.register_with_email("alice", ALICE).await;

    let result = app.login("alice", PASSWORD).await;

    assert_eq!(result.expect("the unconfirmed user logs in").user.id, alice.id);
}

#[tokio::test]
async fn unconfirmed_users_are_those_with_an_address_that_is_not_confirmed() {
    let app = App::confirming();
    let alice = app.register_with_email("alice", ALICE).await;
    app.register_with_email("bob", BOB).await;
    app.service.confirm_email(&app.link_token(BOB).await, &client()).await.unwrap();
    UserRepo::create(
        &app.store,
        &fixtures::new_user("carol", PASSWORD),
        &fixtures::event(EventKind::OperatorCreatedUser),
    )
    .await
    .unwrap();
    let blank = NewUser { email: Some(String::new()), ..fixtures::new_user("dave", PASSWORD) };
    UserRepo::create(&app.store, &blank, &fixtures::event(EventKind::OperatorCreatedUser)).await.unwrap();
    let erin = app.register_with_email("erin", "erin@example.org").await;

    let users = app.service.unconfirmed_users().await.expect("the store answers");

    assert_eq!(users, [alice, erin]);
}

#[tokio::test]
async fn with_confirmation_off_there_is_no_list_of_unconfirmed_users() {
    let app = App::new();

    let result = app.service.unconfirmed_users().await;

    assert!(matches!(result, Err(SendConfirmationError::Disabled)), "{result:?}");
}

#[tokio::test]
async fn purging_deletes_only_expired_links() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    let expired = app.link_token(ALICE).await;
    app.clock.advance(Duration::from_millis(1));
    app.register_with_email("bob", BOB).await;
    let at_expiry = app.link_token(BOB).await;
    app.clock.advance(LINK_VALIDITY);

    let purged = app.service.purge_expired_confirmations().await.expect("the store answers");

    assert_eq!(purged, 1);
    assert_eq!(app.store.find_confirmation(&digest(&expired)).await.unwrap(), None);
    assert!(app.store.find_confirmation(&digest(&at_expiry)).await.unwrap().is_some());
    assert!(app.service.confirm_email(&at_expiry, &client()).await.is_ok());
}

#[tokio::test]
async fn with_confirmation_off_purging_deletes_nothing() {
    let app = App::new();
    let user = NewUser { email: Some(ALICE.to_owned()), ..fixtures::new_user("alice", PASSWORD) };
    let alice = UserRepo::create(&app.store, &user, &fixtures::event(EventKind::OperatorCreatedUser)).await.unwrap();
    let (token, link) = fixtures::confirmation(alice.id, ALICE, fixtures::EPOCH, LINK_VALIDITY);
    app.store.add_confirmation(&link).await.unwrap().expect("the link is stored");
    app.clock.advance(LINK_VALIDITY * 2);

    let purged = app.service.purge_expired_confirmations().await.expect("nothing to do");

    assert_eq!(purged, 0);
    assert!(app.store.find_confirmation(&token.digest()).await.unwrap().is_some());
}

#[track_caller]
fn check_invalid(result: Result<(), ConfirmError>) {
    assert!(matches!(result, Err(ConfirmError::Invalid)), "expected an invalid link, got {result:?}");
}

fn requiring_confirmation(required: bool) -> Config {
    Config { require_confirmed_email_for_login: required, ..fixtures::config() }
}
