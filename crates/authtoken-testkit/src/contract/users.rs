//! Contract cases of `UserRepo`.

use authtoken_core::event::EventKind;
use authtoken_core::ports::CreateUserError;
use authtoken_core::user::{PasswordHash, UserId};

use super::Stores;
use crate::FakePasswordHasher;
use crate::fixtures::{EPOCH, event, new_user};

pub async fn create_assigns_distinct_ids_and_returns_the_user(stores: &Stores) {
    let alice = stores.users.create(&new_user("alice", "pw-alice"), &event(EventKind::Registered)).await.unwrap();
    let bob = stores.users.create(&new_user("bob", "pw-bob"), &event(EventKind::Registered)).await.unwrap();

    assert_ne!(alice.id, bob.id);
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.email, None);
    assert!(!alice.email_confirmed);
    assert!(alice.is_active);
    assert_eq!(alice.joined_at, EPOCH);
    assert_eq!(alice.last_login_at, None);
}

pub async fn create_stores_the_email_and_whether_it_is_confirmed_as_given(stores: &Stores) {
    let mut vouched = new_user("alice", "pw");
    vouched.email = Some("alice@example.org".to_owned());
    vouched.email_confirmed = true;
    let mut unconfirmed = new_user("bob", "pw");
    unconfirmed.email = Some("bob@example.org".to_owned());

    let alice = stores.users.create(&vouched, &event(EventKind::Registered)).await.unwrap();
    let bob = stores.users.create(&unconfirmed, &event(EventKind::Registered)).await.unwrap();

    assert_eq!((alice.email.as_deref(), alice.email_confirmed), (Some("alice@example.org"), true));
    assert_eq!((bob.email.as_deref(), bob.email_confirmed), (Some("bob@example.org"), false));
    assert_eq!(stores.users.find_by_username("alice").await.unwrap(), Some(alice));
    assert_eq!(stores.users.find_credentials(bob.id).await.unwrap().unwrap().user, bob);
    let unconfirmed = stores.confirmations.unconfirmed_users().await.unwrap();
    assert_eq!(unconfirmed.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["bob"]);
}

pub async fn find_by_username_is_an_exact_match(stores: &Stores) {
    let alice = stores.users.create(&new_user("Alice", "pw"), &event(EventKind::Registered)).await.unwrap();

    assert_eq!(stores.users.find_by_username("Alice").await.unwrap(), Some(alice));
    assert_eq!(stores.users.find_by_username("alice").await.unwrap(), None);
    assert_eq!(stores.users.find_by_username("Alic").await.unwrap(), None);
}

pub async fn find_by_key_returns_the_password_hash(stores: &Stores) {
    let mut new = new_user("Alice", "pw");
    new.username_key = "alice".to_owned();
    let alice = stores.users.create(&new, &event(EventKind::Registered)).await.unwrap();

    let found = stores.users.find_by_key("alice").await.unwrap().expect("found by key");

    assert_eq!(found.user, alice);
    assert_eq!(found.password_hash, FakePasswordHasher::hash_of("pw"));
    assert_eq!(stores.users.find_by_key("Alice").await.unwrap(), None);
}

pub async fn create_rejects_a_duplicate_username(stores: &Stores) {
    stores.users.create(&new_user("alice", "one"), &event(EventKind::Registered)).await.unwrap();

    let again = stores.users.create(&new_user("alice", "two"), &event(EventKind::Registered)).await;

    assert!(matches!(again, Err(CreateUserError::Duplicate)), "{again:?}");
}

pub async fn create_rejects_a_duplicate_key(stores: &Stores) {
    let mut first = new_user("Alice", "one");
    first.username_key = "alice".to_owned();
    stores.users.create(&first, &event(EventKind::Registered)).await.unwrap();
    let mut variant = new_user("ALICE", "two");
    variant.username_key = "alice".to_owned();

    let again = stores.users.create(&variant, &event(EventKind::Registered)).await;

    assert!(matches!(again, Err(CreateUserError::Duplicate)), "{again:?}");
    assert_eq!(stores.users.find_by_username("ALICE").await.unwrap(), None);
}

pub async fn concurrent_creates_of_one_username_give_exactly_one_user(stores: &Stores) {
    let attempts = (0..20).map(|i| {
        let users = stores.users.clone();
        async move { users.create(&new_user("carol", &format!("pw{i}")), &event(EventKind::Registered)).await }
    });

    let results = futures::future::join_all(attempts).await;

    let created = results.iter().filter(|r| r.is_ok()).count();
    let duplicates = results.iter().filter(|r| matches!(r, Err(CreateUserError::Duplicate))).count();
    assert_eq!((created, duplicates), (1, 19), "{results:?}");
}

pub async fn record_login_sets_the_last_login_time(stores: &Stores) {
    let alice = stores.users.create(&new_user("alice", "pw"), &event(EventKind::Registered)).await.unwrap();
    let at = authtoken_core::Timestamp::from_millis(EPOCH.as_millis() + 5_000);

    stores.users.record_login(alice.id, at).await.unwrap();

    let found = stores.users.find_by_username("alice").await.unwrap().unwrap();
    assert_eq!(found.last_login_at, Some(at));
    assert_eq!(found.id, alice.id);
}

pub async fn set_active_changes_only_that_user(stores: &Stores) {
    let alice = stores.users.create(&new_user("alice", "pw"), &event(EventKind::Registered)).await.unwrap();
    let bob = stores.users.create(&new_user("bob", "pw"), &event(EventKind::Registered)).await.unwrap();

    let found = stores.users.set_active(alice.id, false, &event(EventKind::OperatorDeactivatedUser)).await.unwrap();
    let missing = stores
        .users
        .set_active(
            authtoken_core::UserId(alice.id.0 + bob.id.0 + 1000),
            false,
            &event(EventKind::OperatorDeactivatedUser),
        )
        .await
        .unwrap();

    assert!(found);
    assert!(!missing);
    assert!(!stores.users.find_by_username("alice").await.unwrap().unwrap().is_active);
    assert!(stores.users.find_by_username("bob").await.unwrap().unwrap().is_active);
    stores.users.set_active(alice.id, true, &event(EventKind::OperatorDeactivatedUser)).await.unwrap();
    assert!(stores.users.find_by_key("alice").await.unwrap().unwrap().user.is_active);
}

pub async fn delete_removes_the_user_and_every_session_of_the_user(stores: &Stores) {
    let alice = stores.users.create(&new_user("alice", "pw"), &event(EventKind::Registered)).await.unwrap();
    let bob = stores.users.create(&new_user("bob", "pw"), &event(EventKind::Registered)).await.unwrap();
    let (a1, s1) = crate::fixtures::session(alice.id, EPOCH, std::time::Duration::from_secs(60));
    let (a2, s2) = crate::fixtures::session(alice.id, EPOCH, std::time::Duration::from_secs(60));
    let (b1, s3) = crate::fixtures::session(bob.id, EPOCH, std::time::Duration::from_secs(60));
    for s in [&s1, &s2, &s3] {
        stores.tokens.insert(s).await.unwrap();
    }

    let deleted = stores.users.delete(alice.id, &event(EventKind::AccountDeleted)).await.unwrap();
    let again = stores.users.delete(alice.id, &event(EventKind::AccountDeleted)).await.unwrap();

    assert!(deleted);
    assert!(!again);
    assert_eq!(stores.users.find_by_username("alice").await.unwrap(), None);
    assert_eq!(stores.tokens.find(&a1.digest()).await.unwrap(), None);
    assert_eq!(stores.tokens.find(&a2.digest()).await.unwrap(), None);
    assert_eq!(stores.tokens.sessions_of(alice.id).await.unwrap(), vec![]);
    assert!(stores.tokens.find(&b1.digest()).await.unwrap().is_some());
}

pub async fn names_and_emails_keep_every_unicode_character(stores: &Stores) {
    let mut new = new_user("Jürgen_名前", "pw");
    new.email = Some("jürgen@exämple.org".to_owned());

    let created = stores.users.create(&new, &event(EventKind::Registered)).await.unwrap();

    let found = stores.users.find_by_username("Jürgen_名前").await.unwrap().unwrap();
    assert_eq!(found, created);
    assert_eq!(found.email.as_deref(), Some("jürgen@exämple.org"));
    assert_eq!(stores.users.find_by_username("jürgen_名前").await.unwrap(), None);
}

pub async fn find_credentials_returns_the_user_by_id_with_the_password_hash(stores: &Stores) {
    let alice = stores.users.create(&new_user("alice", "pw-alice"), &event(EventKind::Registered)).await.unwrap();
    let bob = stores.users.create(&new_user("bob", "pw-bob"), &event(EventKind::Registered)).await.unwrap();

    let found = stores.users.find_credentials(bob.id).await.unwrap().expect("found by id");

    assert_eq!(found.user, bob);
    assert_eq!(found.password_hash, FakePasswordHasher::hash_of("pw-bob"));
    let nobody = authtoken_core::user::UserId(alice.id.0.max(bob.id.0) + 1);
    assert_eq!(stores.users.find_credentials(nobody).await.unwrap(), None);
}

pub async fn list_pages_through_the_users_in_id_order(stores: &Stores) {
    let mut created = Vec::new();
    for name in ["carol", "alice", "bob", "dave", "erin"] {
        created.push(stores.users.create(&new_user(name, "pw"), &event(EventKind::Registered)).await.unwrap());
    }
    created.sort_by_key(|u| u.id);

    let first = stores.users.list(None, 2).await.unwrap();
    let second = stores.users.list(first.last().map(|u| u.id), 2).await.unwrap();
    let third = stores.users.list(second.last().map(|u| u.id), 2).await.unwrap();
    let past_the_end = stores.users.list(third.last().map(|u| u.id), 2).await.unwrap();

    assert_eq!([first, second, third].concat(), created);
    assert_eq!(past_the_end, Vec::new());
}

pub async fn upgrade_password_hash_replaces_only_the_hash_it_was_told_of(stores: &Stores) {
    let alice = stores.users.create(&new_user("alice", "pw"), &event(EventKind::Registered)).await.unwrap();
    let old = FakePasswordHasher::hash_of("pw");
    let new = PasswordHash::new("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into());
    let stale = PasswordHash::new("pbkdf2_sha256$600000$salt$aGFzaA==".into());

    assert!(!stores.users.upgrade_password_hash(alice.id, &stale, &new).await.unwrap(), "not the stored hash");
    assert!(!stores.users.upgrade_password_hash(UserId(alice.id.0 + 1), &old, &new).await.unwrap(), "no such user");
    assert!(stores.users.upgrade_password_hash(alice.id, &old, &new).await.unwrap());
    assert!(!stores.users.upgrade_password_hash(alice.id, &old, &new).await.unwrap(), "already replaced");

    let found = stores.users.find_credentials(alice.id).await.unwrap().unwrap();
    assert_eq!(found.password_hash, new);
    assert_eq!(found.user, alice, "nothing else changed");
}
