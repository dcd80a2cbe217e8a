//! The headers around the bodies: no cache keeps a token, no answer is sniffed or framed, pages load only what
//! they need, a 405 says what the path allows, and the documents are compressed and can be turned off.

use std::collections::BTreeSet;

use authtoken_http::UserField;
use poem::http::StatusCode;
use serde_json::Value;

use super::support::{KNOWN_TOKEN, PASSWORD, Reply, TestApp, send};

#[tokio::test]
async fn every_answer_forbids_sniffing_and_framing() {
    let Some(app) = TestApp::new().await else { return };

    let answers = [
        send(app.client.get("/healthz")).await,
        send(app.client.get("/auth/me/")).await,
        send(app.client.get("/nothing-here")).await,
        send(app.client.get("/docs")).await,
    ];

    for reply in &answers {
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{}", reply.status);
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{}", reply.status);
        let policy = reply.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("frame-ancestors 'none'"), "{}: {policy}", reply.status);
    }
    assert_eq!(answers[0].header("content-security-policy"), Some("default-src 'none'; frame-ancestors 'none'"));
}

#[tokio::test]
async fn swagger_ui_runs_its_own_inline_code_only_and_is_cached_and_compressed() {
    let Some(app) = TestApp::new().await else { return };

    let plain = send(app.client.get("/docs")).await;
    let gzip = send(app.client.get("/docs").header("Accept-Encoding", "gzip")).await;
    let spec = send(app.client.get("/openapi.json").header("Accept-Encoding", "br")).await;

    let policy = plain.header("content-security-policy").unwrap_or_default();
    assert!(policy.starts_with("default-src 'none'; script-src 'unsafe-inline'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert_eq!(plain.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert!(gzip.body_bytes < plain.body_bytes / 2, "{} bytes gzipped of {}", gzip.body_bytes, plain.body_bytes);
    assert_eq!(spec.header("content-encoding"), Some("br"));
}

#[tokio::test]
async fn the_documents_can_be_turned_off() {
    let Some(app) = TestApp::builder().docs_disabled().build().await else { return };

    let docs = send(app.client.get("/docs")).await;
    let spec = send(app.client.get("/openapi.json")).await;
    let health = send(app.client.get("/healthz")).await;

    docs.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    spec.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn a_405_names_the_methods_the_path_allows() {
    let Some(app) = TestApp::builder().registration(true).confirmation().confirm_via_post().build().await else {
        return;
    };
    let alice = app.seed_user("alice", PASSWORD).await;
    app.seed_session(alice, KNOWN_TOKEN).await;
    let link = format!("/auth/register/confirm/{}/", "A".repeat(64));

    let answers = [
        send(app.client.get("/auth/login/")).await,
        send(app.client.delete("/auth/me")).await,
        send(app.client.put("/auth/register/")).await,
        send(app.client.put(&link)).await,
        send(app.client.post("/healthz")).await,
        send(app.client.get("/auth/logout/").header("Authorization", format!("Token {KNOWN_TOKEN}"))).await,
    ];

    let allowed: Vec<(StatusCode, Option<&str>)> =
        answers.iter().map(|reply| (reply.status, reply.header("allow"))).collect();
    let expected = ["POST", "GET, HEAD", "POST", "GET, HEAD, POST", "GET, HEAD", "DELETE"];
    assert_eq!(allowed, expected.map(|allow| (StatusCode::METHOD_NOT_ALLOWED, Some(allow))));
}

#[tokio::test]
async fn the_scanner_safe_page_is_never_cached_and_may_only_post_its_form() {
    let Some(app) = TestApp::builder().registration(true).confirmation().confirm_via_post().build().await else {
        return;
    };
    let reply = app.register(r#"{"username":"alice","password":"correct horse","email":"alice@example.org"}"#).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let path = app.confirm_path().await;

    let page = app.get(&path).await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(
        page.header("content-security-policy"),
        Some("default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    );
}

impl TestApp {
    /// Sends the built-in reset form at `path` with `new_password`.
    async fn send_form(&self, path: &str, new_password: &str) -> Reply {
        send(self.client.post(path).form(&[("new_password", new_password)])).await
    }
}

/// A page that an HTML route answered: the route as the document names it (`GET /auth/register/confirm/{token}`),
/// whether its address holds a link, and the answer.
struct Page {
    route: String,
    at_a_link: bool,
    reply: Reply,
}

impl Page {
    fn new(method: &str, template: &str, reply: Reply) -> Self {
        Self { route: format!("{method} {template}"), at_a_link: template.contains("{token}"), reply }
    }
}

#[tokio::test]
async fn every_html_page_has_the_security_headers_and_no_cache_keeps_a_page_at_a_link() {
    let Some(reset) = TestApp::with_alice(true).await else { return };
    let Some(confirming) = TestApp::builder().registration(true).confirmation().build().await else { return };
    let Some(scanner_safe) = TestApp::builder().registration(true).confirmation().confirm_via_post().build().await
    else {
        return;
    };
    let reset_form = format!("/auth/password/reset/confirm/{}/", reset.reset_token().await);
    let used_form = "/auth/password/reset/confirm/AAAA/";
    let confirm = "/auth/register/confirm/{token}";
    let unknown_link = format!("/auth/register/confirm/{}/", "A".repeat(64));
    let alice = r#"{"username":"alice","password":"correct horse","email":"alice@example.org"}"#;
    assert_eq!(scanner_safe.register(alice).await.status, StatusCode::CREATED);
    let link = scanner_safe.confirm_path().await;

    let pages = [
        Page::new("GET", "/docs", send(reset.client.get("/docs")).await),
        Page::new("GET", "/auth/password/reset/confirm/{token}", reset.get(&reset_form).await),
        Page::new("GET", "/auth/password/reset/confirm/{token}", reset.get(used_form).await),
        Page::new("POST", "/auth/password/reset/confirm/{token}", reset.send_form(&reset_form, "short").await),
        Page::new("POST", "/auth/password/reset/confirm/{token}", reset.send_form(&reset_form, "a new horse").await),
        Page::new("GET", confirm, confirming.get(&unknown_link).await),
        Page::new("HEAD", confirm, send(confirming.client.head(&unknown_link)).await),
        Page::new("GET", confirm, scanner_safe.get(&link).await),
        Page::new("HEAD", confirm, send(scanner_safe.client.head(&link)).await),
        Page::new("GET", confirm, scanner_safe.get(&unknown_link).await),
        Page::new("POST", confirm, send(scanner_safe.client.post(&unknown_link)).await),
        Page::new("GET", "/auth/register/confirmed", confirming.get("/auth/register/confirmed/").await),
    ];

    for Page { route, at_a_link, reply } in &pages {
        let what = format!("{route} ({})", reply.status);
        assert!(reply.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{what} is not a page");
        let policy = reply.header("content-security-policy").unwrap_or_default();
        assert!(policy.starts_with("default-src 'none'"), "{what}: {policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{what}: {policy}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{what}");
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"), "{what}");
        if *at_a_link {
            assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}");
        }
    }
    let statuses: BTreeSet<u16> = pages.iter().map(|page| page.reply.status.as_u16()).collect();
    assert_eq!(statuses, BTreeSet::from([200, 400]), "both the pages and the refusals");
    let visited: BTreeSet<&str> = pages.iter().map(|page| page.route.as_str()).collect();
    for app in [&reset, &confirming, &scanner_safe] {
        for route in html_routes(&send(app.client.get("/openapi.json")).await.json()) {
            assert!(visited.contains(route.as_str()), "the HTML route {route} is not walked here");
        }
    }
}

#[tokio::test]
async fn every_answer_that_carries_a_token_is_never_cached() {
    let Some(app) = TestApp::builder().user_fields(&[UserField::Id, UserField::Username]).build().await else {
        return;
    };
    app.seed_user("alice", PASSWORD).await;
    let document = send(app.client.get("/openapi.json")).await.json();

    let json = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;
    let form = send(app.client.post("/auth/login/").form(&[("username", "alice"), ("password", PASSWORD)])).await;

    for login in [&json, &form] {
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        assert!(!login.token().is_empty());
        assert_eq!(login.header("cache-control"), Some("no-store"));
    }
    let carrying = routes_answering_a_token(&document);
    assert_eq!(carrying, ["POST /auth/login 200"], "answers with a token, each to be tested above");
    let headers = &document["paths"]["/auth/login"]["post"]["responses"]["200"]["headers"];
    assert!(headers.get("CACHE-CONTROL").is_some(), "the document shows the login's Cache-Control: {headers}");
}

/// Every `METHOD path` of the document with an answer in `text/html`.
fn html_routes(document: &Value) -> BTreeSet<String> {
    let mut routes = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().expect("the document has paths") {
        for (method, operation) in operations.as_object().expect("a path has operations") {
            let answers = operation["responses"].as_object().expect("an operation has responses");
            let html = answers.values().any(|answer| {
                answer["content"].as_object().is_some_and(|types| types.keys().any(|t| t.starts_with("text/html")))
            });
            if html {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

/// Every `METHOD path status` of the document whose answer's schema has a `token` property.
fn routes_answering_a_token(document: &Value) -> Vec<String> {
    let schemas = &document["components"]["schemas"];
    let mut routes = Vec::new();
    for (path, operations) in document["paths"].as_object().expect("the document has paths") {
        for (method, operation) in operations.as_object().expect("a path has operations") {
            for (status, answer) in operation["responses"].as_object().expect("an operation has responses") {
                let Some(types) = answer["content"].as_object() else { continue };
                let carries = types.values().any(|content| {
                    let reference = content["schema"]["$ref"].as_str().unwrap_or_default();
                    let name = reference.trim_start_matches("#/components/schemas/");
                    schemas[name]["properties"].get("token").is_some()
                });
                if carries {
                    routes.push(format!("{} {path} {status}", method.to_uppercase()));
                }
            }
        }
    }
    routes
}
