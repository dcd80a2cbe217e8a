//! When PostgreSQL goes away the service answers 503, and it recovers by itself when the database is back.
//!
//! The tests put a TCP relay between the service and PostgreSQL, and cut and restore it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use authtoken_sql::Backend;
use authtoken_sql::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::support::{CHEAP_ARGON2, Server, database};

/// Relays TCP to `target` while up; going down drops every relayed connection and refuses new ones.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(Notify::new());
        let (relay_up, relay_cut) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if !relay_up.load(Ordering::SeqCst) {
                    continue;
                }
                let (target, cut) = (target.clone(), relay_cut.clone());
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A server whose PostgreSQL connections go through a [`Relay`], with a user `dora` logged in.
struct BehindRelay {
    relay: Relay,
    server: Server,
    client: reqwest::Client,
    credentials: serde_json::Value,
    authorization: String,
    _database: TestDatabase,
}

impl BehindRelay {
    async fn start() -> Option<Self> {
        let database = database(Backend::Postgres).await?;
        let mut url = reqwest::Url::parse(&database.options.url).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let relay = Relay::start(target).await;
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(relay.port)).unwrap();
        let settings = [CHEAP_ARGON2[0], CHEAP_ARGON2[1], ("AUTHTOKEN_DATABASE_CONNECT_TIMEOUT", "1s")];
        let server = Server::start(url.as_str(), &settings);
        let client = reqwest::Client::new();
        let credentials = json!({ "username": "dora", "password": "correct horse" });
        let registered = client.post(server.url("/auth/register/")).json(&credentials).send().await.unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        let logged_in: serde_json::Value =
            client.post(server.url("/auth/login/")).json(&credentials).send().await.unwrap().json().await.unwrap();
        let authorization = format!("Token {}", logged_in["token"].as_str().unwrap());
        Some(Self { relay, server, client, credentials, authorization, _database: database })
    }

    async fn login(&self) -> reqwest::Response {
        self.client.post(self.server.url("/auth/login/")).json(&self.credentials).send().await.unwrap()
    }

    async fn me(&self) -> reqwest::Response {
        let request = self.client.get(self.server.url("/auth/me/")).header("Authorization", &self.authorization);
        request.send().await.unwrap()
    }
}

/// Multi-threaded: the relay must keep running while the test waits for the server to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn a_vanished_database_answers_503_and_the_service_recovers_when_it_returns() {
    let Some(setup) = BehindRelay::start().await else {
        return;
    };

    setup.relay.down();
    let while_down = setup.login().await;
    let status_down = while_down.status();
    let body_down: serde_json::Value = while_down.json().await.unwrap();
    // Token authentication goes through the coalesced lookups, which fail the same way.
    let me_down = setup.me().await;
    let me_status_down = me_down.status();
    let me_body_down: serde_json::Value = me_down.json().await.unwrap();
    setup.relay.up();
    let after = setup.login().await;
    let me_after = setup.me().await;

    assert_eq!(status_down, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body_down["detail"].is_string(), "{body_down}");
    assert_eq!(me_status_down, StatusCode::SERVICE_UNAVAILABLE);
    assert!(me_body_down["detail"].is_string(), "{me_body_down}");
    assert_eq!(after.status(), StatusCode::OK);
    assert_eq!(me_after.status(), StatusCode::OK);
    assert!(setup.server.log().contains("store failure"), "the cause is logged");
}

/// The session lookups' connections are not pinged before use: one that broke while idle must cost no request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn connections_broken_while_idle_cost_no_request_once_the_database_is_back() {
    let Some(setup) = BehindRelay::start().await else {
        return;
    };
    let before = setup.me().await.status();

    // Every connection breaks, with no request meanwhile; the pool still holds them as idle.
    setup.relay.down();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    setup.relay.up();
    let after = setup.me().await;

    assert_eq!(before, StatusCode::OK);
    assert_eq!(after.status(), StatusCode::OK, "{}", setup.server.log());
}
