//! The session lifecycle: listing and revoking one's sessions, re-entered passwords, recording use, idle
//! sessions, and the limit of sessions per user.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use authtoken_core::Config;
use authtoken_core::PlainToken;
use authtoken_core::Timestamp;
use authtoken_core::ports::{Clock as _, MockTokenRepo, TokenRepo};
use authtoken_core::service::{AuthenticateError, Authenticated, ReauthError};
use authtoken_testkit::fixtures;

use crate::support::{App, PASSWORD, client, password};

const MINUTE: Duration = Duration::from_secs(60);

fn idle_after(timeout: Duration) -> Config {
    Config { auth_token_idle_timeout: Some(timeout), ..fixtures::config() }
}

/// Logs alice in `count` times, a minute apart.
async fn logins(app: &App, count: usize) -> Vec<PlainToken> {
    let mut tokens = Vec::new();
    for _ in 0..count {
        tokens.push(app.token("alice", PASSWORD).await);
        app.clock.advance(MINUTE);
    }
    tokens
}

async fn session_of(app: &App, token: &PlainToken) -> Authenticated {
    app.authenticate(token).await.expect("the token authenticates")
}

/// The last use the store has recorded for the token's session.
async fn stored_last_use(app: &App, token: &PlainToken) -> Option<Timestamp> {
    let found = TokenRepo::find(&app.store, &token.digest()).await.expect("the store answers");
    found.expect("the session is stored").session.last_used_at
}

#[track_caller]
fn assert_invalid(result: Result<Authenticated, AuthenticateError>) {
    assert!(matches!(result, Err(AuthenticateError::InvalidToken)), "{result:?}");
}

#[tokio::test]
async fn list_sessions_shows_the_callers_live_sessions_newest_first() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let expiring = app.token("alice", PASSWORD).await;
    app.clock.advance(fixtures::config().auth_token_validity / 2);
    let [older, newer] = logins(&app, 2).await.try_into().unwrap();
    app.token("bob", PASSWORD).await;
    let caller = session_of(&app, &older).await;
    let newer = session_of(&app, &newer).await;
    app.clock.advance(fixtures::config().auth_token_validity / 2);

    let listed = app.service.list_sessions(&caller).await.unwrap();

    let ids: Vec<_> = listed.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, vec![newer.session.id, caller.session.id], "the expired session and bob's are not listed");
    assert!(app.authenticate(&expiring).await.is_err());
}

#[tokio::test]
async fn list_sessions_leaves_out_idle_sessions() {
    let app = App::with_config(idle_after(MINUTE * 10));
    app.register("alice", PASSWORD).await;
    let [idle, busy] = logins(&app, 2).await.try_into().unwrap();
    let caller = session_of(&app, &busy).await;
    app.clock.advance(MINUTE * 11);
    let caller_now = session_of(&app, &busy).await;

    let listed = app.service.list_sessions(&caller_now).await.unwrap();

    assert_eq!(listed.iter().map(|s| &s.id).collect::<Vec<_>>(), vec![&caller.session.id]);
    assert_invalid(app.authenticate(&idle).await);
}

#[tokio::test]
async fn revoke_session_ends_one_of_the_callers_sessions_the_current_one_too() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let [current, other] = logins(&app, 2).await.try_into().unwrap();
    let bobs = app.token("bob", PASSWORD).await;
    let caller = session_of(&app, &current).await;
    let other_id = session_of(&app, &other).await.session.id;
    let bobs_id = session_of(&app, &bobs).await.session.id;

    assert!(!app.service.revoke_session(&caller, bobs_id.as_str(), &client()).await.unwrap(), "bob's is not alice's");
    assert!(app.service.revoke_session(&caller, other_id.as_str(), &client()).await.unwrap());
    assert!(!app.service.revoke_session(&caller, other_id.as_str(), &client()).await.unwrap(), "already revoked");
    assert!(app.service.revoke_session(&caller, caller.session.id.as_str(), &client()).await.unwrap());

    assert_invalid(app.authenticate(&other).await);
    assert_invalid(app.authenticate(&current).await);
    assert!(app.authenticate(&bobs).await.is_ok());
}

#[tokio::test]
async fn an_expired_or_idle_session_is_not_found_for_revocation() {
    let app = App::with_config(idle_after(MINUTE * 10));
    app.register("alice", PASSWORD).await;
    let [idle, current] = logins(&app, 2).await.try_into().unwrap();
    let idle_id = session_of(&app, &idle).await.session.id;
    app.clock.advance(MINUTE * 6);
    session_of(&app, &current).await;
    app.clock.advance(MINUTE * 6);
    let caller = session_of(&app, &current).await;

    let revoked = app.service.revoke_session(&caller, idle_id.as_str(), &client()).await.unwrap();

    assert!(!revoked, "an idle session is not one of the caller's live sessions");
}

#[tokio::test]
async fn a_malformed_session_id_is_not_found_without_asking_the_store() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let caller = session_of(&app, &app.token("alice", PASSWORD).await).await;
    let mut tokens = MockTokenRepo::new();
    tokens.expect_find_by_id().never();
    tokens.expect_revoke().never();
    let service = app.service_with(|ports| ports.tokens = Arc::new(tokens));

    for id in ["", "x", "../../etc/passwd", &format!("{}=", &caller.session.id.as_str()[1..])] {
        assert!(!service.revoke_session(&caller, id, &client()).await.unwrap(), "{id:?}");
    }
}

#[tokio::test]
async fn logout_others_keeps_only_the_current_session_once_the_password_is_right() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let [current, laptop, phone] = logins(&app, 3).await.try_into().unwrap();
    let bobs = app.token("bob", PASSWORD).await;
    let caller = session_of(&app, &current).await;

    let wrong = app.service.logout_others(&caller, &password("not the password"), &client()).await;
    assert!(matches!(wrong, Err(ReauthError::WrongPassword)), "{wrong:?}");
    assert!(app.authenticate(&laptop).await.is_ok(), "a wrong password revokes nothing");

    let revoked = app.service.logout_others(&caller, &password(PASSWORD), &client()).await.unwrap();

    assert_eq!(revoked, 2);
    assert!(app.authenticate(&current).await.is_ok());
    assert_invalid(app.authenticate(&laptop).await);
    assert_invalid(app.authenticate(&phone).await);
    assert!(app.authenticate(&bobs).await.is_ok());
}

#[tokio::test]
async fn logout_all_ends_every_session_the_current_one_included() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let [current, other] = logins(&app, 2).await.try_into().unwrap();
    let bobs = app.token("bob", PASSWORD).await;
    let caller = session_of(&app, &current).await;

    let wrong = app.service.logout_all(&caller, &password(""), &client()).await;
    assert!(matches!(wrong, Err(ReauthError::WrongPassword)), "{wrong:?}");
    let revoked = app.service.logout_all(&caller, &password(PASSWORD), &client()).await.unwrap();

    assert_eq!(revoked, 2);
    assert_invalid(app.authenticate(&current).await);
    assert_invalid(app.authenticate(&other).await);
    assert!(app.authenticate(&bobs).await.is_ok());
}

#[tokio::test]
async fn a_use_is_recorded_at_most_once_per_resolution() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    let login = app.clock.now();

    assert_eq!(session_of(&app, &token).await.session.last_used_at, Some(login), "the first use is recorded");
    app.clock.advance(MINUTE);
    session_of(&app, &token).await;
    assert_eq!(stored_last_use(&app, &token).await, Some(login), "a use within the resolution is not written");
    app.clock.advance(Duration::from_millis(1));
    session_of(&app, &token).await;
    assert_eq!(stored_last_use(&app, &token).await, Some(app.clock.now()), "a stale record is written again");
}

#[tokio::test]
async fn a_session_unused_past_the_idle_timeout_and_the_resolution_is_invalid_and_deleted() {
    let app = App::with_config(idle_after(MINUTE * 10));
    app.register("alice", PASSWORD).await;
    let [kept_busy, left_alone] = logins(&app, 2).await.try_into().unwrap();
    for _ in 0..4 {
        app.clock.advance(MINUTE * 5);
        session_of(&app, &kept_busy).await;
    }
    let last_use = app.clock.now();
    assert!(app.authenticate(&left_alone).await.is_err(), "20 minutes without a use");
    assert_eq!(app.store.session_count(), 1, "the idle session is deleted when presented");

    app.clock.advance(MINUTE * 11);
    assert!(app.authenticate(&kept_busy).await.is_ok(), "idle for the timeout plus the resolution: still valid");
    assert_eq!(stored_last_use(&app, &kept_busy).await, Some(app.clock.now()));
    app.clock.advance(MINUTE * 11 + Duration::from_millis(1));
    assert_invalid(app.authenticate(&kept_busy).await);
    assert!(app.clock.now() > last_use);
}

#[tokio::test]
async fn purge_sessions_deletes_idle_sessions_only_when_the_idle_timeout_is_set() {
    for (config, left) in [(fixtures::config(), 2), (idle_after(MINUTE * 10), 1)] {
        let app = App::with_config(config);
        app.register("alice", PASSWORD).await;
        let [_, busy] = logins(&app, 2).await.try_into().unwrap();
        app.clock.advance(MINUTE * 10);
        session_of(&app, &busy).await;
        app.clock.advance(MINUTE * 2);

        app.service.purge_sessions().await.unwrap();

        assert_eq!(app.store.session_count(), left);
    }
}

#[tokio::test]
async fn a_login_beyond_max_sessions_per_user_revokes_the_least_recently_used() {
    let config = Config { max_sessions_per_user: NonZeroU32::new(2), ..fixtures::config() };
    let app = App::with_config(config);
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let bobs = app.token("bob", PASSWORD).await;
    let [first, second] = logins(&app, 2).await.try_into().unwrap();
    session_of(&app, &first).await;

    let third = app.token("alice", PASSWORD).await;

    assert!(app.authenticate(&first).await.is_ok(), "used since the second login");
    assert_invalid(app.authenticate(&second).await);
    assert!(app.authenticate(&third).await.is_ok());
    assert!(app.authenticate(&bobs).await.is_ok(), "another user's sessions do not count");
}
