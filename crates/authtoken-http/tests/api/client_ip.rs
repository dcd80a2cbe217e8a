//! The client IP address a session records at login: the connection's peer, or behind a trusted proxy the address
//! it forwarded in `X-Forwarded-For` or `Forwarded` (contract, section 7).
//!
//! `TestClient` has no socket, so each request here carries the peer it comes from as request data, and a wrapper
//! around the app makes that the request's remote address, as the server's listener would.

use std::net::SocketAddr;

use authtoken_core::user::UserId;
use authtoken_http::{HttpConfig, TrustedProxies};
use poem::http::uri::Scheme;
use poem::test::TestClient;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt as _, Request, RequestParts};

use super::support::{App, PASSWORD, TestApp, send};

#[tokio::test]
async fn without_trusted_proxies_the_session_records_the_peer_and_ignores_forwarding_headers() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let client = client(&app, "");

    login(&client, "203.0.113.1:40000", &[("x-forwarded-for", "198.51.100.7")]).await;
    login(&client, "10.0.0.2:40000", &[("forwarded", "for=198.51.100.7")]).await;

    assert_eq!(recorded_ips(&app, alice).await, ["10.0.0.2", "203.0.113.1"]);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_session_records_the_nearest_untrusted_forwarded_address() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let client = client(&app, "10.0.0.0/8, ::1");

    login(&client, "10.0.0.2:40000", &[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 10.0.0.1")]).await;
    login(&client, "[::1]:40000", &[("forwarded", r#"for="[2001:db8::7]:4711";proto=https"#)]).await;

    assert_eq!(recorded_ips(&app, alice).await, ["198.51.100.7", "2001:db8::7"]);
}

#[tokio::test]
async fn an_untrusted_peer_sending_x_forwarded_for_records_its_own_address() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let client = client(&app, "10.0.0.0/8");

    login(&client, "203.0.113.1:40000", &[("x-forwarded-for", "10.0.0.1")]).await;

    assert_eq!(recorded_ips(&app, alice).await, ["203.0.113.1"]);
}

#[tokio::test]
async fn a_malformed_header_from_a_trusted_proxy_records_the_proxy() {
    let Some(app) = TestApp::new().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let client = client(&app, "10.0.0.0/8");

    login(&client, "[::ffff:10.0.0.2]:40000", &[("x-forwarded-for", "198.51.100.7, somewhere")]).await;

    assert_eq!(recorded_ips(&app, alice).await, ["10.0.0.2"]);
}

/// The address a request comes from, as a socket's peer would be.
#[derive(Clone, Copy)]
pub(super) struct Peer(pub(super) SocketAddr);

/// The whole service over `app`'s service, trusting the proxies in `trusted`, where each request comes from the
/// [`Peer`] it carries.
pub(super) fn client(app: &TestApp, trusted: &str) -> TestClient<App> {
    let config = HttpConfig {
        prefix: "/auth".to_owned(),
        registration_enabled: false,
        user_fields: None,
        confirm_redirect: None,
        confirm_invalid_redirect: None,
        confirm_via_post: false,
        docs_enabled: true,
        password_reset_form: false,
        trusted_proxies: TrustedProxies::parse(trusted).expect("valid trusted proxies"),
        cors_allowed_origins: authtoken_http::AllowedOrigins::none(),
    };
    let endpoint = authtoken_http::app(app.service.clone(), config).map_to_response().around(
        |endpoint, request: Request| async move {
            let peer = request.data::<Peer>().expect("every request names its peer").0;
            endpoint.call(from_peer(request, peer)).await
        },
    );
    TestClient::new(endpoint.boxed())
}

/// `request` as if it had arrived on a connection from `peer`.
fn from_peer(request: Request, peer: SocketAddr) -> Request {
    let (parts, body) = request.into_parts();
    let (mut head, ()) = poem::http::Request::new(()).into_parts();
    head.method = parts.method;
    head.uri = parts.uri;
    head.version = parts.version;
    head.headers = parts.headers;
    head.extensions = parts.extensions;
    let parts = RequestParts::from((head, LocalAddr::default(), RemoteAddr(Addr::SocketAddr(peer)), Scheme::HTTP));
    Request::from_parts(parts, body)
}

/// Logs alice in from `peer` with the given headers; the test fails unless the login succeeds.
async fn login(client: &TestClient<App>, peer: &str, headers: &[(&'static str, &str)]) {
    let body = serde_json::json!({ "username": "alice", "password": PASSWORD });
    let mut request = client.post("/auth/login/").data(Peer(peer.parse().expect("a valid peer"))).body_json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }

    let reply = send(request).await;

    assert_eq!(reply.status, poem::http::StatusCode::OK, "login failed: {}", reply.body);
}

/// The IP addresses the user's sessions recorded, sorted.
async fn recorded_ips(app: &TestApp, user: UserId) -> Vec<String> {
    let sessions = app.tokens.sessions_of(user).await.expect("the store works");
    let mut ips: Vec<String> =
        sessions.into_iter().map(|session| session.client.ip.expect("the session recorded an address")).collect();
    ips.sort();
    ips
}
