//! Contract cases of `EventRepo`: recording, the two listings, the purge, and what a store refuses.

use std::time::Duration;

use authtoken_core::Timestamp;
use authtoken_core::event::{AuditEvent, EventId, EventKind, EventQuery, StoredEvent};
use authtoken_core::session::{ClientInfo, SessionId, USER_AGENT_MAX_CHARS};
use authtoken_core::user::{User, UserId};

use super::Stores;
use crate::fixtures::{EPOCH, event, new_user};

const MINUTE: Duration = Duration::from_secs(60);

async fn user(stores: &Stores, name: &str) -> User {
    stores.users.create(&new_user(name, "password"), &event(EventKind::Registered)).await.expect("the user is created")
}

/// An event of `kind` of `user` at `minutes` after `EPOCH`.
fn at(kind: EventKind, user: Option<UserId>, minutes: u32) -> AuditEvent {
    AuditEvent { at: EPOCH.plus(MINUTE * minutes), user_id: user, ..event(kind) }
}

/// The kinds of `events`, in their order.
fn kinds(events: &[StoredEvent]) -> Vec<EventKind> {
    events.iter().map(|stored| stored.event.kind).collect()
}

/// Every event of the store, in the order recorded.
pub(super) async fn every_event(stores: &Stores) -> Vec<StoredEvent> {
    stores.events.list_events(&EventQuery::default(), 1000).await.expect("the store answers")
}

pub async fn an_event_keeps_every_field(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let session = SessionId::generate().unwrap();
    let user_agent = format!("Mozilla/5.0 (X11; Linux) «{}»", "ä".repeat(USER_AGENT_MAX_CHARS - 27));
    let full = AuditEvent::new(
        EventKind::Login,
        EPOCH.plus(Duration::from_millis(1)),
        Some(alice.id),
        Some(&session),
        &ClientInfo::new(Some(&user_agent), Some("2001:db8::1".to_owned())),
    );
    let bare = AuditEvent::new(EventKind::LoginFailed, EPOCH, None, None, &ClientInfo::default());

    stores.events.record(&full).await.unwrap();
    stores.events.record(&bare).await.unwrap();

    let listed = stores.events.events_of(alice.id, 10).await.unwrap();
    assert_eq!(listed.len(), 2, "the registration's event and the login's");
    assert_eq!(listed[0].event, full);
    assert_eq!(listed[0].event.client.user_agent.as_ref().map(|ua| ua.chars().count()), Some(USER_AGENT_MAX_CHARS));
    assert_eq!(listed[0].username.as_deref(), Some("alice"));
    let every = every_event(stores).await;
    let last = every.last().expect("the bare event is listed");
    assert_eq!((&last.event, &last.username), (&bare, &None));
}

pub async fn events_of_lists_the_latest_events_of_the_user_newest_first(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    for (kind, user, minutes) in [
        (EventKind::Login, Some(alice.id), 3),
        (EventKind::Logout, Some(alice.id), 5),
        (EventKind::Login, Some(bob.id), 6),
        (EventKind::LoginFailed, None, 7),
        // Recorded later than the logout, at an earlier time: time goes first.
        (EventKind::WrongPassword, Some(alice.id), 4),
        // Two at the same time: the later recorded goes first.
        (EventKind::PasswordChanged, Some(alice.id), 8),
        (EventKind::OtherSessionsRevoked, Some(alice.id), 8),
    ] {
        stores.events.record(&at(kind, user, minutes)).await.unwrap();
    }

    let latest = stores.events.events_of(alice.id, 100).await.unwrap();
    let three = stores.events.events_of(alice.id, 3).await.unwrap();

    assert_eq!(
        kinds(&latest),
        [
            EventKind::OtherSessionsRevoked,
            EventKind::PasswordChanged,
            EventKind::Logout,
            EventKind::WrongPassword,
            EventKind::Login,
            EventKind::Registered,
        ]
    );
    assert!(latest.iter().all(|stored| stored.event.user_id == Some(alice.id)));
    assert_eq!(kinds(&three), kinds(&latest[..3]));
    assert_eq!(kinds(&stores.events.events_of(bob.id, 100).await.unwrap()), [EventKind::Login, EventKind::Registered]);
}

pub async fn list_events_pages_in_recorded_order_by_user_and_time(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    for (kind, user, minutes) in [
        (EventKind::Login, Some(alice.id), 10),
        (EventKind::Login, Some(bob.id), 20),
        (EventKind::LoginFailed, None, 30),
        // Recorded last, at an earlier time: the order is the recording's.
        (EventKind::Logout, Some(alice.id), 15),
    ] {
        stores.events.record(&at(kind, user, minutes)).await.unwrap();
    }
    let query = |after: Option<EventId>, user: Option<&User>, since: u32| EventQuery {
        after,
        user_id: user.map(|u| u.id),
        since: (since > 0).then(|| EPOCH.plus(MINUTE * since)),
    };

    let every = stores.events.list_events(&query(None, None, 0), 100).await.unwrap();
    let first_page = stores.events.list_events(&query(None, None, 0), 3).await.unwrap();
    let second_page = stores.events.list_events(&query(Some(first_page[2].id), None, 0), 3).await.unwrap();
    let alices = stores.events.list_events(&query(None, Some(&alice), 0), 100).await.unwrap();
    let since = stores.events.list_events(&query(None, None, 15), 100).await.unwrap();
    let alices_since = stores.events.list_events(&query(None, Some(&alice), 11), 100).await.unwrap();

    use EventKind::{Login, LoginFailed, Logout, Registered};
    assert_eq!(kinds(&every), [Registered, Registered, Login, Login, LoginFailed, Logout]);
    assert!(every.windows(2).all(|pair| pair[0].id < pair[1].id), "ids grow in the order recorded");
    assert_eq!(every[2].username.as_deref(), Some("alice"));
    assert_eq!((every[3].username.as_deref(), every[4].username.as_deref()), (Some("bob"), None));
    assert_eq!(first_page, every[..3]);
    assert_eq!(second_page, every[3..]);
    assert_eq!(kinds(&alices), [Registered, Login, Logout]);
    assert_eq!(kinds(&since), [Login, LoginFailed, Logout], "at or after the time");
    assert_eq!(kinds(&alices_since), [Logout]);
}

pub async fn purge_events_deletes_only_events_before_the_cut_off(stores: &Stores) {
    for minutes in [1, 2, 3] {
        stores.events.record(&at(EventKind::LoginFailed, None, minutes)).await.unwrap();
    }

    let purged = stores.events.purge_events(EPOCH.plus(MINUTE * 2)).await.unwrap();

    assert_eq!(purged, 1);
    let left: Vec<Timestamp> = every_event(stores).await.iter().map(|stored| stored.event.at).collect();
    assert_eq!(left, [EPOCH.plus(MINUTE * 2), EPOCH.plus(MINUTE * 3)], "an event at the cut-off itself stays");
    assert_eq!(stores.events.purge_events(EPOCH.plus(MINUTE * 2)).await.unwrap(), 0);
}

pub async fn events_outlive_their_user(stores: &Stores) {
    let alice = user(stores, "alice").await;
    stores.events.record(&at(EventKind::Login, Some(alice.id), 1)).await.unwrap();

    let deleted = AuditEvent { user_id: Some(alice.id), ..at(EventKind::AccountDeleted, None, 2) };
    assert!(stores.users.delete(alice.id, &deleted).await.unwrap());

    let left = stores.events.events_of(alice.id, 100).await.unwrap();
    assert_eq!(kinds(&left), [EventKind::AccountDeleted, EventKind::Login, EventKind::Registered]);
    assert!(left.iter().all(|stored| stored.username.is_none()), "the name went with the user: {left:?}");
}

pub async fn a_new_user_never_inherits_the_events_of_a_deleted_one(stores: &Stores) {
    user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    stores.users.delete(bob.id, &at(EventKind::OperatorDeletedUser, Some(bob.id), 1)).await.unwrap();

    let carol = user(stores, "carol").await;

    assert_ne!(carol.id, bob.id);
    assert_eq!(kinds(&stores.events.events_of(carol.id, 100).await.unwrap()), [EventKind::Registered]);
}

pub async fn an_event_with_a_user_agent_beyond_its_limit_is_refused(stores: &Stores) {
    let mut long = event(EventKind::LoginFailed);
    long.client.user_agent = Some("x".repeat(USER_AGENT_MAX_CHARS + 1));

    let refused = stores.events.record(&long).await;

    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(every_event(stores).await, []);
}
