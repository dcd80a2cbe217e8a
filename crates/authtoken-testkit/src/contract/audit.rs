//! Contract cases of the events the store ports record with what they do: each in the same transaction as its
//! action, so that an action that took effect leaves its event, one that did not leaves none, and one whose event
//! cannot be recorded changes nothing.

use std::time::Duration;

use authtoken_core::PlainToken;
use authtoken_core::event::{AuditEvent, EventKind, StoredEvent};
use authtoken_core::outbox::{MailKind, OutboxMail, OutboxState};
use authtoken_core::session::{ClientInfo, Revoke, SessionId, USER_AGENT_MAX_CHARS};
use authtoken_core::user::{User, UserId};

use super::events::every_event;
use super::revocation::notice;
use super::{Stores, register};
use crate::FakePasswordHasher;
use crate::fixtures::{EPOCH, confirmation_mail, event, new_user, session};

const DAY: Duration = Duration::from_secs(86_400);

/// An event of `kind` from a client of its own, at a time of its own, so that what a store records is told apart from
/// any other event.
fn marked(kind: EventKind, user: Option<UserId>, session: Option<&SessionId>) -> AuditEvent {
    let client = ClientInfo::new(Some("audit/1.0 (contract)"), Some("198.51.100.23".to_owned()));
    AuditEvent::new(kind, EPOCH.plus(Duration::from_secs(7)), user, session, &client)
}

/// An event that no store records: its user agent is longer than any request's.
fn unrecordable(kind: EventKind) -> AuditEvent {
    let mut event = event(kind);
    event.client.user_agent = Some("x".repeat(USER_AGENT_MAX_CHARS + 1));
    event
}

async fn user(stores: &Stores, name: &str, email: Option<&str>) -> User {
    let mut new = new_user(name, "password");
    new.email = email.map(str::to_owned);
    stores.users.create(&new, &event(EventKind::Registered)).await.expect("the user is created")
}

/// The events recorded after the first `before`.
async fn since(stores: &Stores, before: usize) -> Vec<AuditEvent> {
    every_event(stores).await.into_iter().skip(before).map(|stored: StoredEvent| stored.event).collect()
}

fn hash() -> authtoken_core::user::PasswordHash {
    FakePasswordHasher::hash_of("password")
}

pub async fn insert_for_login_records_its_event_only_with_the_session(stores: &Stores) {
    let alice = user(stores, "alice", None).await;
    let (_, login) = session(alice.id, EPOCH, DAY);
    let (_, stale) = session(alice.id, EPOCH, DAY);
    let before = every_event(stores).await.len();
    let recorded = marked(EventKind::Login, Some(alice.id), Some(&login.id));

    stores.tokens.insert_for_login(&login, &hash(), None, &recorded).await.unwrap();
    let wrong = FakePasswordHasher::hash_of("another");
    let refused = stores.tokens.insert_for_login(&stale, &wrong, None, &marked(EventKind::Login, None, None)).await;

    assert_eq!(refused.unwrap(), None);
    assert_eq!(since(stores, before).await, [recorded]);
}

pub async fn revocations_record_their_events_and_a_revocation_of_nothing_by_id_none(stores: &Stores) {
    let alice = user(stores, "alice", None).await;
    let bob = user(stores, "bob", None).await;
    let (_, one) = session(alice.id, EPOCH, DAY);
    stores.tokens.insert(&one).await.unwrap();
    let before = every_event(stores).await.len();
    let revoked = marked(EventKind::SessionRevoked, Some(alice.id), Some(&one.id));
    let others = marked(EventKind::OtherSessionsRevoked, Some(alice.id), None);
    let everyone = marked(EventKind::OperatorRevokedEverySession, None, None);

    let by_another = stores.tokens.revoke(bob.id, &one.id, &marked(EventKind::SessionRevoked, None, None)).await;
    assert!(!by_another.unwrap());
    assert!(stores.tokens.revoke(alice.id, &one.id, &revoked).await.unwrap());
    assert!(!stores.tokens.revoke(alice.id, &one.id, &marked(EventKind::SessionRevoked, None, None)).await.unwrap());
    assert_eq!(stores.tokens.revoke_sessions(alice.id, &Revoke::All, &others).await.unwrap(), 0);
    stores.tokens.revoke_everyone(&everyone).await.unwrap();

    assert_eq!(since(stores, before).await, [revoked, others, everyone]);
}

pub async fn create_records_the_event_as_the_new_users_and_a_duplicate_nothing(stores: &Stores) {
    let somebody = Some(UserId(424_242));
    let registered = marked(EventKind::Registered, somebody, None);
    let created = marked(EventKind::OperatorCreatedUser, None, None);
    let mut carol = new_user("carol", "password");
    carol.email = Some("carol@example.org".to_owned());
    let mail = confirmation_mail("carol@example.org");

    let alice = stores.users.create(&new_user("alice", "password"), &created).await.unwrap();
    let carol = stores.confirmations.create_user_with_confirmation(&carol, &mail, &registered).await.unwrap();
    let again = stores.users.create(&new_user("alice", "password"), &created).await;
    let again_with_mail =
        stores.confirmations.create_user_with_confirmation(&new_user("carol", "x"), &mail, &created).await;

    assert!(again.is_err() && again_with_mail.is_err());
    assert_eq!(since(stores, 0).await, [created.of_user(Some(alice.id)), registered.of_user(Some(carol.id))]);
}

pub async fn set_password_set_active_and_delete_record_their_events_only_for_a_user(stores: &Stores) {
    let alice = user(stores, "alice", None).await;
    let nobody = UserId(alice.id.0 + 1000);
    let before = every_event(stores).await.len();
    let changed = marked(EventKind::PasswordChanged, Some(alice.id), None);
    let deactivated = marked(EventKind::OperatorDeactivatedUser, Some(alice.id), None);
    let deleted = marked(EventKind::OperatorDeletedUser, Some(alice.id), None);
    let stray = |kind| marked(kind, Some(nobody), None);
    let stray_change = stray(EventKind::PasswordChanged);

    stores.users.set_password(alice.id, &hash(), &Revoke::All, &[], EPOCH, &changed).await.unwrap();
    stores.users.set_active(alice.id, false, &deactivated).await.unwrap();
    stores.users.delete(alice.id, &deleted).await.unwrap();
    let set = stores.users.set_password(nobody, &hash(), &Revoke::All, &[], EPOCH, &stray_change).await;
    assert_eq!(set.unwrap(), None);
    assert!(!stores.users.set_active(nobody, false, &stray(EventKind::OperatorDeactivatedUser)).await.unwrap());
    assert!(!stores.users.delete(nobody, &stray(EventKind::OperatorDeletedUser)).await.unwrap());

    assert_eq!(since(stores, before).await, [changed, deactivated, deleted]);
}

pub async fn confirm_records_the_event_as_the_links_users_only_when_it_confirms(stores: &Stores) {
    let (alice, token) = register(stores, "alice", EPOCH, DAY).await;
    let before = every_event(stores).await.len();
    let confirmed = marked(EventKind::EmailConfirmed, None, None);

    assert!(stores.confirmations.confirm(&token.digest(), &confirmed).await.unwrap());
    assert!(!stores.confirmations.confirm(&token.digest(), &confirmed).await.unwrap());

    assert_eq!(since(stores, before).await, [confirmed.of_user(Some(alice.id))]);
}

pub async fn request_reset_records_the_event_as_the_address_owners_or_nobodys(stores: &Stores) {
    let mut inactive = new_user("ina", "password");
    inactive.email = Some("shared@example.org".to_owned());
    inactive.is_active = false;
    stores.users.create(&inactive, &event(EventKind::Registered)).await.unwrap();
    let first = user(stores, "first", Some("Shared@Example.ORG")).await;
    user(stores, "second", Some("shared@example.org")).await;
    let before = every_event(stores).await.len();
    let requested = marked(EventKind::PasswordResetRequested, None, None);
    let mail = |to: &str| OutboxMail { to: to.to_owned(), kind: MailKind::PasswordReset, language: None };

    stores.resets.request_reset(&mail("shared@example.org"), EPOCH, &requested).await.unwrap();
    stores.resets.request_reset(&mail("nobody@example.org"), EPOCH, &requested.of_user(Some(first.id))).await.unwrap();

    let expected = [requested.of_user(Some(first.id)), requested.of_user(None)];
    assert_eq!(since(stores, before).await, expected, "the first active account with the address, in any ASCII case");
}

pub async fn reset_password_records_the_event_as_the_links_users_only_when_it_resets(stores: &Stores) {
    let alice = user(stores, "alice", Some("alice@example.org")).await;
    let (token, expired) = (PlainToken::generate().unwrap(), PlainToken::generate().unwrap());
    stores.resets.add_reset("alice@example.org", &expired.digest(), EPOCH, EPOCH).await.unwrap();
    stores.resets.add_reset("alice@example.org", &token.digest(), EPOCH, EPOCH.plus(DAY)).await.unwrap();
    let before = every_event(stores).await.len();
    let reset = marked(EventKind::PasswordReset, None, None);
    let later = EPOCH.plus(Duration::from_secs(1));

    let used = stores.resets.reset_password(&token.digest(), later, &hash(), &[], &reset).await.unwrap();
    let again = stores.resets.reset_password(&token.digest(), later, &hash(), &[], &reset).await.unwrap();

    assert_eq!((used, again), (Some(alice.id), None));
    assert_eq!(since(stores, before).await, [reset.of_user(Some(alice.id))]);
}

pub async fn an_action_whose_event_is_refused_changes_nothing(stores: &Stores) {
    let (alice, link) = register(stores, "alice", EPOCH, DAY).await;
    let bob = user(stores, "bob", Some("bob@example.org")).await;
    let reset = PlainToken::generate().unwrap();
    stores.resets.add_reset("bob@example.org", &reset.digest(), EPOCH, EPOCH.plus(DAY)).await.unwrap();
    let (_, kept) = session(alice.id, EPOCH, DAY);
    stores.tokens.insert(&kept).await.unwrap();
    let (_, login) = session(bob.id, EPOCH, DAY);
    let before = every_event(stores).await;
    let outbox = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    let refused = unrecordable;
    let new_hash = FakePasswordHasher::hash_of("another password");
    let mut carol = new_user("carol", "password");
    carol.email = Some("carol@example.org".to_owned());
    let notices = [notice("alice@example.org")];

    let tokens = &stores.tokens;
    assert!(tokens.insert_for_login(&login, &hash(), None, &refused(EventKind::Login)).await.is_err());
    assert!(tokens.revoke(alice.id, &kept.id, &refused(EventKind::SessionRevoked)).await.is_err());
    assert!(tokens.revoke_sessions(alice.id, &Revoke::All, &refused(EventKind::AllSessionsRevoked)).await.is_err());
    assert!(tokens.revoke_everyone(&refused(EventKind::OperatorRevokedEverySession)).await.is_err());
    let users = &stores.users;
    assert!(users.create(&new_user("dave", "password"), &refused(EventKind::Registered)).await.is_err());
    let change = refused(EventKind::PasswordChanged);
    assert!(users.set_password(alice.id, &new_hash, &Revoke::All, &notices, EPOCH, &change).await.is_err());
    assert!(users.set_active(alice.id, false, &refused(EventKind::OperatorDeactivatedUser)).await.is_err());
    assert!(users.delete(bob.id, &refused(EventKind::OperatorDeletedUser)).await.is_err());
    let mail = confirmation_mail("carol@example.org");
    let confirmations = &stores.confirmations;
    assert!(confirmations.create_user_with_confirmation(&carol, &mail, &refused(EventKind::Registered)).await.is_err());
    assert!(confirmations.confirm(&link.digest(), &refused(EventKind::EmailConfirmed)).await.is_err());
    let reset_mail = OutboxMail { to: "bob@example.org".to_owned(), kind: MailKind::PasswordReset, language: None };
    let resets = &stores.resets;
    assert!(resets.request_reset(&reset_mail, EPOCH, &refused(EventKind::PasswordResetRequested)).await.is_err());
    let now = EPOCH.plus(Duration::from_secs(1));
    let (digest, reset_event) = (reset.digest(), refused(EventKind::PasswordReset));
    assert!(resets.reset_password(&digest, now, &new_hash, &[], &reset_event).await.is_err());

    assert_eq!(every_event(stores).await, before, "no event was recorded");
    assert_eq!(stores.outbox.entries(&[OutboxState::Pending]).await.unwrap(), outbox, "no mail was queued");
    assert_eq!(tokens.find(&login.digest).await.unwrap(), None, "the login stored no session");
    assert_eq!(tokens.sessions_of(alice.id).await.unwrap(), [kept], "no session was revoked");
    for name in ["carol", "dave"] {
        assert_eq!(users.find_by_username(name).await.unwrap(), None, "{name} was not created");
    }
    let alice_now = users.find_credentials(alice.id).await.unwrap().expect("alice exists");
    assert_eq!(alice_now.password_hash, hash(), "alice's password is the same");
    assert!(alice_now.user.is_active && !alice_now.user.email_confirmed, "{:?}", alice_now.user);
    assert!(confirmations.find_confirmation(&link.digest()).await.unwrap().is_some(), "the link was not used");
    let bob_now = users.find_credentials(bob.id).await.unwrap().expect("bob was not deleted");
    assert_eq!(bob_now.password_hash, hash(), "bob's password is the same");
    assert!(resets.find_reset(&reset.digest()).await.unwrap().is_some(), "the reset link was not used");
}
