//! Contract cases of `UserRepo`.

use authtoken_core::ports::CreateUserError;

use super::Stores;
use crate::FakePasswordHasher;
use crate::fixtures::{EPOCH, new_user};

pub async fn create_assigns_distinct_ids_and_returns_the_user(stores: &Stores) {
    let alice = stores.users.create(&new_user("alice", "pw-alice")).await.unwrap();
    let bob = stores.users.create(&new_user("bob", "pw-bob")).await.unwrap();

    assert_ne!(alice.id, bob.id);
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.email, None);
    assert!(!alice.email_confirmed);
    assert!(alice.is_active);
    assert_eq!(alice.joined_at, EPOCH);
    assert_eq!(alice.last_login_at, None);
}

pub async fn find_by_username_is_an_exact_match(stores: &Stores) {
    let alice = stores.users.create(&new_user("Alice", "pw")).await.unwrap();

    assert_eq!(stores.users.find_by_username("Alice").await.unwrap(), Some(alice));
    assert_eq!(stores.users.find_by_username("alice").await.unwrap(), None);
    assert_eq!(stores.users.find_by_username("Alic").await.unwrap(), None);
}

pub async fn find_by_key_returns_the_password_hash(stores: &Stores) {
    let mut new = new_user("Alice", "pw");
    new.username_key = "alice".to_owned();
    let alice = stores.users.create(&new).await.unwrap();

    let found = stores.users.find_by_key("alice").await.unwrap().expect("found by key");

    assert_eq!(found.user, alice);
    assert_eq!(found.password_hash, FakePasswordHasher::hash_of("pw"));
    assert_eq!(stores.users.find_by_key("Alice").await.unwrap(), None);
}

pub async fn create_rejects_a_duplicate_username(stores: &Stores) {
    stores.users.create(&new_user("alice", "one")).await.unwrap();

    let again = stores.users.create(&new_user("alice", "two")).await;

    assert!(matches!(again, Err(CreateUserError::Duplicate)), "{again:?}");
}

pub async fn create_rejects_a_duplicate_key(stores: &Stores) {
    let mut first = new_user("Alice", "one");
    first.username_key = "alice".to_owned();
    stores.users.create(&first).await.unwrap();
    let mut variant = new_user("ALICE", "two");
    variant.username_key = "alice".to_owned();

    let again = stores.users.create(&variant).await;

    assert!(matches!(again, Err(CreateUserError::Duplicate)), "{again:?}");
    assert_eq!(stores.users.find_by_username("ALICE").await.unwrap(), None);
}

pub async fn concurrent_creates_of_one_username_give_exactly_one_user(stores: &Stores) {
    let attempts = (0..20).map(|i| {
        let users = stores.users.clone();
        async move { users.create(&new_user("carol", &format!("pw{i}"))).await }
    });

    let results = futures::future::join_all(attempts).await;

    let created = results.iter().filter(|r| r.is_ok()).count();
    let duplicates = results.iter().filter(|r| matches!(r, Err(CreateUserError::Duplicate))).count();
    assert_eq!((created, duplicates), (1, 19), "{results:?}");
}

pub async fn record_login_sets_the_last_login_time(stores: &Stores) {
    let alice = stores.users.create(&new_user("alice", "pw")).await.unwrap();
    let at = authtoken_core::Timestamp::from_millis(EPOCH.as_millis() + 5_000);

    stores.users.record_login(alice.id, at).await.unwrap();

    let found = stores.users.find_by_username("alice").await.unwrap().unwrap();
    assert_eq!(found.last_login_at, Some(at));
    assert_eq!(found.id, alice.id);
}
