//! Many clients at once: concurrent registrations of one name, concurrent clicks on one confirmation link, and a
//! thousand logins and logouts of one user, leave the store exactly as the replies said.

use std::collections::BTreeSet;
use std::sync::Arc;

use authtoken_core::PlainToken;
use poem::http::StatusCode;
use tokio::task::JoinSet;

use super::support::{INVALID_TOKEN, PASSWORD, TestApp, send};

const DUPLICATE: &str = r#"{"username":["A user with that username already exists."]}"#;

/// How many clients log in at once in the login and logout test; every other one logs out again.
const CLIENTS: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_registrations_of_one_name_give_one_201_and_forty_nine_400s() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };
    let app = Arc::new(app);

    let mut requests = JoinSet::new();
    for _ in 0..50 {
        let app = Arc::clone(&app);
        requests.spawn(async move {
            let reply = app.register(r#"{"username":"alice","password":"correct horse"}"#).await;
            (reply.status, reply.body)
        });
    }
    let replies = requests.join_all().await;

    assert!(replies.iter().all(|(status, _)| !status.is_server_error()), "{replies:?}");
    let created: Vec<_> = replies.iter().filter(|(status, _)| *status == StatusCode::CREATED).collect();
    let refused: Vec<_> = replies.iter().filter(|(status, _)| *status == StatusCode::BAD_REQUEST).collect();
    assert_eq!(created.len(), 1, "{replies:?}");
    assert_eq!(refused.len(), 49, "{replies:?}");
    assert!(refused.iter().all(|(_, body)| body == DUPLICATE), "{replies:?}");
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::OK);
    assert_exactly_one_user(&app, "alice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_registrations_of_one_name_with_confirmation_queue_exactly_one_mail() {
    let Some(app) = TestApp::builder().registration(true).confirmation().build().await else { return };
    let app = Arc::new(app);

    let mut requests = JoinSet::new();
    for client in 0..50 {
        let app = Arc::clone(&app);
        requests.spawn(async move {
            let body =
                format!(r#"{{"username":"alice","password":"correct horse","email":"alice{client}@example.org"}}"#);
            let reply = app.register(&body).await;
            (reply.status, reply.body)
        });
    }
    let replies = requests.join_all().await;

    assert!(replies.iter().all(|(status, _)| !status.is_server_error()), "{replies:?}");
    let created = replies.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
    let refused: Vec<_> = replies.iter().filter(|(status, _)| *status == StatusCode::BAD_REQUEST).collect();
    assert_eq!((created, refused.len()), (1, 49), "{replies:?}");
    assert!(refused.iter().all(|(_, body)| body == DUPLICATE), "{replies:?}");
    let mail = app.pending_mail().await;
    let alice = app.users.find_by_username("alice").await.expect("the store works").expect("alice exists");
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(Some(&mail[0].to), alice.email.as_ref(), "the mail goes to the address of the user created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_clicks_on_one_confirmation_link_confirm_once() {
    let Some(app) = TestApp::builder().registration(true).confirmation().build().await else { return };
    let reply = app.register(r#"{"username":"alice","password":"correct horse","email":"alice@example.org"}"#).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let path = app.confirm_path().await;
    let app = Arc::new(app);

    let mut clicks = JoinSet::new();
    for _ in 0..20 {
        let (app, path) = (Arc::clone(&app), path.clone());
        clicks.spawn(async move {
            let reply = app.get(&path).await;
            (reply.status, reply.body)
        });
    }
    let replies = clicks.join_all().await;

    let confirmed = replies.iter().filter(|(status, body)| *status == StatusCode::FOUND && body.is_empty()).count();
    let invalid =
        replies.iter().filter(|(status, body)| *status == StatusCode::BAD_REQUEST && body == "invalid token!");
    assert_eq!((confirmed, invalid.count()), (1, 19), "{replies:?}");
    assert!(app.email_confirmed("alice").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_logins_and_logouts_leave_exactly_the_kept_sessions() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let app = Arc::new(app);

    let mut clients = JoinSet::new();
    for client in 0..CLIENTS {
        let app = Arc::clone(&app);
        clients.spawn(async move {
            let logs_out = client % 2 == 0;
            let token = log_in_and_maybe_out(&app, logs_out).await;
            (token, logs_out)
        });
    }
    let tokens = clients.join_all().await;

    let kept: Vec<&str> = tokens.iter().filter(|(_, logged_out)| !logged_out).map(|(t, _)| t.as_str()).collect();
    assert_eq!(kept.len(), CLIENTS / 2);
    for (token, logged_out) in &tokens {
        let reply = app.me_with(&format!("Token {token}")).await;
        if *logged_out {
            reply.assert_unauthenticated(INVALID_TOKEN);
        } else {
            reply.assert_json(StatusCode::OK, r#"{"id":1,"username":"alice"}"#);
        }
    }
    let stored = app.tokens.sessions_of(alice).await.expect("the store works");
    assert_eq!(stored.len(), kept.len(), "sessions left in the store");
    let stored: BTreeSet<[u8; 64]> = stored.iter().map(|s| *s.digest.as_bytes()).collect();
    let expected: BTreeSet<[u8; 64]> = kept.iter().map(|t| digest(t)).collect();
    assert_eq!(expected.len(), kept.len(), "every login issued a different token");
    assert!(stored == expected, "{} stored sessions belong to no kept token", stored.difference(&expected).count());
}

/// One client: logs in, uses its token, and, if `logs_out`, logs out and finds its token refused; returns the token.
async fn log_in_and_maybe_out(app: &TestApp, logs_out: bool) -> String {
    let token = app.login("alice", PASSWORD).await;
    let authorization = format!("Token {token}");
    app.me_with(&authorization).await.assert_json(StatusCode::OK, r#"{"id":1,"username":"alice"}"#);
    if !logs_out {
        return token;
    }

    let reply = send(app.client.delete("/auth/logout/").header("authorization", authorization.as_str())).await;

    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::NO_CONTENT, ""));
    app.me_with(&authorization).await.assert_unauthenticated(INVALID_TOKEN);
    token
}

/// The user `username` exists, and no second one: deleting the one found leaves none by that name or key.
async fn assert_exactly_one_user(app: &TestApp, username: &str) {
    let id = app.user_id(username).await;

    let event = authtoken_testkit::fixtures::event(authtoken_core::event::EventKind::OperatorDeletedUser);
    let deleted = app.users.delete(id, &event).await.expect("the store works");

    assert!(deleted, "the user found can be deleted");
    assert_eq!(app.users.find_by_username(username).await.expect("the store works"), None, "a second {username}");
    assert!(app.users.find_by_key(username).await.expect("the store works").is_none(), "a second {username} by key");
}

/// The digest a store keeps for a token the service issued.
fn digest(token: &str) -> [u8; 64] {
    *PlainToken::parse(token.as_bytes()).expect("an issued token is well-formed").digest().as_bytes()
}
