//! Contract cases of `ResetRepo`.

use std::sync::Arc;
use std::time::Duration;

use authtoken_core::PlainToken;
use authtoken_core::event::EventKind;
use authtoken_core::outbox::{MailKind, OutboxMail, OutboxState};
use authtoken_core::user::User;

use super::Stores;
use super::revocation::notice;
use crate::FakePasswordHasher;
use crate::fixtures::{EPOCH, event, new_user, session};

const HOUR: Duration = Duration::from_secs(3600);

fn reset_mail(to: &str) -> OutboxMail {
    OutboxMail { to: to.to_owned(), kind: MailKind::PasswordReset, language: Some("de".to_owned()) }
}

/// A user with the address `email`, active or not.
async fn user_with(stores: &Stores, name: &str, email: &str, active: bool) -> User {
    let mut new = new_user(name, "password");
    new.email = Some(email.to_owned());
    new.is_active = active;
    stores.users.create(&new, &event(EventKind::Registered)).await.expect("the user is created")
}

/// Stores a link for the account with `email`, made at `EPOCH`, valid for an hour; returns its token and owner.
async fn link_for(stores: &Stores, email: &str) -> (PlainToken, Option<User>) {
    let token = PlainToken::generate().unwrap();
    let owner = stores.resets.add_reset(email, &token.digest(), EPOCH, EPOCH.plus(HOUR)).await.unwrap();
    (token, owner)
}

async fn pending(stores: &Stores) -> Vec<authtoken_core::outbox::OutboxEntry> {
    stores.outbox.entries(&[OutboxState::Pending]).await.unwrap()
}

pub async fn request_reset_queues_the_mail_without_a_user_and_replaces_a_pending_one_to_the_same_address(
    stores: &Stores,
) {
    stores
        .resets
        .request_reset(&reset_mail("Alice@Example.org"), EPOCH, &event(EventKind::PasswordResetRequested))
        .await
        .unwrap();
    stores
        .resets
        .request_reset(&reset_mail("bob@example.org"), EPOCH, &event(EventKind::PasswordResetRequested))
        .await
        .unwrap();

    stores
        .resets
        .request_reset(&reset_mail("alice@example.org"), EPOCH.plus(HOUR), &event(EventKind::PasswordResetRequested))
        .await
        .unwrap();

    let pending = pending(stores).await;
    let mails: Vec<_> = pending.iter().map(|e| (e.mail.to.as_str(), e.user_id, e.next_attempt_at)).collect();
    assert_eq!(mails, [("bob@example.org", None, EPOCH), ("alice@example.org", None, EPOCH.plus(HOUR))]);
    assert_eq!(pending[1].mail, reset_mail("alice@example.org"));
}

pub async fn request_reset_leaves_other_kinds_of_mail_alone(stores: &Stores) {
    let alice = user_with(stores, "alice", "alice@example.org", true).await;
    let hash = FakePasswordHasher::hash_of("x");
    let revoke = authtoken_core::session::Revoke::Nothing;
    stores
        .users
        .set_password(
            alice.id,
            &hash,
            &revoke,
            &[notice("alice@example.org")],
            EPOCH,
            &event(EventKind::PasswordChanged),
        )
        .await
        .unwrap();

    stores
        .resets
        .request_reset(&reset_mail("alice@example.org"), EPOCH, &event(EventKind::PasswordResetRequested))
        .await
        .unwrap();

    let kinds: Vec<_> = pending(stores).await.iter().map(|e| e.mail.kind).collect();
    assert_eq!(kinds, [MailKind::PasswordChanged, MailKind::PasswordReset]);
}

pub async fn add_reset_stores_a_link_for_the_active_user_with_the_address_and_replaces_older_links(stores: &Stores) {
    user_with(stores, "former", "alice@example.org", false).await;
    let alice = user_with(stores, "alice", "Alice@Example.org", true).await;
    user_with(stores, "later", "alice@example.org", true).await;
    let (older, _) = link_for(stores, "alice@example.org").await;

    let (newer, owner) = link_for(stores, "ALICE@example.org").await;

    assert_eq!(owner, Some(alice.clone()), "the first active user with the address, in any ASCII case");
    assert_eq!(stores.resets.find_reset(&older.digest()).await.unwrap(), None, "the newer link replaces the older");
    let found = stores.resets.find_reset(&newer.digest()).await.unwrap().expect("the link is stored");
    assert_eq!(found.user, alice);
    assert_eq!(found.link.user_id, alice.id);
    assert_eq!((found.link.created_at, found.link.expires_at), (EPOCH, EPOCH.plus(HOUR)));
}

pub async fn add_reset_stores_nothing_when_no_active_user_has_the_address(stores: &Stores) {
    user_with(stores, "gone", "gone@example.org", false).await;

    let (inactive, for_inactive) = link_for(stores, "gone@example.org").await;
    let (unknown, for_unknown) = link_for(stores, "nobody@example.org").await;

    assert_eq!((for_inactive, for_unknown), (None, None));
    assert_eq!(stores.resets.find_reset(&inactive.digest()).await.unwrap(), None);
    assert_eq!(stores.resets.find_reset(&unknown.digest()).await.unwrap(), None);
}

pub async fn add_reset_folds_ascii_case_only(stores: &Stores) {
    user_with(stores, "kim", "kim@example.org", true).await;
    stores
        .resets
        .request_reset(&reset_mail("kim@example.org"), EPOCH, &event(EventKind::PasswordResetRequested))
        .await
        .unwrap();

    // U+212A KELVIN SIGN, which Unicode case folding (PostgreSQL's `lower`) turns into `k`.
    let (_, owner) = link_for(stores, "\u{212A}im@example.org").await;
    stores
        .resets
        .request_reset(&reset_mail("\u{212A}im@example.org"), EPOCH, &event(EventKind::PasswordResetRequested))
        .await
        .unwrap();

    assert_eq!(owner, None, "a Kelvin sign is not a K");
    let to: Vec<_> = pending(stores).await.into_iter().map(|e| e.mail.to).collect();
    assert_eq!(to, ["kim@example.org", "\u{212A}im@example.org"], "nor does it replace kim's pending mail");
}

pub async fn find_reset_returns_expired_links_too(stores: &Stores) {
    user_with(stores, "alice", "alice@example.org", true).await;
    let (token, _) = link_for(stores, "alice@example.org").await;

    let found = stores.resets.find_reset(&token.digest()).await.unwrap().expect("found");

    assert!(found.link.is_expired(EPOCH.plus(HOUR * 2)));
}

pub async fn reset_password_sets_the_hash_and_revokes_every_session_and_link_of_the_user(stores: &Stores) {
    let alice = user_with(stores, "alice", "alice@example.org", true).await;
    let bob = user_with(stores, "bob", "bob@example.org", true).await;
    for user in [&alice, &alice, &bob] {
        stores.tokens.insert(&session(user.id, EPOCH, HOUR).1).await.unwrap();
    }
    let (token, _) = link_for(stores, "alice@example.org").await;
    let (bobs, _) = link_for(stores, "bob@example.org").await;
    let hash = FakePasswordHasher::hash_of("new password");
    let now = EPOCH.plus(HOUR);

    let outcome = stores
        .resets
        .reset_password(&token.digest(), now, &hash, &[notice("alice@example.org")], &event(EventKind::PasswordReset))
        .await;

    assert_eq!(outcome.unwrap(), Some(alice.id));
    assert_eq!(stores.users.find_credentials(alice.id).await.unwrap().unwrap().password_hash, hash);
    assert!(stores.tokens.sessions_of(alice.id).await.unwrap().is_empty());
    assert_eq!(stores.tokens.sessions_of(bob.id).await.unwrap().len(), 1);
    assert_eq!(stores.resets.find_reset(&token.digest()).await.unwrap(), None, "a link works once");
    assert!(stores.resets.find_reset(&bobs.digest()).await.unwrap().is_some());
    let notices: Vec<_> = pending(stores).await.into_iter().map(|e| (e.user_id, e.mail, e.next_attempt_at)).collect();
    assert_eq!(notices, [(Some(alice.id), notice("alice@example.org"), now)]);
}

pub async fn reset_password_with_an_expired_or_unknown_link_changes_nothing(stores: &Stores) {
    let alice = user_with(stores, "alice", "alice@example.org", true).await;
    stores.tokens.insert(&session(alice.id, EPOCH, HOUR).1).await.unwrap();
    let (token, _) = link_for(stores, "alice@example.org").await;
    let hash = FakePasswordHasher::hash_of("new password");
    let late = EPOCH.plus(HOUR).plus(Duration::from_millis(1));
    let unknown = PlainToken::generate().unwrap();

    let expired = stores
        .resets
        .reset_password(&token.digest(), late, &hash, &[notice("a@example.org")], &event(EventKind::PasswordReset))
        .await;
    let missing =
        stores.resets.reset_password(&unknown.digest(), EPOCH, &hash, &[], &event(EventKind::PasswordReset)).await;

    assert_eq!((expired.unwrap(), missing.unwrap()), (None, None));
    let stored = stores.users.find_credentials(alice.id).await.unwrap().unwrap().password_hash;
    assert_eq!(stored, FakePasswordHasher::hash_of("password"));
    assert_eq!(stores.tokens.sessions_of(alice.id).await.unwrap().len(), 1);
    assert!(pending(stores).await.is_empty());
}

pub async fn concurrent_resets_with_one_link_succeed_once(stores: &Stores) {
    user_with(stores, "alice", "alice@example.org", true).await;
    let (token, _) = link_for(stores, "alice@example.org").await;
    let resets = Arc::clone(&stores.resets);

    let attempts = (0..6).map(|i| {
        let (resets, digest) = (Arc::clone(&resets), token.digest());
        tokio::spawn(async move {
            let hash = FakePasswordHasher::hash_of(&format!("password {i}"));
            resets.reset_password(&digest, EPOCH, &hash, &[], &event(EventKind::PasswordReset)).await.unwrap()
        })
    });
    let mut succeeded = 0;
    for attempt in attempts {
        succeeded += usize::from(attempt.await.unwrap().is_some());
    }

    assert_eq!(succeeded, 1);
}

pub async fn purge_expired_resets_deletes_only_links_past_their_expiry(stores: &Stores) {
    user_with(stores, "alice", "alice@example.org", true).await;
    user_with(stores, "bob", "bob@example.org", true).await;
    let (alices, _) = link_for(stores, "alice@example.org").await;
    let bobs = PlainToken::generate().unwrap();
    stores.resets.add_reset("bob@example.org", &bobs.digest(), EPOCH, EPOCH.plus(HOUR * 2)).await.unwrap();

    let purged = stores.resets.purge_expired_resets(EPOCH.plus(HOUR).plus(Duration::from_millis(1))).await.unwrap();

    assert_eq!(purged, 1);
    assert_eq!(stores.resets.find_reset(&alices.digest()).await.unwrap(), None);
    assert!(stores.resets.find_reset(&bobs.digest()).await.unwrap().is_some());
}

pub async fn deleting_a_user_deletes_the_users_reset_links(stores: &Stores) {
    let alice = user_with(stores, "alice", "alice@example.org", true).await;
    let (token, _) = link_for(stores, "alice@example.org").await;

    assert!(stores.users.delete(alice.id, &event(EventKind::AccountDeleted)).await.unwrap());

    assert_eq!(stores.resets.find_reset(&token.digest()).await.unwrap(), None);
}
