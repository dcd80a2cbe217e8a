//! Email confirmation over HTTP: registration asks for an address and queues a link, and
//! `GET /auth/register/confirm/{token}/` confirms it once, redirecting, or answers `invalid token!`.

use std::time::Duration;

use poem::http::StatusCode;
use poem::test::TestForm;

use super::support::{KNOWN_TOKEN, LINK_BASE, LINK_VALIDITY, PASSWORD, Reply, TestApp, TestAppBuilder, send};

const CREATED: &str = r#"{"success":true}"#;
const NOT_FOUND: &str = r#"{"detail":"Not found."}"#;
/// Where a link that worked redirects when no redirect is set: the built-in page.
const CONFIRMED: &str = "/auth/register/confirmed/";

#[tokio::test]
async fn register_requires_a_valid_email_when_confirmation_is_on() {
    let Some(app) = confirming().build().await else { return };
    let with_email =
        |email: &str| serde_json::json!({ "username": "alice", "password": PASSWORD, "email": email }).to_string();
    let too_long = format!("{}@example.org", "a".repeat(243));

    check(
        app.register(r#"{"username":"alice","password":"correct horse"}"#).await,
        r#"{"email":["This field is required."]}"#,
    );
    check(app.register(&with_email("")).await, r#"{"email":["This field may not be blank."]}"#);
    check(app.register(&with_email(" \t ")).await, r#"{"email":["This field may not be blank."]}"#);
    check(app.register(&with_email("alice")).await, r#"{"email":["Enter a valid email address."]}"#);
    check(app.register(&with_email("alice@")).await, r#"{"email":["Enter a valid email address."]}"#);
    check(app.register(&with_email("alice@example")).await, r#"{"email":["Enter a valid email address."]}"#);
    check(app.register(&with_email("a b@example.org")).await, r#"{"email":["Enter a valid email address."]}"#);
    check(
        app.register(&with_email(&too_long)).await,
        r#"{"email":["Ensure this field has no more than 254 characters."]}"#,
    );
    check(
        app.register(r#"{"username":"alice","password":"correct horse","email":null}"#).await,
        r#"{"email":["This field may not be null."]}"#,
    );
    check(
        app.register(r#"{"username":"alice","password":"correct horse","email":7}"#).await,
        r#"{"email":["Not a valid string."]}"#,
    );
    assert_eq!(too_long.chars().count(), 255, "the long address is one character too long");
    assert_eq!(app.pending_mail().await, [], "a rejected registration queues no mail");
}

#[tokio::test]
async fn an_email_of_exactly_254_characters_is_accepted() {
    let Some(app) = confirming().build().await else { return };
    let email = format!("{}@{}.{}.{}.org", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(57));
    let body = serde_json::json!({ "username": "alice", "password": PASSWORD, "email": email });

    let reply = app.register(&body.to_string()).await;

    reply.assert_json(StatusCode::CREATED, CREATED);
    assert_eq!(email.chars().count(), 254);
    assert_eq!(app.pending_mail().await.pop().map(|mail| mail.to), Some(email));
}

#[tokio::test]
async fn field_errors_come_in_the_order_username_password_email() {
    let Some(app) = confirming().build().await else { return };

    let reply = app.register(r#"{"email":"nope","password":"short","username":""}"#).await;

    reply.assert_json(
        StatusCode::BAD_REQUEST,
        r#"{"username":["This field may not be blank."],"password":["password too short"],"email":["Enter a valid email address."]}"#,
    );
}

#[tokio::test]
async fn register_creates_an_unconfirmed_user_and_queues_one_mail_to_the_address() {
    let Some(app) = confirming().require_confirmed_email().build().await else { return };

    let reply = app.register(r#"{"username":"alice","password":"correct horse","email":" alice@example.org "}"#).await;

    reply.assert_json(StatusCode::CREATED, CREATED);
    assert!(!app.email_confirmed("alice").await, "the address waits for its link");
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.pending_mail().await.len(), 1);
    let link = format!("{LINK_BASE}{}", app.confirm_path().await);
    let mail = app.delivered_mail().await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!((mail[0].to.as_str(), mail[0].subject.as_str()), ("alice@example.org", "Confirm your address, alice"));
    assert_eq!(mail[0].body, format!("Hello alice,\n\nopen {link} to confirm your address.\n"));
}

#[tokio::test]
async fn register_takes_the_email_from_form_and_multipart_bodies_too() {
    let Some(app) = confirming().build().await else { return };
    let form = [("username", "alice"), ("password", PASSWORD), ("email", "alice@example.org")];
    let multipart = TestForm::new().text("username", "bob").text("password", PASSWORD).text("email", "bob@example.org");

    let urlencoded = send(app.client.post("/auth/register/").form(&form)).await;
    let multipart = send(app.client.post("/auth/register/").multipart(multipart)).await;

    urlencoded.assert_json(StatusCode::CREATED, CREATED);
    multipart.assert_json(StatusCode::CREATED, CREATED);
    let recipients: Vec<String> = app.pending_mail().await.into_iter().map(|mail| mail.to).collect();
    assert_eq!(recipients, ["alice@example.org", "bob@example.org"]);
}

#[tokio::test]
async fn an_unconfirmed_user_can_log_in_unless_confirmed_email_is_required() {
    let Some(app) = confirming().build().await else { return };

    let reply = app.register(r#"{"username":"alice","password":"correct horse","email":"alice@example.org"}"#).await;

    reply.assert_json(StatusCode::CREATED, CREATED);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn the_mail_is_written_in_the_language_of_accept_language() {
    let Some(app) = confirming().build().await else { return };
    let cases = [
        ("anna", Some("de-AT, en;q=0.5"), "Bestätige deine Adresse, anna"),
        ("bert", Some("fr, de;q=0.8"), "Bestätige deine Adresse, bert"),
        ("carl", Some("fr, en;q=0.5"), "Confirm your address, carl"),
        ("dora", None, "Confirm your address, dora"),
    ];

    for (username, languages, _) in cases {
        let email = format!("{username}@example.org");
        let body = serde_json::json!({ "username": username, "password": PASSWORD, "email": email });
        let mut request = app.client.post("/auth/register/").body_json(&body);
        if let Some(languages) = languages {
            request = request.header("accept-language", languages);
        }
        send(request).await.assert_json(StatusCode::CREATED, CREATED);
    }

    let subjects: Vec<String> = app.delivered_mail().await.into_iter().map(|mail| mail.subject).collect();
    assert_eq!(subjects, cases.map(|(_, _, subject)| subject));
    let german = app.delivered_mail().await.remove(0).body;
    assert!(german.starts_with("Hallo anna,\n\nöffne http://app.example.org/auth/register/confirm/"), "{german:?}");
}

#[tokio::test]
async fn without_confirmation_the_email_field_is_ignored() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };

    let invalid = app.register(r#"{"username":"alice","password":"correct horse","email":"not an address"}"#).await;
    let number = app.register(r#"{"username":"bob","password":"correct horse","email":7}"#).await;

    invalid.assert_json(StatusCode::CREATED, CREATED);
    number.assert_json(StatusCode::CREATED, CREATED);
    let alice = app.users.find_by_username("alice").await.expect("the store works").expect("alice exists");
    assert_eq!(alice.email, None);
    assert_eq!(app.pending_mail().await, []);
}

#[tokio::test]
async fn a_valid_link_confirms_the_address_and_redirects_to_the_built_in_page() {
    let Some(app) = registered(confirming().require_confirmed_email()).await else { return };
    let path = app.confirm_path().await;

    let reply = app.get(&path).await;

    assert_redirect(&reply, CONFIRMED);
    assert!(app.email_confirmed("alice").await);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn a_valid_link_redirects_to_the_configured_target() {
    for target in ["/welcome?confirmed=1", "https://app.example.org/welcome"] {
        let Some(app) = registered(confirming().confirm_redirect(target)).await else { return };
        let path = app.confirm_path().await;

        let reply = app.get(&path).await;

        assert_redirect(&reply, target);
        assert!(app.email_confirmed("alice").await, "{target}");
    }
}

#[tokio::test]
async fn a_used_link_is_invalid() {
    let Some(app) = registered(confirming()).await else { return };
    let path = app.confirm_path().await;

    let first = app.get(&path).await;
    let second = app.get(&path).await;

    assert_redirect(&first, CONFIRMED);
    assert_invalid(&second);
}

#[tokio::test]
async fn malformed_and_unknown_links_are_invalid_and_leave_the_real_link_working() {
    let Some(app) = registered(confirming()).await else { return };
    let path = app.confirm_path().await;
    let token = path.trim_start_matches("/auth/register/confirm/").trim_end_matches('/');

    for bad in [
        "abc",
        KNOWN_TOKEN,
        &token[..63],
        &format!("{token}A"),
        &format!("{token}%3D"),
        &format!("%20{token}"),
        &format!("{token}%20"),
        "%C3%A4".repeat(64).as_str(),
    ] {
        let reply = app.get(&format!("/auth/register/confirm/{bad}/")).await;

        assert_invalid_for(&reply, bad);
    }

    assert_redirect(&app.get(&path).await, CONFIRMED);
}

#[tokio::test]
async fn an_invalid_link_redirects_when_an_invalid_redirect_is_configured() {
    let Some(app) = registered(confirming().confirm_invalid_redirect("/confirm-failed")).await else { return };
    let path = app.confirm_path().await;

    let malformed = app.get("/auth/register/confirm/abc/").await;
    let unknown = app.get(&format!("/auth/register/confirm/{KNOWN_TOKEN}/")).await;
    let first = app.get(&path).await;
    let used = app.get(&path).await;

    assert_redirect(&malformed, "/confirm-failed");
    assert_redirect(&unknown, "/confirm-failed");
    assert_redirect(&first, CONFIRMED);
    assert_redirect(&used, "/confirm-failed");
}

#[tokio::test]
async fn the_link_works_without_the_trailing_slash() {
    let Some(app) = registered(confirming()).await else { return };
    let path = app.confirm_path().await;

    let reply = app.get(path.trim_end_matches('/')).await;

    assert_redirect(&reply, CONFIRMED);
    assert!(app.email_confirmed("alice").await);
}

#[tokio::test]
async fn head_answers_like_get_but_never_consumes_the_link() {
    let Some(app) = registered(confirming()).await else { return };
    let path = app.confirm_path().await;

    let heads = [send(app.client.head(&path)).await, send(app.client.head(&path)).await];
    let unconfirmed_after_heads = !app.email_confirmed("alice").await;
    let get = app.get(&path).await;
    let head_after_use = send(app.client.head(&path)).await;

    for head in &heads {
        assert_eq!((head.status, head.header("location")), (StatusCode::FOUND, Some(CONFIRMED)), "{head:?}");
    }
    assert!(unconfirmed_after_heads, "HEAD confirmed the address");
    assert_redirect(&get, CONFIRMED);
    assert!(app.email_confirmed("alice").await);
    assert_eq!(head_after_use.status, StatusCode::BAD_REQUEST, "{head_after_use:?}");
}

#[tokio::test]
async fn a_link_is_valid_up_to_its_expiry_instant() {
    let Some(app) = registered(confirming()).await else { return };
    let path = app.confirm_path().await;
    app.clock.advance(LINK_VALIDITY);

    let reply = app.get(&path).await;

    assert_redirect(&reply, CONFIRMED);
    assert!(app.email_confirmed("alice").await);
}

#[tokio::test]
async fn a_link_is_invalid_one_millisecond_after_its_expiry() {
    let Some(app) = registered(confirming()).await else { return };
    let path = app.confirm_path().await;
    app.clock.advance(LINK_VALIDITY + Duration::from_millis(1));

    let reply = app.get(&path).await;

    assert_invalid(&reply);
    assert!(!app.email_confirmed("alice").await);
}

#[tokio::test]
async fn with_confirm_via_post_get_shows_a_form_and_only_post_confirms() {
    let Some(app) = registered(confirming().confirm_via_post()).await else { return };
    let path = app.confirm_path().await;

    let page = app.get(&path).await;
    let unconfirmed_after_get = !app.email_confirmed("alice").await;
    let post = send(app.client.post(&path)).await;
    let get_after_post = app.get(&path).await;

    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(page.body.contains(r#"<form method="post">"#), "{}", page.body);
    assert!(unconfirmed_after_get, "GET confirmed the address");
    assert_redirect(&post, CONFIRMED);
    assert!(app.email_confirmed("alice").await);
    assert_invalid(&get_after_post);
}

#[tokio::test]
async fn with_confirm_via_post_an_invalid_link_is_invalid_for_get_and_post() {
    let Some(app) = confirming().confirm_via_post().build().await else { return };
    let path = format!("/auth/register/confirm/{KNOWN_TOKEN}/");

    let get = app.get(&path).await;
    let post = send(app.client.post(&path)).await;

    assert_invalid(&get);
    assert_invalid(&post);
}

#[tokio::test]
async fn other_methods_are_not_allowed_and_leave_the_link_working() {
    let Some(app) = registered(confirming()).await else { return };
    let path = app.confirm_path().await;

    let post = send(app.client.post(&path)).await;
    let put = send(app.client.put(&path)).await;
    let delete = send(app.client.delete(&path)).await;

    post.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"POST\" not allowed."}"#);
    assert_eq!(post.header("allow"), Some("GET, HEAD"), "no POST without confirm_via_post");
    put.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"PUT\" not allowed."}"#);
    delete.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"DELETE\" not allowed."}"#);
    assert!(!app.email_confirmed("alice").await);
    assert_redirect(&app.get(&path).await, CONFIRMED);
}

#[tokio::test]
async fn the_confirm_route_is_not_found_when_confirmation_is_off() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };
    let path = format!("/auth/register/confirm/{KNOWN_TOKEN}/");

    let with_slash = app.get(&path).await;
    let without_slash = app.get(path.trim_end_matches('/')).await;

    with_slash.assert_json(StatusCode::NOT_FOUND, NOT_FOUND);
    without_slash.assert_json(StatusCode::NOT_FOUND, NOT_FOUND);
}

#[tokio::test]
async fn the_confirm_route_is_not_found_when_registration_is_off() {
    let Some(app) = TestApp::builder().confirmation().build().await else { return };

    let confirm = app.get(&format!("/auth/register/confirm/{KNOWN_TOKEN}/")).await;
    let register = app.register(r#"{"username":"alice","password":"correct horse","email":"alice@example.org"}"#).await;

    confirm.assert_json(StatusCode::NOT_FOUND, NOT_FOUND);
    register.assert_json(StatusCode::NOT_FOUND, NOT_FOUND);
}

/// Registration and confirmation on.
fn confirming() -> TestAppBuilder {
    TestApp::builder().registration(true).confirmation()
}

/// The app, with `alice` (`alice@example.org`) registered over HTTP, so her link waits in the outbox.
async fn registered(builder: TestAppBuilder) -> Option<TestApp> {
    let app = builder.build().await?;
    let reply = app.register(r#"{"username":"alice","password":"correct horse","email":"alice@example.org"}"#).await;
    reply.assert_json(StatusCode::CREATED, CREATED);
    Some(app)
}

/// A 400 of field errors with exactly `expected`.
#[track_caller]
fn check(reply: Reply, expected: &str) {
    reply.assert_json(StatusCode::BAD_REQUEST, expected);
}

/// A 302 to `location` with an empty body.
#[track_caller]
fn assert_redirect(reply: &Reply, location: &str) {
    assert_eq!((reply.status, reply.header("location"), reply.body.as_str()), (StatusCode::FOUND, Some(location), ""));
}

/// The 400 of an invalid link: `text/html; charset=utf-8`, body exactly `invalid token!`.
#[track_caller]
fn assert_invalid(reply: &Reply) {
    assert_invalid_for(reply, "the link");
}

#[track_caller]
fn assert_invalid_for(reply: &Reply, what: &str) {
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::BAD_REQUEST, "invalid token!"), "{what}");
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"), "{what}");
}

#[tokio::test]
async fn the_built_in_page_says_the_address_is_confirmed_and_may_do_nothing() {
    let Some(app) = registered(confirming()).await else { return };
    let path = app.confirm_path().await;
    assert_redirect(&app.get(&path).await, CONFIRMED);

    let page = app.get(CONFIRMED).await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your email address is confirmed."), "{page:?}");
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(page.header("content-security-policy").is_some_and(|policy| policy.starts_with("default-src 'none'")));
}
