//! `cors_allowed_origins`: the preflights of a listed origin are answered and its pages may read the answers; any
//! other origin is served as without CORS, never refused; and without the setting nothing changes.

use poem::http::StatusCode;

use super::support::{KNOWN_TOKEN, PASSWORD, Reply, TestApp, send};

const APP: &str = "https://app.example.org";
const OTHER: &str = "https://evil.example";

/// The app with [`APP`] and a local front end allowed.
async fn cors_app() -> Option<TestApp> {
    TestApp::builder().cors_allowed_origins(&format!("{APP}, http://localhost:3000")).build().await
}

/// `OPTIONS path` as a browser's preflight from `origin` for `method` with `headers`.
async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str, headers: &str) -> Reply {
    let request = app
        .client
        .options(path)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers);
    send(request).await
}

/// The comma-separated values of a header, across all its lines, in lower case.
fn values(reply: &Reply, name: &str) -> Vec<String> {
    reply
        .headers
        .get_all(name)
        .iter()
        .flat_map(|value| value.to_str().expect("an ASCII header value").split(','))
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty())
        .collect()
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_gets_the_cors_headers() {
    let Some(app) = cors_app().await else { return };

    let login = preflight(&app, "/auth/login/", APP, "POST", "content-type").await;
    let me = preflight(&app, "/auth/me/", "http://localhost:3000", "GET", "authorization").await;

    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.header("access-control-allow-origin"), Some(APP));
    let mut methods = values(&login, "access-control-allow-methods");
    methods.sort();
    assert_eq!(methods, ["delete", "get", "head", "post"]);
    let mut headers = values(&login, "access-control-allow-headers");
    headers.sort();
    assert_eq!(headers, ["authorization", "content-type"]);
    assert_eq!(login.header("access-control-allow-credentials"), None, "no cookies, so no credentials");
    assert!(values(&login, "vary").contains(&"origin".to_owned()), "{:?}", login.headers);
    assert_eq!(login.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.header("access-control-allow-origin"), Some("http://localhost:3000"));
}

#[tokio::test]
async fn a_preflight_from_another_origin_gets_no_cors_headers() {
    let Some(app) = cors_app().await else { return };

    let reply = preflight(&app, "/auth/login/", OTHER, "POST", "content-type").await;
    let lookalike = preflight(&app, "/auth/login/", "https://app.example.org.evil.example", "POST", "").await;

    reply.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"OPTIONS\" not allowed."}"#);
    assert_eq!(reply.header("allow"), Some("POST"));
    for reply in [&reply, &lookalike] {
        assert_eq!(reply.header("access-control-allow-origin"), None);
        assert_eq!(reply.header("access-control-allow-methods"), None);
        assert!(values(reply, "vary").contains(&"origin".to_owned()), "{:?}", reply.headers);
    }
}

#[tokio::test]
async fn a_preflight_for_a_method_or_header_the_api_does_not_take_is_refused() {
    let Some(app) = cors_app().await else { return };

    let put = preflight(&app, "/auth/me/", APP, "PUT", "authorization").await;
    let custom = preflight(&app, "/auth/me/", APP, "GET", "x-custom").await;

    for reply in [&put, &custom] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert_eq!(reply.header("access-control-allow-origin"), None);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
}

#[tokio::test]
async fn a_page_of_an_allowed_origin_reads_every_answer_in_its_usual_shape() {
    let Some(app) = cors_app().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    app.seed_session(alice, KNOWN_TOKEN).await;

    let me =
        send(app.client.get("/auth/me/").header("Origin", APP).header("Authorization", format!("Token {KNOWN_TOKEN}")))
            .await;
    let refused = send(app.client.get("/auth/me/").header("Origin", APP)).await;
    let wrong_method = send(app.client.get("/auth/login/").header("Origin", APP)).await;
    let missing = send(app.client.get("/nothing-here").header("Origin", APP)).await;
    let plain_options = send(app.client.options("/auth/login/").header("Origin", APP)).await;

    me.assert_json(StatusCode::OK, r#"{"id":1,"username":"alice"}"#);
    refused.assert_unauthenticated("Authentication credentials were not provided.");
    wrong_method.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"GET\" not allowed."}"#);
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    missing.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    plain_options.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"OPTIONS\" not allowed."}"#);
    for reply in [&me, &refused, &wrong_method, &missing] {
        assert_eq!(reply.header("access-control-allow-origin"), Some(APP), "{}", reply.status);
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{}", reply.status);
    }
    let mut exposed = values(&refused, "access-control-expose-headers");
    exposed.sort();
    assert_eq!(exposed, ["retry-after", "www-authenticate"]);
}

#[tokio::test]
async fn another_origin_is_served_without_cors_headers_and_never_refused() {
    let Some(app) = cors_app().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let login = send(
        app.client
            .post("/auth/login/")
            .header("Origin", OTHER)
            .content_type("application/x-www-form-urlencoded")
            .body("username=alice&password=correct+horse"),
    )
    .await;

    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.header("access-control-allow-origin"), None);
    assert_eq!(login.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn without_allowed_origins_no_answer_has_cors_headers() {
    let Some(app) = TestApp::new().await else { return };

    let preflight = preflight(&app, "/auth/login/", APP, "POST", "content-type").await;
    let health = send(app.client.get("/healthz").header("Origin", APP)).await;

    preflight.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"OPTIONS\" not allowed."}"#);
    assert_eq!(health.status, StatusCode::OK);
    for reply in [&preflight, &health] {
        let cors: Vec<&str> =
            reply.headers.keys().map(|name| name.as_str()).filter(|name| name.starts_with("access-control-")).collect();
        assert!(cors.is_empty(), "{cors:?}");
        assert!(!values(reply, "vary").contains(&"origin".to_owned()), "{:?}", reply.headers);
    }
}
