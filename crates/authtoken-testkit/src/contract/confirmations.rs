//! Contract cases of `ConfirmationRepo`.

use std::time::Duration;

use authtoken_core::confirmation::Confirmation;
use authtoken_core::event::EventKind;
use authtoken_core::outbox::{OutboxEntry, OutboxState};
use authtoken_core::ports::CreateUserError;
use authtoken_core::{Timestamp, UserId};

use super::{Stores, register};
use crate::fixtures::{EPOCH, confirmation, confirmation_mail, event, new_user};

const DAY: Duration = Duration::from_secs(86_400);
const MINUTE: Duration = Duration::from_secs(60);
const ALL_STATES: [OutboxState; 3] = [OutboxState::Pending, OutboxState::Sent, OutboxState::Failed];

pub async fn create_user_with_confirmation_stores_the_user_and_queues_its_mail(stores: &Stores) {
    let mut new = new_user("alice", "pw");
    new.email = Some("alice@example.org".to_owned());
    new.joined_at = EPOCH.plus(MINUTE);
    let mail = confirmation_mail("alice@example.org");

    let alice =
        stores.confirmations.create_user_with_confirmation(&new, &mail, &event(EventKind::Registered)).await.unwrap();

    assert_eq!((alice.username.as_str(), alice.email.as_deref()), ("alice", Some("alice@example.org")));
    assert!(!alice.email_confirmed);
    assert_eq!(stores.users.find_by_username("alice").await.unwrap(), Some(alice.clone()));
    let entries = stores.outbox.entries(&ALL_STATES).await.unwrap();
    let queued = OutboxEntry {
        id: entries[0].id,
        user_id: Some(alice.id),
        mail,
        state: OutboxState::Pending,
        created_at: EPOCH.plus(MINUTE),
        attempts: 0,
        next_attempt_at: EPOCH.plus(MINUTE),
        last_error: None,
        sent_at: None,
    };
    assert_eq!(entries, vec![queued]);
}

pub async fn create_user_with_confirmation_rejects_a_duplicate_username_and_writes_nothing(stores: &Stores) {
    stores.users.create(&new_user("alice", "one"), &event(EventKind::Registered)).await.unwrap();

    let mail = confirmation_mail("alice@example.org");
    let again = stores
        .confirmations
        .create_user_with_confirmation(&new_user("alice", "two"), &mail, &event(EventKind::Registered))
        .await;

    assert!(matches!(again, Err(CreateUserError::Duplicate)), "{again:?}");
    assert_eq!(stores.outbox.entries(&ALL_STATES).await.unwrap(), vec![]);
}

pub async fn create_user_with_confirmation_rejects_a_duplicate_key_and_writes_nothing(stores: &Stores) {
    let (first, _) = register(stores, "Alice", EPOCH, DAY).await;
    let mut variant = new_user("ALICE", "two");
    variant.username_key = first.username.clone();

    let mail = confirmation_mail("other@example.org");
    let again =
        stores.confirmations.create_user_with_confirmation(&variant, &mail, &event(EventKind::Registered)).await;

    assert!(matches!(again, Err(CreateUserError::Duplicate)), "{again:?}");
    assert_eq!(stores.users.find_by_username("ALICE").await.unwrap(), None);
    let entries = stores.outbox.entries(&ALL_STATES).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.user_id).collect::<Vec<_>>(), vec![Some(first.id)]);
}

pub async fn concurrent_creates_with_confirmation_of_one_username_give_exactly_one_user(stores: &Stores) {
    let mails: Vec<_> = (0..20).map(|i| confirmation_mail(&format!("carol{i}@example.org"))).collect();
    let attempts = mails.iter().map(|mail| {
        let confirmations = stores.confirmations.clone();
        async move {
            confirmations
                .create_user_with_confirmation(&new_user("carol", "pw"), mail, &event(EventKind::Registered))
                .await
        }
    });

    let results = futures::future::join_all(attempts).await;

    let created = results.iter().filter(|r| r.is_ok()).count();
    let duplicates = results.iter().filter(|r| matches!(r, Err(CreateUserError::Duplicate))).count();
    assert_eq!((created, duplicates), (1, 19), "{results:?}");
    let winner = results.iter().position(Result::is_ok).unwrap();
    let entries = stores.outbox.entries(&ALL_STATES).await.unwrap();
    let recipients: Vec<&str> = entries.iter().map(|e| e.mail.to.as_str()).collect();
    assert_eq!(recipients, vec![format!("carol{winner}@example.org")]);
}

pub async fn replace_confirmation_deletes_the_old_links_and_their_pending_mail_and_queues_the_new_mail(
    stores: &Stores,
) {
    let (alice, old) = register(stores, "alice", EPOCH, DAY).await;
    let (_, bobs) = register(stores, "bob", EPOCH, DAY).await;
    let mut mail = confirmation_mail("alice@example.org");
    mail.language = None;

    let replaced = stores.confirmations.replace_confirmation(alice.id, &mail, EPOCH.plus(MINUTE)).await.unwrap();

    assert!(replaced);
    assert_eq!(stores.confirmations.find_confirmation(&old.digest()).await.unwrap(), None);
    assert!(stores.confirmations.find_confirmation(&bobs.digest()).await.unwrap().is_some());
    let entries = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    let last = entries.last().unwrap();
    assert_eq!(entries.len(), 2, "bob's mail and alice's new one; alice's old mail is gone");
    assert_eq!(entries[0].user_id, Some(bobs_id(stores).await));
    assert_eq!((last.user_id, &last.mail), (Some(alice.id), &mail));
    assert_eq!((last.attempts, last.created_at, last.next_attempt_at), (0, EPOCH.plus(MINUTE), EPOCH.plus(MINUTE)));
}

pub async fn concurrent_replacements_of_one_users_mail_leave_exactly_one_pending_mail(stores: &Stores) {
    let (alice, old) = register(stores, "alice", EPOCH, DAY).await;
    let replacements = (0..10).map(|i| {
        let confirmations = stores.confirmations.clone();
        let mut mail = confirmation_mail("alice@example.org");
        mail.language = Some(format!("x-{i}"));
        tokio::spawn(async move { confirmations.replace_confirmation(alice.id, &mail, EPOCH.plus(MINUTE)).await })
    });

    let results = futures::future::join_all(replacements).await;

    for result in results {
        assert!(result.unwrap().unwrap(), "every replacement finds the user");
    }
    assert_eq!(stores.confirmations.find_confirmation(&old.digest()).await.unwrap(), None);
    let pending = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    assert_eq!(pending.len(), 1, "the last replacement deleted every earlier mail: {pending:?}");
    assert!(pending[0].mail.language.as_deref().is_some_and(|tag| tag.starts_with("x-")));
}

pub async fn replace_confirmation_of_an_unknown_user_returns_false_and_changes_nothing(stores: &Stores) {
    let (alice, old) = register(stores, "alice", EPOCH, DAY).await;

    let mail = confirmation_mail("nobody@example.org");
    let replaced = stores.confirmations.replace_confirmation(UserId(alice.id.0 + 1000), &mail, EPOCH).await.unwrap();

    assert!(!replaced);
    assert!(stores.confirmations.find_confirmation(&old.digest()).await.unwrap().is_some());
    assert_eq!(stores.outbox.entries(&ALL_STATES).await.unwrap().len(), 1);
}

pub async fn add_confirmation_stores_the_link_and_returns_its_user(stores: &Stores) {
    let (alice, first) = register(stores, "alice", EPOCH, DAY).await;
    let (second, link) = confirmation(alice.id, "alice@example.org", EPOCH.plus(MINUTE), DAY);

    let added = stores.confirmations.add_confirmation(&link).await.unwrap();

    assert_eq!(added, Some(alice.clone()));
    let found = stores.confirmations.find_confirmation(&second.digest()).await.unwrap().expect("the link is stored");
    assert_eq!((found.confirmation, found.user), (link, alice));
    assert!(
        stores.confirmations.find_confirmation(&first.digest()).await.unwrap().is_some(),
        "a new link leaves the user's earlier links alone"
    );
}

pub async fn add_confirmation_stores_nothing_for_a_gone_changed_or_confirmed_address(stores: &Stores) {
    let (alice, _) = register(stores, "alice", EPOCH, DAY).await;
    let (bob, bobs) = register(stores, "bob", EPOCH, DAY).await;
    stores.confirmations.confirm(&bobs.digest(), &event(EventKind::EmailConfirmed)).await.unwrap();
    let links: Vec<(&str, Confirmation)> = vec![
        ("an unknown user", confirmation(UserId(alice.id.0 + 1000), "alice@example.org", EPOCH, DAY).1),
        ("another address", confirmation(alice.id, "mallory@example.org", EPOCH, DAY).1),
        ("the address in other case", confirmation(alice.id, "ALICE@example.org", EPOCH, DAY).1),
        ("a confirmed user", confirmation(bob.id, "bob@example.org", EPOCH, DAY).1),
    ];

    for (case, link) in links {
        let added = stores.confirmations.add_confirmation(&link).await.unwrap();

        assert_eq!(added, None, "{case}");
        assert_eq!(stores.confirmations.find_confirmation(&link.digest).await.unwrap(), None, "{case}");
    }
}

pub async fn find_confirmation_of_an_unknown_digest_returns_none(stores: &Stores) {
    let (alice, _) = register(stores, "alice", EPOCH, DAY).await;
    let (other, _) = confirmation(alice.id, "alice@example.org", EPOCH, DAY);

    let found = stores.confirmations.find_confirmation(&other.digest()).await.unwrap();

    assert_eq!(found, None);
}

pub async fn find_confirmation_returns_expired_links_too(stores: &Stores) {
    let (alice, token) = register(stores, "alice", Timestamp::from_millis(0), Duration::from_millis(1)).await;

    let found =
        stores.confirmations.find_confirmation(&token.digest()).await.unwrap().expect("expired links are found");

    assert!(found.confirmation.is_expired(EPOCH));
    assert_eq!(found.user, alice);
}

pub async fn confirm_marks_the_email_confirmed_and_deletes_every_link_of_the_user(stores: &Stores) {
    let (alice, token) = register(stores, "alice", EPOCH, DAY).await;
    let (retried, link) = confirmation(alice.id, "alice@example.org", EPOCH.plus(MINUTE), DAY);
    stores.confirmations.add_confirmation(&link).await.unwrap();
    let (_, bobs) = register(stores, "bob", EPOCH, DAY).await;

    let confirmed = stores.confirmations.confirm(&token.digest(), &event(EventKind::EmailConfirmed)).await.unwrap();

    assert!(confirmed);
    let found = stores.users.find_by_username("alice").await.unwrap().unwrap();
    assert_eq!(found, authtoken_core::User { email_confirmed: true, ..alice });
    assert_eq!(stores.confirmations.find_confirmation(&token.digest()).await.unwrap(), None);
    assert_eq!(stores.confirmations.find_confirmation(&retried.digest()).await.unwrap(), None);
    assert!(!stores.users.find_by_username("bob").await.unwrap().unwrap().email_confirmed);
    assert!(stores.confirmations.find_confirmation(&bobs.digest()).await.unwrap().is_some());
}

pub async fn confirm_of_a_missing_link_returns_false_and_changes_nothing(stores: &Stores) {
    let (alice, token) = register(stores, "alice", EPOCH, DAY).await;
    let (_, bobs) = register(stores, "bob", EPOCH, DAY).await;
    stores.confirmations.confirm(&bobs.digest(), &event(EventKind::EmailConfirmed)).await.unwrap();
    let (unknown, _) = confirmation(alice.id, "alice@example.org", EPOCH, DAY);

    let unknown_confirmed =
        stores.confirmations.confirm(&unknown.digest(), &event(EventKind::EmailConfirmed)).await.unwrap();
    let confirmed_again =
        stores.confirmations.confirm(&bobs.digest(), &event(EventKind::EmailConfirmed)).await.unwrap();

    assert!(!unknown_confirmed);
    assert!(!confirmed_again);
    assert_eq!(stores.users.find_by_username("alice").await.unwrap(), Some(alice));
    assert!(stores.confirmations.find_confirmation(&token.digest()).await.unwrap().is_some());
}

pub async fn delete_confirmation_removes_only_the_given_link(stores: &Stores) {
    let (alice, token) = register(stores, "alice", EPOCH, DAY).await;
    let (_, bobs) = register(stores, "bob", EPOCH, DAY).await;

    let deleted = stores.confirmations.delete_confirmation(&token.digest()).await.unwrap();
    let deleted_again = stores.confirmations.delete_confirmation(&token.digest()).await.unwrap();

    assert!(deleted);
    assert!(!deleted_again);
    assert_eq!(stores.confirmations.find_confirmation(&token.digest()).await.unwrap(), None);
    assert!(stores.confirmations.find_confirmation(&bobs.digest()).await.unwrap().is_some());
    assert_eq!(stores.users.find_by_username("alice").await.unwrap(), Some(alice));
}

pub async fn purge_expired_confirmations_deletes_only_links_past_their_expiry(stores: &Stores) {
    let now = EPOCH;
    let second = Duration::from_secs(1);
    let (_, old) = register(stores, "old", Timestamp::from_millis(now.as_millis() - 2_000), second).await;
    let (_, edge) = register(stores, "edge", Timestamp::from_millis(now.as_millis() - 1_000), second).await;
    let (_, fresh) = register(stores, "fresh", now, DAY).await;

    let purged = stores.confirmations.purge_expired_confirmations(now).await.unwrap();

    assert_eq!(purged, 1);
    assert_eq!(stores.confirmations.find_confirmation(&old.digest()).await.unwrap(), None);
    let edge_found = stores.confirmations.find_confirmation(&edge.digest()).await.unwrap();
    assert!(edge_found.is_some(), "a link is valid up to its expiry instant");
    assert!(stores.confirmations.find_confirmation(&fresh.digest()).await.unwrap().is_some());
}

pub async fn unconfirmed_users_lists_users_with_an_unconfirmed_email_in_id_order(stores: &Stores) {
    let (zoe, _) = register(stores, "zoe", EPOCH, DAY).await;
    stores.users.create(&new_user("no-email", "pw"), &event(EventKind::Registered)).await.unwrap();
    let mut empty = new_user("empty-email", "pw");
    empty.email = Some(String::new());
    stores.users.create(&empty, &event(EventKind::Registered)).await.unwrap();
    let (_, confirmed) = register(stores, "confirmed", EPOCH, DAY).await;
    stores.confirmations.confirm(&confirmed.digest(), &event(EventKind::EmailConfirmed)).await.unwrap();
    let (alice, _) = register(stores, "alice", EPOCH, DAY).await;
    let mut without_link = new_user("bob", "pw");
    without_link.email = Some("bob@example.org".to_owned());
    let bob = stores.users.create(&without_link, &event(EventKind::Registered)).await.unwrap();

    let unconfirmed = stores.confirmations.unconfirmed_users().await.unwrap();

    assert_eq!(unconfirmed, vec![zoe, alice, bob]);
}

pub async fn deleting_a_user_deletes_the_users_links_and_mail(stores: &Stores) {
    let (alice, token) = register(stores, "alice", EPOCH, DAY).await;
    let (bob, bobs) = register(stores, "bob", EPOCH, DAY).await;
    let (second, link) = confirmation(alice.id, "alice@example.org", EPOCH.plus(MINUTE), DAY);
    stores.confirmations.add_confirmation(&link).await.unwrap();

    let deleted = stores.users.delete(alice.id, &event(EventKind::AccountDeleted)).await.unwrap();

    assert!(deleted);
    assert_eq!(stores.confirmations.find_confirmation(&token.digest()).await.unwrap(), None);
    assert_eq!(stores.confirmations.find_confirmation(&second.digest()).await.unwrap(), None);
    assert!(stores.confirmations.find_confirmation(&bobs.digest()).await.unwrap().is_some());
    let entries = stores.outbox.entries(&ALL_STATES).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.user_id).collect::<Vec<_>>(), vec![Some(bob.id)]);
}

async fn bobs_id(stores: &Stores) -> authtoken_core::UserId {
    stores.users.find_by_username("bob").await.unwrap().unwrap().id
}
