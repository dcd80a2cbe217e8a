//! The audit trail over HTTP: `GET /auth/events/`, what the routes record in it, and how the document describes it.

use std::time::Duration;

use authtoken_core::event::{AuditEvent, EventKind, EventQuery};
use authtoken_core::session::ClientInfo;
use poem::http::{StatusCode, header};
use poem::test::TestClient;
use serde_json::{Value, json};

use super::client_ip::{Peer, client};
use super::support::{App, NOT_PROVIDED, PASSWORD, Reply, TestApp, send};

fn auth(token: &str) -> String {
    format!("Token {token}")
}

/// `GET /auth/events/` with `token`.
async fn events(client: &TestClient<App>, token: &str) -> Reply {
    send(client.get("/auth/events/").header(header::AUTHORIZATION, auth(token)).data(peer("192.0.2.99"))).await
}

/// The events `GET /auth/events/` lists for `token`'s user; the test fails unless it answers 200.
async fn listed(client: &TestClient<App>, token: &str) -> Vec<Value> {
    let reply = events(client, token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json().as_array().expect("a list").clone()
}

fn kinds(listed: &[Value]) -> Vec<&str> {
    listed.iter().map(|event| event["kind"].as_str().expect("a kind")).collect()
}

fn peer(ip: &str) -> Peer {
    Peer(std::net::SocketAddr::new(ip.parse().expect("a valid address"), 40000))
}

/// A JSON login of alice (or anyone) from `ip` with `user_agent`.
async fn login_from(client: &TestClient<App>, username: &str, password: &str, ip: &str, user_agent: &str) -> Reply {
    let body = json!({ "username": username, "password": password });
    send(client.post("/auth/login/").header(header::USER_AGENT, user_agent).data(peer(ip)).body_json(&body)).await
}

#[tokio::test]
async fn events_list_what_happened_to_the_callers_account_newest_first_with_where_it_came_from() {
    let Some(app) = TestApp::new().await else { return };
    let client = client(&app, "");
    app.seed_user("alice", PASSWORD).await;
    app.seed_user("bob", PASSWORD).await;
    let phone = login_from(&client, "alice", PASSWORD, "192.0.2.10", "phone/1.0").await.token();
    app.clock.advance(Duration::from_secs(60));
    let wrong = login_from(&client, "alice", "not the password", "203.0.113.5", "guesser/0.1").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    login_from(&client, "bob", PASSWORD, "192.0.2.20", "bob/1.0").await.token();
    app.clock.advance(Duration::from_secs(60));
    let laptop = login_from(&client, "alice", PASSWORD, "2001:db8::7", "laptop/2.0").await.token();
    app.clock.advance(Duration::from_secs(60));
    let others = client
        .post("/auth/logout/others/")
        .header(header::AUTHORIZATION, auth(&laptop))
        .header(header::USER_AGENT, "laptop/2.0")
        .data(peer("2001:db8::7"))
        .body_json(&json!({ "password": PASSWORD }));
    assert_eq!(send(others).await.json(), json!({ "revoked": 1 }));

    let listed = listed(&client, &laptop).await;

    let expected = ["other_sessions_revoked", "login", "login_failed", "login", "operator_created_user"];
    assert_eq!(kinds(&listed), expected, "{listed:?}");
    let sessions = send(client.get("/auth/sessions/").header(header::AUTHORIZATION, auth(&laptop)).data(peer("::1")));
    let current = sessions.await.json()[0]["id"].clone();
    assert_eq!(
        listed[0],
        json!({
            "time": "2026-11-28T00:03:00.000Z",
            "kind": "other_sessions_revoked",
            "session_id": current,
            "ip": "2001:db8::7",
            "user_agent": "laptop/2.0",
        })
    );
    assert_eq!((&listed[1]["session_id"], &listed[1]["time"]), (&current, &json!("2026-11-28T00:02:00.000Z")));
    assert_eq!(
        listed[2],
        json!({
            "time": "2026-11-28T00:01:00.000Z",
            "kind": "login_failed",
            "session_id": null,
            "ip": "203.0.113.5",
            "user_agent": "guesser/0.1",
        })
    );
    assert_eq!((&listed[3]["ip"], &listed[3]["user_agent"]), (&json!("192.0.2.10"), &json!("phone/1.0")));
    assert_ne!(listed[3]["session_id"], current, "the phone's login names the phone's session");
    assert_eq!(events(&client, &phone).await.status, StatusCode::UNAUTHORIZED, "the phone's session was revoked");
}

#[tokio::test]
async fn events_show_the_latest_100() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let token = app.login("alice", PASSWORD).await;
    for second in 1..=150 {
        let at = authtoken_testkit::fixtures::EPOCH.plus(Duration::from_secs(second));
        let failed = AuditEvent::new(EventKind::WrongPassword, at, Some(alice), None, &ClientInfo::default());
        app.events.record(&failed).await.expect("the store works");
    }

    let listed = listed(&app.client, &token).await;

    assert_eq!(listed.len(), 100);
    assert_eq!(listed[0]["time"], json!("2026-11-28T00:02:30.000Z"), "the newest first");
    assert_eq!(listed[99]["time"], json!("2026-11-28T00:00:51.000Z"));
    assert_eq!((&listed[0]["ip"], &listed[0]["user_agent"]), (&Value::Null, &Value::Null));
}

#[tokio::test]
async fn events_need_a_token() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.get("/auth/events/")).await;

    reply.assert_unauthenticated(NOT_PROVIDED);
}

#[tokio::test]
async fn a_failed_login_of_an_unknown_name_records_neither_a_user_nor_the_name() {
    let Some(app) = TestApp::new().await else { return };
    let client = client(&app, "");
    app.seed_user("alice", PASSWORD).await;
    // A password typed into the username field is the usual unknown name.
    let typed = "Tr0ub4dor&3 typed in the wrong field";

    let reply = login_from(&client, typed, PASSWORD, "198.51.100.1", "browser/1.0").await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let every = app.events.list_events(&EventQuery::default(), 100).await.expect("the store works");
    let failed: Vec<&AuditEvent> =
        every.iter().map(|stored| &stored.event).filter(|event| event.kind == EventKind::LoginFailed).collect();
    assert_eq!(failed.len(), 1, "{every:?}");
    assert_eq!((failed[0].user_id, failed[0].client.ip.as_deref()), (None, Some("198.51.100.1")));
    assert!(!format!("{every:?}").contains("Tr0ub4dor"), "the name typed is kept: {every:?}");
}

#[tokio::test]
async fn the_document_describes_the_events_and_every_kind() {
    let Some(app) = TestApp::new().await else { return };

    let document = send(app.client.get("/openapi.json")).await.json();

    let operation = &document["paths"]["/auth/events"]["get"];
    assert_eq!(operation["security"], json!([{ "TokenAuth": [] }]), "{operation}");
    assert_eq!(
        operation["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"],
        json!("#/components/schemas/Event")
    );
    assert!(operation["responses"]["401"].is_object(), "{operation}");
    let schemas = &document["components"]["schemas"];
    let fields: Vec<&String> = schemas["Event"]["properties"].as_object().expect("the event's fields").keys().collect();
    assert_eq!(fields, ["time", "kind", "session_id", "ip", "user_agent"]);
    for field in ["session_id", "ip", "user_agent"] {
        assert_eq!(schemas["Event"]["properties"][field]["nullable"], json!(true), "{field} may be null");
    }
    let names: Vec<&str> =
        schemas["EventKind"]["enum"].as_array().expect("the kinds").iter().filter_map(Value::as_str).collect();
    let every: Vec<&str> = EventKind::ALL.iter().map(|kind| kind.as_str()).collect();
    assert_eq!(names, every);
}
