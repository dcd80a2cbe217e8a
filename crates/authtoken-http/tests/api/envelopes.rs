//! The contract's error envelopes for bodies and routes: 415, malformed JSON, 413, 405 and 404, `/healthz` and `/readyz`.

use poem::Body;
use poem::http::StatusCode;

use super::support::{PASSWORD, TestApp, send};

/// The body limit, 64 KiB.
const LIMIT: usize = 64 * 1024;

#[tokio::test]
async fn another_content_type_is_415_with_the_type_named() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };
    let body = r#"{"username":"alice","password":"correct horse"}"#;

    let login = send(app.client.post("/auth/login/").content_type("text/plain").body(body)).await;
    let register = send(app.client.post("/auth/register/").content_type("text/plain").body(body)).await;
    let xml = send(app.client.post("/auth/login/").content_type("application/xml").body("<a/>")).await;

    login.assert_json(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#,
    );
    register.assert_json(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#,
    );
    xml.assert_json(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        r#"{"detail":"Unsupported media type \"application/xml\" in request."}"#,
    );
}

#[tokio::test]
async fn malformed_json_is_400_with_the_parse_error() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };

    let login = app.post_json("/auth/login/", r#"{"username":"alice","password":"#).await;
    let register = app.post_json("/auth/register/", "{username: alice}").await;

    for reply in [&login, &register] {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(reply.body.starts_with(r#"{"detail":"JSON parse error - "#), "{}", reply.body);
        assert!(reply.body.ends_with(r#""}"#), "{}", reply.body);
    }
    assert_eq!(login.body, r#"{"detail":"JSON parse error - EOF while parsing a value at line 1 column 31"}"#);
}

#[tokio::test]
async fn a_malformed_multipart_body_is_400_json() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };
    let multipart = |content_type: &str| app.client.post("/auth/login/").content_type(content_type).body("garbage");

    let without_boundary = send(multipart("multipart/form-data")).await;
    let garbage = send(multipart("multipart/form-data; boundary=abc")).await;

    for reply in [&without_boundary, &garbage] {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/json"), "{}", reply.body);
        assert!(reply.body.starts_with(r#"{"detail":"Multipart form parse error - "#), "{}", reply.body);
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };
    let alice = app.seed_user("alice", PASSWORD).await;
    let too_large = padded_login(LIMIT + 1);

    let login = app.post_json("/auth/login/", &too_large).await;
    let register = app.post_json("/auth/register/", &too_large).await;
    let form = send(
        app.client.post("/auth/login/").content_type("application/x-www-form-urlencoded").body("a".repeat(LIMIT + 1)),
    )
    .await;

    login.assert_json(StatusCode::PAYLOAD_TOO_LARGE, r#"{"detail":"Request body too large."}"#);
    register.assert_json(StatusCode::PAYLOAD_TOO_LARGE, r#"{"detail":"Request body too large."}"#);
    form.assert_json(StatusCode::PAYLOAD_TOO_LARGE, r#"{"detail":"Request body too large."}"#);
    assert_eq!(app.session_count(alice).await, 0);
}

#[tokio::test]
async fn a_body_of_exactly_64_kib_is_read() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let body = padded_login(LIMIT);

    let reply = app.post_json("/auth/login/", &body).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_body_that_breaks_off_is_400_json() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };
    let broken = || Body::from_async_read(BrokenBody { sent: false });

    let login = send(app.client.post("/auth/login/").content_type("application/json").body(broken())).await;
    let register = send(app.client.post("/auth/register/").content_type("application/json").body(broken())).await;

    login.assert_json(StatusCode::BAD_REQUEST, r#"{"detail":"Malformed request."}"#);
    register.assert_json(StatusCode::BAD_REQUEST, r#"{"detail":"Malformed request."}"#);
}

#[tokio::test]
async fn a_wrong_method_is_405_with_the_method_named() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };

    let get_login = send(app.client.get("/auth/login/")).await;
    let put_login = send(app.client.put("/auth/login")).await;
    let get_register = send(app.client.get("/auth/register/")).await;
    let delete_me = send(app.client.delete("/auth/me/")).await;

    get_login.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"GET\" not allowed."}"#);
    put_login.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"PUT\" not allowed."}"#);
    get_register.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"GET\" not allowed."}"#);
    delete_me.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"DELETE\" not allowed."}"#);
}

#[tokio::test]
async fn an_unknown_path_is_404() {
    let Some(app) = TestApp::new().await else { return };

    let inside_prefix = send(app.client.get("/auth/nothing-here/")).await;
    let outside_prefix = send(app.client.get("/nothing-here")).await;

    inside_prefix.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    outside_prefix.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
}

#[tokio::test]
async fn the_routes_follow_a_configured_prefix() {
    let Some(app) = TestApp::builder().prefix("/api/v1/auth").build().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let body = r#"{"username":"alice","password":"correct horse"}"#;

    let moved = app.post_json("/api/v1/auth/login/", body).await;
    let old = app.post_json("/auth/login/", body).await;

    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    old.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
}

#[tokio::test]
async fn healthz_answers_200() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.get("/healthz")).await;

    reply.assert_json(StatusCode::OK, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn readyz_answers_200_while_the_store_answers() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.get("/readyz")).await;

    reply.assert_json(StatusCode::OK, r#"{"status":"ok"}"#);
}

/// A valid login body padded with spaces to exactly `len` bytes.
fn padded_login(len: usize) -> String {
    let body = r#"{"username":"alice","password":"correct horse"}"#;
    format!("{body}{}", " ".repeat(len - body.len()))
}

/// A request body that breaks off after its first bytes, as when the client goes away.
struct BrokenBody {
    sent: bool,
}

impl tokio::io::AsyncRead for BrokenBody {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.sent {
            let gone = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "the client went away");
            return std::task::Poll::Ready(Err(gone));
        }
        self.sent = true;
        buf.put_slice(br#"{"username":"#);
        std::task::Poll::Ready(Ok(()))
    }
}
