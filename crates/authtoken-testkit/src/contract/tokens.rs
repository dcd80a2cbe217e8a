//! Contract cases of `TokenRepo`.

use std::time::Duration;

use authtoken_core::Timestamp;
use authtoken_core::event::EventKind;
use authtoken_core::user::User;

use super::Stores;
use crate::fixtures::{EPOCH, event, new_user, session};

const DAY: Duration = Duration::from_secs(86_400);

async fn user(stores: &Stores, name: &str) -> User {
    stores.users.create(&new_user(name, "password"), &event(EventKind::Registered)).await.expect("the user is created")
}

pub async fn insert_then_find_returns_the_session_with_its_user(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let (token, session) = session(alice.id, EPOCH, DAY);

    stores.tokens.insert(&session).await.unwrap();
    let found = stores.tokens.find(&token.digest()).await.unwrap().expect("the session is found");

    assert_eq!(found.session, session);
    assert_eq!(found.user, alice);
}

pub async fn find_of_an_unknown_digest_returns_none(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let (_, stored) = session(alice.id, EPOCH, DAY);
    stores.tokens.insert(&stored).await.unwrap();
    let (other, _) = session(alice.id, EPOCH, DAY);

    let found = stores.tokens.find(&other.digest()).await.unwrap();

    assert_eq!(found, None);
}

pub async fn find_returns_expired_sessions_too(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let (token, session) = session(alice.id, Timestamp::from_millis(0), Duration::from_millis(1));
    stores.tokens.insert(&session).await.unwrap();

    let found = stores.tokens.find(&token.digest()).await.unwrap().expect("expired sessions are still found");

    assert!(found.session.is_expired(EPOCH));
}

pub async fn concurrent_finds_each_get_the_answer_for_their_own_digest(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let mut stored = Vec::new();
    for owner in [&alice, &bob].repeat(10) {
        let (token, session) = session(owner.id, EPOCH, DAY);
        stores.tokens.insert(&session).await.unwrap();
        stored.push((token.digest(), Some(session)));
    }
    for _ in 0..10 {
        let (unknown, _) = session(alice.id, EPOCH, DAY);
        stored.push((unknown.digest(), None));
    }
    // Every digest three times, interleaved, so that lookups of one digest arrive together too.
    let lookups: Vec<_> = stored.iter().cycle().take(stored.len() * 3).collect();

    let found = futures::future::join_all(lookups.iter().map(|(digest, _)| stores.tokens.find(digest))).await;

    for ((_, expected), found) in lookups.iter().zip(found) {
        let found = found.unwrap().map(|found| found.session);
        assert_eq!(found.as_ref(), expected.as_ref());
    }
}

pub async fn a_find_after_a_delete_never_sees_the_session(stores: &Stores) {
    let alice = user(stores, "alice").await;
    for _ in 0..20 {
        let (token, session) = session(alice.id, EPOCH, DAY);
        stores.tokens.insert(&session).await.unwrap();
        let digest = token.digest();
        // Lookups of the session in flight while it is deleted may see it or not; the one after must not.
        let (during, deleted) = futures::join!(
            futures::future::join_all((0..8).map(|_| stores.tokens.find(&digest))),
            stores.tokens.delete(&digest)
        );
        assert!(deleted.unwrap());
        assert!(during.into_iter().all(|found| found.is_ok()));

        assert_eq!(stores.tokens.find(&digest).await.unwrap(), None);
    }
}

pub async fn delete_removes_only_the_given_session(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let (first, s1) = session(alice.id, EPOCH, DAY);
    let (second, s2) = session(alice.id, EPOCH, DAY);
    let (bobs, s3) = session(bob.id, EPOCH, DAY);
    for s in [&s1, &s2, &s3] {
        stores.tokens.insert(s).await.unwrap();
    }

    let deleted = stores.tokens.delete(&first.digest()).await.unwrap();

    assert!(deleted);
    assert_eq!(stores.tokens.find(&first.digest()).await.unwrap(), None);
    assert!(stores.tokens.find(&second.digest()).await.unwrap().is_some());
    assert!(stores.tokens.find(&bobs.digest()).await.unwrap().is_some());
}

pub async fn delete_of_an_unknown_digest_returns_false(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let (token, session) = session(alice.id, EPOCH, DAY);
    stores.tokens.insert(&session).await.unwrap();
    stores.tokens.delete(&token.digest()).await.unwrap();

    let deleted_again = stores.tokens.delete(&token.digest()).await.unwrap();

    assert!(!deleted_again);
}

pub async fn purge_expired_deletes_only_sessions_past_their_expiry(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let now = EPOCH;
    let (old, s_old) = session(alice.id, Timestamp::from_millis(now.as_millis() - 2_000), Duration::from_secs(1));
    let (edge, s_edge) = session(alice.id, Timestamp::from_millis(now.as_millis() - 1_000), Duration::from_secs(1));
    let (fresh, s_fresh) = session(alice.id, now, DAY);
    for s in [&s_old, &s_edge, &s_fresh] {
        stores.tokens.insert(s).await.unwrap();
    }

    let purged = stores.tokens.purge_expired(now).await.unwrap();

    assert_eq!(purged, 1);
    assert_eq!(stores.tokens.find(&old.digest()).await.unwrap(), None);
    assert!(stores.tokens.find(&edge.digest()).await.unwrap().is_some(), "a session is valid up to its expiry instant");
    assert!(stores.tokens.find(&fresh.digest()).await.unwrap().is_some());
}

pub async fn ping_succeeds_while_the_store_answers(stores: &Stores) {
    let answered = stores.tokens.ping().await;

    assert!(answered.is_ok(), "{answered:?}");
}

pub async fn sessions_of_lists_every_session_of_the_user_oldest_first(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let (_, newer) = session(alice.id, EPOCH.plus(Duration::from_secs(60)), DAY);
    let (_, expired) = session(alice.id, Timestamp::from_millis(0), Duration::from_millis(1));
    let (_, older) = session(alice.id, EPOCH, DAY);
    let (_, bobs) = session(bob.id, EPOCH, DAY);
    for s in [&newer, &expired, &older, &bobs] {
        stores.tokens.insert(s).await.unwrap();
    }

    let sessions = stores.tokens.sessions_of(alice.id).await.unwrap();

    assert_eq!(sessions, vec![expired, older, newer]);
}

pub async fn a_session_keeps_its_id_and_client_info(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let (token, mut stored) = session(alice.id, EPOCH, DAY);
    stored.client.user_agent = Some("Mozilla/5.0 (X11; Linux) \u{1F600}".to_owned());
    stored.client.ip = Some("2001:db8::1".to_owned());
    stores.tokens.insert(&stored).await.unwrap();
    let (other, mut anonymous) = session(alice.id, EPOCH, DAY);
    anonymous.client = authtoken_core::session::ClientInfo::default();
    stores.tokens.insert(&anonymous).await.unwrap();

    let found = stores.tokens.find(&token.digest()).await.unwrap().unwrap().session;
    let found_anonymous = stores.tokens.find(&other.digest()).await.unwrap().unwrap().session;

    assert_eq!(found, stored);
    assert_eq!(found_anonymous.client, authtoken_core::session::ClientInfo::default());
    assert_ne!(found.id, found_anonymous.id);
}
