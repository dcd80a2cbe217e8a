//! The headers around the bodies: no cache keeps a token, no answer is sniffed or framed, pages load only what
//! they need, a 405 says what the path allows, and the documents are compressed and can be turned off.

use poem::http::StatusCode;

use super::support::{KNOWN_TOKEN, PASSWORD, TestApp, send};

#[tokio::test]
async fn the_answer_that_carries_a_token_is_never_cached() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let login = app.post_json("/auth/login/", r#"{"username":"alice","password":"correct horse"}"#).await;

    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.header("cache-control"), Some("no-store"));
}

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
