//! Password reset: `POST /auth/password/reset/`, `POST /auth/password/reset/confirm/` and the built-in form at
//! `/auth/password/reset/confirm/{token}/`.

use std::time::Duration;

use authtoken_core::config::ResetSettings;
use authtoken_core::outbox::MailKind;
use authtoken_core::template::{MailTemplate, MailTemplates, Template};
use poem::http::StatusCode;

use super::support::{INVALID_TOKEN, PASSWORD, Reply, TestApp, send};

const NEW: &str = "a new horse";
const INVALID_LINK: &str = r#"{"token":["Invalid or expired link."]}"#;
const FRONT_END: &str = "https://app.example.org/reset#";

fn template(subject: &str, message: &str) -> MailTemplate {
    let parse = |text: &str| Template::parse(text).expect("the test's templates are valid");
    MailTemplate { subject: parse(subject), message: parse(message) }
}

/// The reset settings of a `TestApp`: links to the built-in form under `prefix`, or to a front end of the test's own.
pub(super) fn settings(prefix: &str, form: bool) -> ResetSettings {
    let url = if form {
        format!("http://app.example.org{prefix}/password/reset/confirm/{{token}}/")
    } else {
        format!("{FRONT_END}{{token}}")
    };
    ResetSettings {
        token_validity: Duration::from_secs(3600),
        url,
        templates: MailTemplates::new(template("Reset, {username}", "Open {url}"), vec![]),
    }
}

/// The notice of a `TestApp`.
pub(super) fn notice_template() -> MailTemplate {
    template("Changed, {username}", "Your password was changed.")
}

impl TestApp {
    pub(super) async fn with_alice(form: bool) -> Option<TestApp> {
        let app = TestApp::builder().password_reset(form).build().await?;
        let mut alice = authtoken_testkit::fixtures::new_user("alice", PASSWORD);
        alice.email = Some("alice@example.org".to_owned());
        let created = authtoken_testkit::fixtures::event(authtoken_core::event::EventKind::OperatorCreatedUser);
        app.users.create(&alice, &created).await.expect("alice is created");
        Some(app)
    }

    async fn request_reset(&self, body: &str) -> Reply {
        self.post_json("/auth/password/reset/", body).await
    }

    /// Requests a reset for alice and delivers it; returns the token of the newest mail's link.
    pub(super) async fn reset_token(&self) -> String {
        self.request_reset(r#"{"email":"alice@example.org"}"#)
            .await
            .assert_json(StatusCode::ACCEPTED, r#"{"success":true}"#);
        let mail = self.delivered_mail().await.pop().expect("the reset mail is delivered");
        let (_, link) = mail.body.split_once("Open ").expect("the mail holds the link");
        link.trim_start_matches(FRONT_END)
            .trim_start_matches("http://app.example.org/auth/password/reset/confirm/")
            .trim_end_matches('/')
            .to_owned()
    }

    async fn confirm_reset(&self, token: &str, new_password: &str) -> Reply {
        let body = serde_json::json!({ "token": token, "new_password": new_password });
        send(self.client.post("/auth/password/reset/confirm/").body_json(&body)).await
    }
}

#[tokio::test]
async fn a_reset_sets_the_password_once_and_revokes_every_session() {
    let Some(app) = TestApp::with_alice(false).await else { return };
    let session = app.login("alice", PASSWORD).await;
    let token = app.reset_token().await;
    assert_eq!(token.len(), 64, "{token}");

    app.confirm_reset(&token, NEW).await.assert_json(StatusCode::OK, r#"{"success":true}"#);

    app.me_with(&format!("Token {session}")).await.assert_unauthenticated(INVALID_TOKEN);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_status("alice", NEW).await, StatusCode::OK);
    app.confirm_reset(&token, "yet another one").await.assert_json(StatusCode::BAD_REQUEST, INVALID_LINK);
    let notice = app.pending_mail().await;
    assert_eq!(notice.iter().map(|m| m.kind).collect::<Vec<_>>(), [MailKind::PasswordChanged]);
}

#[tokio::test]
async fn a_known_and_an_unknown_address_are_answered_alike() {
    let Some(app) = TestApp::with_alice(false).await else { return };

    let known = app.request_reset(r#"{"email":"alice@example.org"}"#).await;
    let unknown = app.request_reset(r#"{"email":"nobody@example.org"}"#).await;

    assert_eq!(
        (known.status, &known.body, known.header("content-type")),
        (unknown.status, &unknown.body, unknown.header("content-type"))
    );
    known.assert_json(StatusCode::ACCEPTED, r#"{"success":true}"#);
    let queued: Vec<_> = app.pending_mail().await.into_iter().map(|m| (m.kind, m.to)).collect();
    assert_eq!(
        queued,
        [
            (MailKind::PasswordReset, "alice@example.org".to_owned()),
            (MailKind::PasswordReset, "nobody@example.org".to_owned())
        ],
        "both requests do the same work: one outbox entry each"
    );
}

#[tokio::test]
async fn a_bad_address_or_new_password_is_a_field_error() {
    let Some(app) = TestApp::with_alice(false).await else { return };
    let token = app.reset_token().await;

    app.request_reset(r#"{"email":"nope"}"#)
        .await
        .assert_json(StatusCode::BAD_REQUEST, r#"{"email":["Enter a valid email address."]}"#);
    app.request_reset("{}").await.assert_json(StatusCode::BAD_REQUEST, r#"{"email":["This field is required."]}"#);
    app.confirm_reset(&token, "short")
        .await
        .assert_json(StatusCode::BAD_REQUEST, r#"{"new_password":["password too short"]}"#);
    app.confirm_reset(&"A".repeat(64), NEW).await.assert_json(StatusCode::BAD_REQUEST, INVALID_LINK);
    app.confirm_reset("short", NEW).await.assert_json(StatusCode::BAD_REQUEST, INVALID_LINK);
    app.confirm_reset(&token, NEW).await.assert_json(StatusCode::OK, r#"{"success":true}"#);
}

#[tokio::test]
async fn the_built_in_form_shows_never_uses_the_link_and_sets_the_password() {
    let Some(app) = TestApp::with_alice(true).await else { return };
    let token = app.reset_token().await;
    let path = format!("/auth/password/reset/confirm/{token}/");

    let form = app.get(&path).await;
    let again = app.get(&path).await;
    let short = send(app.client.post(&path).form(&[("new_password", "short")])).await;
    let done = send(app.client.post(&path).form(&[("new_password", NEW)])).await;
    let used = app.get(&path).await;

    for page in [&form, &again] {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(r#"<input type="password" name="new_password""#), "{}", page.body);
        assert_eq!(page.header("cache-control"), Some("no-store"));
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        assert!(page.header("content-security-policy").is_some_and(|p| p.contains("default-src 'none'")));
        assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    }
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.body.contains("password too short") && short.body.contains("<form"), "{}", short.body);
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Password set"), "{}", done.body);
    assert_eq!(used.status, StatusCode::BAD_REQUEST);
    assert!(used.body.contains("Invalid or expired link"), "{}", used.body);
    assert_eq!(app.login_status("alice", NEW).await, StatusCode::OK);
}

#[tokio::test]
async fn the_form_is_not_served_when_links_go_to_a_front_end() {
    let Some(app) = TestApp::with_alice(false).await else { return };
    let token = app.reset_token().await;

    let reply = app.get(&format!("/auth/password/reset/confirm/{token}/")).await;

    reply.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
}

#[tokio::test]
async fn the_reset_routes_do_not_exist_when_reset_is_off() {
    let Some(app) = TestApp::new().await else { return };

    app.request_reset(r#"{"email":"alice@example.org"}"#)
        .await
        .assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    let confirm = app.post_json("/auth/password/reset/confirm/", "{}").await;
    confirm.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    assert_eq!(app.get("/auth/password/reset/confirm/x/").await.status, StatusCode::NOT_FOUND);
}
