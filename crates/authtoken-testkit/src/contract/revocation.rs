//! Contract cases of the session lifecycle: recording use, idle sessions, the limit per user and revocation
//! (`TokenRepo` and the session side of `UserRepo`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use authtoken_core::event::EventKind;
use authtoken_core::outbox::{MailKind, OutboxMail, OutboxState};
use authtoken_core::session::{Revoke, Session, SessionId};
use authtoken_core::user::{PasswordHash, User};
use authtoken_core::{PlainToken, Timestamp};

use super::Stores;
use crate::FakePasswordHasher;
use crate::fixtures::{EPOCH, event, new_user, session};

const DAY: Duration = Duration::from_secs(86_400);
const MINUTE: Duration = Duration::from_secs(60);

/// The password hash of every user of these cases.
fn hash() -> PasswordHash {
    FakePasswordHasher::hash_of("password")
}

async fn user(stores: &Stores, name: &str) -> User {
    stores.users.create(&new_user(name, "password"), &event(EventKind::Registered)).await.expect("the user is created")
}

/// Stores `count` sessions of the user, logged in a minute apart from `EPOCH` on.
async fn logged_in(stores: &Stores, user: &User, count: u32) -> Vec<(PlainToken, Session)> {
    let mut sessions = Vec::new();
    for i in 0..count {
        let (token, s) = session(user.id, EPOCH.plus(MINUTE * i), DAY);
        stores.tokens.insert(&s).await.unwrap();
        sessions.push((token, s));
    }
    sessions
}

/// A notice that the password changed, to `to`.
pub(super) fn notice(to: &str) -> OutboxMail {
    OutboxMail { to: to.to_owned(), kind: MailKind::PasswordChanged, language: None }
}

async fn last_used(stores: &Stores, token: &PlainToken) -> Option<Timestamp> {
    stores.tokens.find(&token.digest()).await.unwrap().expect("the session is stored").session.last_used_at
}

async fn ids_of(stores: &Stores, user: &User) -> BTreeSet<String> {
    stores.tokens.sessions_of(user.id).await.unwrap().iter().map(|s| s.id.as_str().to_owned()).collect()
}

fn ids<'a>(sessions: impl IntoIterator<Item = &'a Session>) -> BTreeSet<String> {
    sessions.into_iter().map(|s| s.id.as_str().to_owned()).collect()
}

pub async fn touch_records_a_use_only_when_none_is_recorded_or_it_is_stale(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let [(token, _)] = logged_in(stores, &alice, 1).await.try_into().unwrap();
    let at = |minutes: u32| EPOCH.plus(MINUTE * minutes);

    assert!(stores.tokens.touch(&token.digest(), at(1), at(0)).await.unwrap(), "no use recorded yet");
    assert_eq!(last_used(stores, &token).await, Some(at(1)));
    assert!(!stores.tokens.touch(&token.digest(), at(2), at(1)).await.unwrap(), "recorded at the cut-off: fresh");
    assert_eq!(last_used(stores, &token).await, Some(at(1)));
    assert!(stores.tokens.touch(&token.digest(), at(3), at(2)).await.unwrap(), "recorded before the cut-off: stale");
    assert_eq!(last_used(stores, &token).await, Some(at(3)));
    let (unknown, _) = session(alice.id, EPOCH, DAY);
    assert!(!stores.tokens.touch(&unknown.digest(), at(4), at(4)).await.unwrap());
}

pub async fn concurrent_touches_write_once(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let [(token, _)] = logged_in(stores, &alice, 1).await.try_into().unwrap();
    let tokens = Arc::clone(&stores.tokens);
    let digest = token.digest();

    let touches = (0..8).map(|_| {
        let (tokens, digest) = (Arc::clone(&tokens), digest.clone());
        tokio::spawn(async move { tokens.touch(&digest, EPOCH.plus(MINUTE * 2), EPOCH.plus(MINUTE)).await.unwrap() })
    });
    let mut written = 0;
    for touch in touches {
        written += u32::from(touch.await.unwrap());
    }

    assert_eq!(written, 1, "only the first of the racing touches writes");
    assert_eq!(last_used(stores, &token).await, Some(EPOCH.plus(MINUTE * 2)));
}

pub async fn purge_idle_deletes_sessions_last_active_before_the_cut_off(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let [(never_used, _), (used_late, _), (edge, _)] = logged_in(stores, &alice, 3).await.try_into().unwrap();
    // Logged in at minutes 0, 1 and 2; the second was used at minute 10.
    stores.tokens.touch(&used_late.digest(), EPOCH.plus(MINUTE * 10), EPOCH.plus(MINUTE * 10)).await.unwrap();

    let purged = stores.tokens.purge_idle(EPOCH.plus(MINUTE * 2)).await.unwrap();

    assert_eq!(purged, 1);
    assert_eq!(stores.tokens.find(&never_used.digest()).await.unwrap(), None);
    assert!(stores.tokens.find(&used_late.digest()).await.unwrap().is_some(), "a use counts, not the login");
    assert!(stores.tokens.find(&edge.digest()).await.unwrap().is_some(), "active at the cut-off itself");
}

pub async fn insert_for_login_evicts_the_least_recently_active_sessions_beyond_max(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let [(first, _), (second, s2), (third, s3)] = logged_in(stores, &alice, 3).await.try_into().unwrap();
    logged_in(stores, &bob, 3).await;
    // The first login is the most recently used; the second was never used after it.
    stores.tokens.touch(&first.digest(), EPOCH.plus(MINUTE * 10), EPOCH.plus(MINUTE * 10)).await.unwrap();
    let (_, newest) = session(alice.id, EPOCH.plus(MINUTE * 11), DAY);

    let evicted = stores.tokens.insert_for_login(&newest, &hash(), Some(3), &event(EventKind::Login)).await.unwrap();

    assert_eq!(evicted, Some(1));
    assert_eq!(stores.tokens.find(&second.digest()).await.unwrap(), None, "the least recently active goes");
    assert!(stores.tokens.find(&first.digest()).await.unwrap().is_some());
    assert!(stores.tokens.find(&third.digest()).await.unwrap().is_some());
    assert_eq!(stores.tokens.sessions_of(bob.id).await.unwrap().len(), 3, "other users keep theirs");
    let latest = session(alice.id, EPOCH.plus(MINUTE * 12), DAY).1;
    let evicted = stores.tokens.insert_for_login(&latest, &hash(), Some(1), &event(EventKind::Login)).await.unwrap();
    assert_eq!(evicted, Some(3));
    assert!(!ids_of(stores, &alice).await.contains(s3.id.as_str()));
    assert!(!ids_of(stores, &alice).await.contains(s2.id.as_str()));
    assert_eq!(ids_of(stores, &alice).await.len(), 1, "with a limit of one, only the new session is left");
}

pub async fn concurrent_logins_never_leave_more_than_max(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let tokens = Arc::clone(&stores.tokens);

    let logins = (0..8u32).map(|i| {
        let tokens = Arc::clone(&tokens);
        let (_, s) = session(alice.id, EPOCH.plus(MINUTE * i), DAY);
        tokio::spawn(async move {
            tokens.insert_for_login(&s, &hash(), Some(2), &event(EventKind::Login)).await.unwrap().unwrap()
        })
    });
    let mut evicted = 0;
    for login in logins {
        evicted += login.await.unwrap();
    }

    assert_eq!(stores.tokens.sessions_of(alice.id).await.unwrap().len(), 2);
    assert_eq!(evicted, 6, "every session stored was either kept or evicted once");
}

pub async fn insert_for_login_stores_nothing_for_a_changed_password_an_inactive_or_a_missing_user(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let (_, changed) = session(alice.id, EPOCH, DAY);
    let (_, inactive) = session(bob.id, EPOCH, DAY);
    let (_, gone) = session(authtoken_core::user::UserId(alice.id.0.max(bob.id.0) + 1), EPOCH, DAY);
    stores.users.set_active(bob.id, false, &event(EventKind::OperatorDeactivatedUser)).await.unwrap();

    let stale_hash = FakePasswordHasher::hash_of("the old password");
    assert_eq!(
        stores.tokens.insert_for_login(&changed, &stale_hash, None, &event(EventKind::Login)).await.unwrap(),
        None
    );
    assert_eq!(stores.tokens.insert_for_login(&inactive, &hash(), None, &event(EventKind::Login)).await.unwrap(), None);
    assert_eq!(stores.tokens.insert_for_login(&gone, &hash(), Some(1), &event(EventKind::Login)).await.unwrap(), None);
    assert_eq!(stores.tokens.find(&changed.digest).await.unwrap(), None);
    assert_eq!(stores.tokens.find(&inactive.digest).await.unwrap(), None);
    assert_eq!(
        stores.tokens.insert_for_login(&changed, &hash(), None, &event(EventKind::Login)).await.unwrap(),
        Some(0)
    );
    assert!(stores.tokens.find(&changed.digest).await.unwrap().is_some());
}

pub async fn a_login_racing_a_password_reset_never_leaves_a_session_behind(stores: &Stores) {
    let mut alice = new_user("alice", "password 0");
    alice.email = Some("alice@example.org".to_owned());
    let alice = stores.users.create(&alice, &event(EventKind::Registered)).await.unwrap();

    for round in 0..20 {
        let old = FakePasswordHasher::hash_of(&format!("password {round}"));
        let new = FakePasswordHasher::hash_of(&format!("password {}", round + 1));
        let link = PlainToken::generate().unwrap();
        stores.resets.add_reset("alice@example.org", &link.digest(), EPOCH, EPOCH.plus(DAY)).await.unwrap();
        let (_, login) = session(alice.id, EPOCH, DAY);
        let (resets, tokens) = (Arc::clone(&stores.resets), Arc::clone(&stores.tokens));

        let reset = tokio::spawn(async move {
            resets.reset_password(&link.digest(), EPOCH, &new, &[], &event(EventKind::PasswordReset)).await.unwrap()
        });
        let login = tokio::spawn(async move {
            tokens.insert_for_login(&login, &old, None, &event(EventKind::Login)).await.unwrap()
        });
        let (reset, _) = (reset.await.unwrap(), login.await.unwrap());

        assert_eq!(reset, Some(alice.id));
        let left = stores.tokens.sessions_of(alice.id).await.unwrap();
        assert!(left.is_empty(), "round {round}: a login with the old password outlived the reset: {left:?}");
    }
}

pub async fn logout_all_racing_new_logins_revokes_every_session_stored_before_it(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let before = logged_in(stores, &alice, 10).await;
    let tokens = Arc::clone(&stores.tokens);

    let racing: Vec<_> = (0..10)
        .map(|i| {
            let tokens = Arc::clone(&tokens);
            let (_, s) = session(alice.id, EPOCH.plus(MINUTE * (20 + i)), DAY);
            tokio::spawn(
                async move { tokens.insert_for_login(&s, &hash(), None, &event(EventKind::Login)).await.unwrap() },
            )
        })
        .collect();
    stores.tokens.revoke_sessions(alice.id, &Revoke::All, &event(EventKind::AllSessionsRevoked)).await.unwrap();

    for (token, _) in &before {
        assert_eq!(stores.tokens.find(&token.digest()).await.unwrap(), None, "a session stored before survived");
    }
    for login in racing {
        assert_eq!(login.await.unwrap(), Some(0));
    }
}

pub async fn find_by_id_returns_the_session_with_its_user(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let [(_, stored)] = logged_in(stores, &alice, 1).await.try_into().unwrap();

    let found = stores.tokens.find_by_id(&stored.id).await.unwrap().expect("found by its public id");

    assert_eq!(found.session, stored);
    assert_eq!(found.user, alice);
    let unknown = SessionId::generate().unwrap();
    assert_eq!(stores.tokens.find_by_id(&unknown).await.unwrap(), None);
}

pub async fn revoke_deletes_one_session_of_its_owner_only(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let [(kept, _), (_, doomed)] = logged_in(stores, &alice, 2).await.try_into().unwrap();

    assert!(
        !stores.tokens.revoke(bob.id, &doomed.id, &event(EventKind::SessionRevoked)).await.unwrap(),
        "another user's session is not found"
    );
    assert!(stores.tokens.revoke(alice.id, &doomed.id, &event(EventKind::SessionRevoked)).await.unwrap());
    assert!(
        !stores.tokens.revoke(alice.id, &doomed.id, &event(EventKind::SessionRevoked)).await.unwrap(),
        "already gone"
    );
    assert_eq!(stores.tokens.find(&doomed.digest).await.unwrap(), None);
    assert!(stores.tokens.find(&kept.digest()).await.unwrap().is_some());
}

pub async fn revoke_sessions_deletes_what_it_names_of_that_user_only(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let [(current, current_session), ..] = <[_; 3]>::try_from(logged_in(stores, &alice, 3).await).unwrap();
    let bobs = logged_in(stores, &bob, 2).await;

    assert_eq!(
        stores.tokens.revoke_sessions(alice.id, &Revoke::Nothing, &event(EventKind::AllSessionsRevoked)).await.unwrap(),
        0
    );
    assert_eq!(
        stores
            .tokens
            .revoke_sessions(alice.id, &Revoke::AllBut(current.digest()), &event(EventKind::AllSessionsRevoked))
            .await
            .unwrap(),
        2
    );
    assert_eq!(ids_of(stores, &alice).await, ids([&current_session]));
    assert_eq!(
        stores.tokens.revoke_sessions(alice.id, &Revoke::All, &event(EventKind::AllSessionsRevoked)).await.unwrap(),
        1
    );
    assert!(ids_of(stores, &alice).await.is_empty());
    assert_eq!(ids_of(stores, &bob).await, ids(bobs.iter().map(|(_, s)| s)), "other users keep theirs");
}

pub async fn revoke_everyone_deletes_every_session(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    logged_in(stores, &alice, 2).await;
    logged_in(stores, &bob, 1).await;

    assert_eq!(stores.tokens.revoke_everyone(&event(EventKind::OperatorRevokedEverySession)).await.unwrap(), 3);
    assert!(ids_of(stores, &alice).await.is_empty());
    assert!(ids_of(stores, &bob).await.is_empty());
}

pub async fn set_password_replaces_the_hash_and_revokes_what_it_names(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let [(current, current_session), ..] = <[_; 3]>::try_from(logged_in(stores, &alice, 3).await).unwrap();
    logged_in(stores, &bob, 1).await;
    let new_hash = FakePasswordHasher::hash_of("new password");

    let revoked = stores
        .users
        .set_password(
            alice.id,
            &new_hash,
            &Revoke::AllBut(current.digest()),
            &[],
            EPOCH,
            &event(EventKind::PasswordChanged),
        )
        .await
        .unwrap();

    assert_eq!(revoked, Some(2));
    let credentials = stores.users.find_credentials(alice.id).await.unwrap().expect("alice exists");
    assert_eq!(credentials.password_hash, new_hash);
    assert_eq!(ids_of(stores, &alice).await, ids([&current_session]));
    assert_eq!(
        stores
            .users
            .set_password(alice.id, &new_hash, &Revoke::Nothing, &[], EPOCH, &event(EventKind::PasswordChanged))
            .await
            .unwrap(),
        Some(0)
    );
    assert_eq!(
        stores
            .users
            .set_password(alice.id, &new_hash, &Revoke::All, &[], EPOCH, &event(EventKind::PasswordChanged))
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(ids_of(stores, &bob).await.len(), 1, "other users keep theirs");
    let bobs_hash = stores.users.find_credentials(bob.id).await.unwrap().unwrap().password_hash;
    assert_eq!(bobs_hash, FakePasswordHasher::hash_of("password"));
}

pub async fn set_password_of_an_unknown_user_returns_none(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let nobody = authtoken_core::user::UserId(alice.id.0 + 1000);

    let hash = FakePasswordHasher::hash_of("x");

    let outcome = stores
        .users
        .set_password(
            nobody,
            &hash,
            &Revoke::All,
            &[notice("a@example.org")],
            EPOCH,
            &event(EventKind::PasswordChanged),
        )
        .await;

    assert_eq!(outcome.unwrap(), None);
    assert_eq!(stores.outbox.entries(&[OutboxState::Pending]).await.unwrap(), Vec::new(), "no notice for nobody");
}

pub async fn set_password_queues_the_notices_in_the_same_transaction(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let hash = FakePasswordHasher::hash_of("new password");

    let at = EPOCH.plus(MINUTE);
    stores
        .users
        .set_password(
            alice.id,
            &hash,
            &Revoke::All,
            &[notice("alice@example.org")],
            at,
            &event(EventKind::PasswordChanged),
        )
        .await
        .unwrap();

    let pending = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].user_id, Some(alice.id));
    assert_eq!(pending[0].mail, notice("alice@example.org"));
    assert_eq!(pending[0].next_attempt_at, at);
}

pub async fn deactivating_a_user_revokes_every_session_of_the_user(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    logged_in(stores, &alice, 2).await;
    logged_in(stores, &bob, 1).await;

    assert!(stores.users.set_active(alice.id, false, &event(EventKind::OperatorDeactivatedUser)).await.unwrap());

    assert!(ids_of(stores, &alice).await.is_empty());
    assert_eq!(ids_of(stores, &bob).await.len(), 1);
    assert!(stores.users.set_active(alice.id, true, &event(EventKind::OperatorDeactivatedUser)).await.unwrap());
    assert!(stores.users.find_credentials(alice.id).await.unwrap().unwrap().user.is_active);
}
