//! The audit trail: the event each use case records, with its user, session and client; none for what did not
//! happen; throttled requests recorded once a minute per client; the caller's listing and the purge by age.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use authtoken_core::event::{AuditEvent, EventKind, EventQuery};
use authtoken_core::ports::{EventRepo, MockEventRepo, StoreError};
use authtoken_core::service::{AddUser, Authenticated, LoginError};
use authtoken_core::session::{ClientInfo, Revoke};
use authtoken_core::throttle::{Limits, Rate};
use authtoken_core::user::UserId;
use authtoken_core::{Config, Timestamp};
use authtoken_testkit::fixtures;

use crate::support::{App, PASSWORD, client, email_form, from, password, text};

const NEW: &str = "a new horse";
const PHONE: &str = "192.0.2.10";
const ATTACKER: &str = "198.51.100.7";

/// Every event the app's store holds, in the order recorded.
async fn recorded(app: &App) -> Vec<AuditEvent> {
    let every = EventRepo::list_events(&app.store, &EventQuery::default(), 1000).await.expect("the store answers");
    every.into_iter().map(|stored| stored.event).collect()
}

/// The events recorded after the first `skip`.
async fn since(app: &App, skip: usize) -> Vec<AuditEvent> {
    recorded(app).await.into_iter().skip(skip).collect()
}

fn kinds(events: &[AuditEvent]) -> Vec<EventKind> {
    events.iter().map(|event| event.kind).collect()
}

async fn signed_in(app: &App, ip: &str) -> Authenticated {
    let token = app.service.login("alice", &password(PASSWORD), from(ip)).await.expect("alice logs in").token;
    app.authenticate(token.plain()).await.expect("the token authenticates")
}

#[tokio::test]
async fn a_login_records_its_new_session_and_client() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let before = recorded(&app).await.len();

    let auth = signed_in(&app, PHONE).await;

    let expected =
        AuditEvent::new(EventKind::Login, fixtures::EPOCH, Some(alice.id), Some(&auth.session.id), &from(PHONE));
    assert_eq!(since(&app, before).await, [expected]);
}

#[tokio::test]
async fn a_failed_login_records_the_user_when_the_name_is_one_and_nobody_otherwise() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let bob = app.user("bob").await;
    authtoken_core::ports::UserRepo::set_active(
        &app.store,
        bob.id,
        false,
        &fixtures::event(EventKind::OperatorDeactivatedUser),
    )
    .await
    .unwrap();
    let before = recorded(&app).await.len();
    let attempt = |name: &'static str, secret: &'static str| {
        let service = app.service.clone();
        async move { service.login(name, &password(secret), from(ATTACKER)).await }
    };

    for (name, secret) in [("alice", "guess"), ("bob", PASSWORD), ("correct horse battery", PASSWORD)] {
        assert!(matches!(attempt(name, secret).await, Err(LoginError::InvalidCredentials)), "{name}");
    }

    let failed = since(&app, before).await;
    assert_eq!(kinds(&failed), [EventKind::LoginFailed; 3]);
    let users: Vec<Option<UserId>> = failed.iter().map(|event| event.user_id).collect();
    assert_eq!(users, [Some(alice.id), Some(bob.id), None], "a wrong password, an inactive user, an unknown name");
    assert!(failed.iter().all(|event| event.session_id.is_none() && event.client == from(ATTACKER)));
    assert!(!format!("{failed:?}").contains("battery"), "the name typed is not kept: {failed:?}");
}

#[tokio::test]
async fn logout_and_revocations_record_the_session_they_concern() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let phone = signed_in(&app, PHONE).await;
    let laptop = signed_in(&app, "192.0.2.20").await;
    signed_in(&app, "192.0.2.30").await;
    signed_in(&app, "192.0.2.40").await;
    let before = recorded(&app).await.len();
    let here = from("192.0.2.20");

    assert!(app.service.revoke_session(&laptop, phone.session.id.as_str(), &here).await.unwrap());
    assert!(!app.service.revoke_session(&laptop, phone.session.id.as_str(), &here).await.unwrap(), "already gone");
    assert_eq!(app.service.logout_others(&laptop, &password(PASSWORD), &here).await.unwrap(), 2);
    app.service.logout(&laptop, &here).await.unwrap();
    app.service.logout(&laptop, &here).await.unwrap();

    let at = fixtures::EPOCH;
    let event =
        |kind, session: &Authenticated| AuditEvent::new(kind, at, Some(alice.id), Some(&session.session.id), &here);
    assert_eq!(
        since(&app, before).await,
        [
            event(EventKind::SessionRevoked, &phone),
            event(EventKind::OtherSessionsRevoked, &laptop),
            event(EventKind::Logout, &laptop),
        ],
        "a revocation of nothing and a second logout record nothing"
    );
    let left = authtoken_core::ports::TokenRepo::sessions_of(&app.store, alice.id).await.unwrap();
    assert!(left.is_empty(), "the phone, the tablet and the desk were revoked, and the laptop logged out: {left:?}");
}

#[tokio::test]
async fn logging_out_everywhere_records_the_callers_session() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let phone = signed_in(&app, PHONE).await;
    signed_in(&app, "192.0.2.20").await;
    let before = recorded(&app).await.len();

    assert_eq!(app.service.logout_all(&phone, &password(PASSWORD), &from(PHONE)).await.unwrap(), 2);

    let all = since(&app, before).await;
    assert_eq!(kinds(&all), [EventKind::AllSessionsRevoked]);
    assert_eq!(all[0].session_id.as_ref(), Some(&phone.session.id));
}

#[tokio::test]
async fn a_wrong_reentered_password_is_an_event_of_the_callers_session_and_changes_nothing_else() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let phone = signed_in(&app, PHONE).await;
    let before = recorded(&app).await.len();
    let wrong = password("guess");

    assert!(app.service.logout_others(&phone, &wrong, &from(ATTACKER)).await.is_err());
    assert!(app.service.logout_all(&phone, &wrong, &from(ATTACKER)).await.is_err());
    assert!(app.service.change_password(&phone, &wrong, text(NEW), true, &from(ATTACKER)).await.is_err());
    assert!(app.service.delete_account(&phone, &wrong, &from(ATTACKER)).await.is_err());
    assert!(app.service.change_password(&phone, &password(PASSWORD), text("short"), true, &client()).await.is_err());

    let wrongs = since(&app, before).await;
    assert_eq!(kinds(&wrongs), [EventKind::WrongPassword; 4], "a bad new password is checked first, and is no event");
    assert!(wrongs.iter().all(|e| e.session_id == Some(phone.session.id.clone()) && e.client == from(ATTACKER)));
}

#[tokio::test]
async fn a_password_change_and_the_accounts_deletion_record_their_events() {
    let app = App::new();
    let alice = app.register("alice", PASSWORD).await;
    let phone = signed_in(&app, PHONE).await;
    let before = recorded(&app).await.len();

    app.service.change_password(&phone, &password(PASSWORD), text(NEW), true, &from(PHONE)).await.unwrap();
    app.service.delete_account(&phone, &password(NEW), &from(PHONE)).await.unwrap();

    let event = |kind| AuditEvent::new(kind, fixtures::EPOCH, Some(alice.id), Some(&phone.session.id), &from(PHONE));
    assert_eq!(since(&app, before).await, [event(EventKind::PasswordChanged), event(EventKind::AccountDeleted)]);
}

#[tokio::test]
async fn a_reset_request_records_the_account_of_the_address_and_the_reset_its_user() {
    let app = crate::reset::app().await;
    let alice = app.user("alice").await;
    let before = recorded(&app).await.len();

    app.service.request_password_reset(text("nobody@example.org"), &[], &from(ATTACKER)).await.unwrap();
    let token = crate::reset::reset_token(&app, "alice@example.org").await;
    assert!(app.service.reset_password("not a link", text(NEW), &from(PHONE)).await.is_err());
    assert!(app.service.reset_password(&token, text("short"), &from(PHONE)).await.is_err());
    app.service.reset_password(&token, text(NEW), &from(PHONE)).await.unwrap();

    let at = fixtures::EPOCH;
    assert_eq!(
        since(&app, before).await,
        [
            AuditEvent::new(EventKind::PasswordResetRequested, at, None, None, &from(ATTACKER)),
            AuditEvent::new(EventKind::PasswordResetRequested, at, Some(alice.id), None, &client()),
            AuditEvent::new(EventKind::PasswordReset, at, Some(alice.id), None, &from(PHONE)),
        ]
    );
}

#[tokio::test]
async fn registration_and_confirmation_record_their_events_and_invalid_ones_none() {
    let app = App::confirming();
    let form = |name: &str, email: &str| authtoken_core::service::RegistrationForm {
        client: from(PHONE),
        ..email_form(name, email)
    };
    assert!(app.service.register(form("alice", "not an address")).await.is_err());
    let alice = app.service.register(form("alice", "alice@example.org")).await.unwrap();
    assert!(app.service.register(form("alice", "other@example.org")).await.is_err(), "the name is taken");
    let token = app.link_token("alice@example.org").await;
    assert!(app.service.confirm_email("not a link", &from(PHONE)).await.is_err());

    app.service.confirm_email(&token, &from("192.0.2.99")).await.unwrap();

    let at = fixtures::EPOCH;
    assert_eq!(
        recorded(&app).await,
        [
            AuditEvent::new(EventKind::Registered, at, Some(alice.id), None, &from(PHONE)),
            AuditEvent::new(EventKind::EmailConfirmed, at, Some(alice.id), None, &from("192.0.2.99")),
        ]
    );
}

#[tokio::test]
async fn an_operators_use_cases_record_events_without_a_client() {
    let app = App::new();
    let jane = app.service.add_user(AddUser { username: "jane".into(), email: None, password: password(PASSWORD) });
    let jane = jane.await.unwrap();

    app.service.set_password(jane.id, password(NEW), &Revoke::All).await.unwrap();

    let at = fixtures::EPOCH;
    assert_eq!(
        recorded(&app).await,
        [
            AuditEvent::by_operator(EventKind::OperatorCreatedUser, at, Some(jane.id), None),
            AuditEvent::by_operator(EventKind::OperatorSetPassword, at, Some(jane.id), None),
        ]
    );
}

fn throttled(mut app: App, limits: Limits) -> App {
    app.service = app.service.clone().with_throttles(Arc::new(app.store.clone()), limits);
    app
}

fn one_a_minute() -> Option<Rate> {
    Rate::new(NonZeroU32::new(1).expect("one"), Duration::from_secs(60))
}

fn limits() -> Limits {
    Limits {
        login_ip: one_a_minute(),
        login_failures_ip_account: None,
        login_failures_account: None,
        register_ip: one_a_minute(),
        mail_ip: None,
        mail_address: None,
    }
}

#[tokio::test]
async fn throttled_requests_are_recorded_once_a_minute_per_client_with_the_account_when_known() {
    let app = throttled(App::new(), limits());
    let alice = app.register("alice", PASSWORD).await;
    let attempt = |ip: &'static str| {
        let service = app.service.clone();
        async move { service.login("alice", &password("guess"), from(ip)).await }
    };
    attempt(ATTACKER).await.unwrap_err();
    let before = recorded(&app).await.len();

    for _ in 0..5 {
        assert!(matches!(attempt(ATTACKER).await, Err(LoginError::Throttled(_))));
    }
    app.clock.advance(Duration::from_secs(30));
    assert!(matches!(attempt(ATTACKER).await, Err(LoginError::Throttled(_))));
    attempt("192.0.2.50").await.unwrap_err();
    assert!(matches!(attempt("192.0.2.50").await, Err(LoginError::Throttled(_))));
    app.clock.advance(Duration::from_secs(31));
    attempt(ATTACKER).await.unwrap_err();
    assert!(matches!(attempt(ATTACKER).await, Err(LoginError::Throttled(_))));

    let later = fixtures::EPOCH.plus(Duration::from_secs(30));
    let latest = fixtures::EPOCH.plus(Duration::from_secs(61));
    let throttled = |at: Timestamp, ip| AuditEvent::new(EventKind::LoginThrottled, at, Some(alice.id), None, &from(ip));
    let failed = |at: Timestamp, ip| AuditEvent::new(EventKind::LoginFailed, at, Some(alice.id), None, &from(ip));
    assert_eq!(
        since(&app, before).await,
        [
            throttled(fixtures::EPOCH, ATTACKER),
            failed(later, "192.0.2.50"),
            throttled(later, "192.0.2.50"),
            failed(latest, ATTACKER),
            throttled(latest, ATTACKER),
        ],
        "one event a minute per client"
    );
}

#[tokio::test]
async fn a_throttled_registration_is_an_event_of_nobody() {
    let app = throttled(App::new(), limits());
    let form = |name: &str| authtoken_core::service::RegistrationForm {
        client: from(ATTACKER),
        ..email_form(name, "x@example.org")
    };
    app.service.register(form("first")).await.unwrap();

    assert!(app.service.register(form("second")).await.is_err());

    let every = recorded(&app).await;
    assert_eq!(kinds(&every), [EventKind::Registered, EventKind::RegistrationThrottled]);
    assert_eq!((every[1].user_id, &every[1].client), (None, &from(ATTACKER)));
}

#[tokio::test]
async fn events_lists_the_callers_latest_events_and_the_purge_drops_those_past_the_retention() {
    let config = Config { auth_event_retention: Duration::from_secs(3600), ..fixtures::config() };
    let app = App::with_config(config);
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let alice = signed_in(&app, PHONE).await;
    app.clock.advance(Duration::from_secs(1800));
    app.service.logout(&alice, &from(PHONE)).await.unwrap();
    for _ in 0..120 {
        app.service.login("alice", &password("guess"), from(ATTACKER)).await.unwrap_err();
    }

    let listed = app.service.events(&alice).await.unwrap();

    assert_eq!(listed.len(), 100);
    assert!(listed.iter().all(|stored| stored.event.user_id == Some(alice.user.id)));
    assert!(listed.iter().all(|stored| stored.event.kind == EventKind::LoginFailed), "the latest 100");
    app.clock.advance(Duration::from_secs(1801));
    assert_eq!(app.service.purge_events().await.unwrap(), 3, "alice's and bob's registrations and alice's login");
    assert_eq!(recorded(&app).await.len(), 121);
    assert_eq!(app.service.purge_events().await.unwrap(), 0);
}

#[tokio::test]
async fn a_failed_login_whose_event_cannot_be_recorded_fails() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let mut events = MockEventRepo::new();
    events.expect_record().times(1).returning(|_| Err(StoreError::new("disk full")));
    let service = app.service_with(|ports| ports.events = Arc::new(events));

    let login = service.login("alice", &password("guess"), ClientInfo::default()).await;

    assert!(matches!(login, Err(LoginError::Failed(_))), "{login:?}");
}
