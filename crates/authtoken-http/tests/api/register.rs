//! `POST /auth/register/`: 404 when disabled, `{"success":true}` when it works, and upstream's field errors.

use poem::http::StatusCode;
use poem::test::TestForm;

use super::support::{PASSWORD, Reply, TestApp, send};

const CREATED: &str = r#"{"success":true}"#;
const DUPLICATE: &str = r#"{"username":["A user with that username already exists."]}"#;
const CHARACTER_SET: &str = r#"{"username":["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}"#;

#[tokio::test]
async fn register_is_not_found_when_registration_is_disabled() {
    let Some(app) = TestApp::new().await else { return };
    let body = r#"{"username":"alice","password":"correct horse"}"#;

    let with_slash = app.register(body).await;
    let without_slash = app.post_json("/auth/register", body).await;

    with_slash.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    without_slash.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn register_creates_an_active_user_who_can_log_in() {
    let Some(app) = registration().await else { return };

    let reply = app.register(r#"{"username":"alice","password":"correct horse"}"#).await;

    reply.assert_json(StatusCode::CREATED, CREATED);
    let alice = app.user_id("alice").await;
    assert_eq!(app.session_count(alice).await, 0, "registering does not log in");
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn register_works_without_the_trailing_slash() {
    let Some(app) = registration().await else { return };

    let reply = app.post_json("/auth/register", r#"{"username":"alice","password":"correct horse"}"#).await;

    reply.assert_json(StatusCode::CREATED, CREATED);
}

#[tokio::test]
async fn register_accepts_form_and_multipart_bodies() {
    let Some(app) = registration().await else { return };
    let form = TestForm::new().text("username", "bob").text("password", PASSWORD);

    let urlencoded =
        send(app.client.post("/auth/register/").form(&[("username", "alice"), ("password", PASSWORD)])).await;
    let multipart = send(app.client.post("/auth/register/").multipart(form)).await;

    urlencoded.assert_json(StatusCode::CREATED, CREATED);
    multipart.assert_json(StatusCode::CREATED, CREATED);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::OK);
    assert_eq!(app.login_status("bob", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn register_ignores_the_authorization_header() {
    let Some(app) = registration().await else { return };
    let body = r#"{"username":"alice","password":"correct horse"}"#;

    let reply = send(
        app.client
            .post("/auth/register/")
            .header("authorization", "Token not-a-token")
            .content_type("application/json")
            .body(body),
    )
    .await;

    reply.assert_json(StatusCode::CREATED, CREATED);
}

#[tokio::test]
async fn the_username_is_trimmed_and_the_password_kept_as_typed() {
    let Some(app) = registration().await else { return };

    let reply = app.register(r#"{"username":"  alice\t","password":" correct horse "}"#).await;

    reply.assert_json(StatusCode::CREATED, CREATED);
    assert_eq!(app.login_status("alice", " correct horse ").await, StatusCode::OK);
    assert_eq!(app.login_status("alice", "correct horse").await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn each_username_rule_answers_upstreams_message() {
    let Some(app) = registration().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let username = |name: &str| serde_json::json!({ "username": name, "password": PASSWORD }).to_string();

    check(app.register(r#"{"password":"correct horse"}"#).await, r#"{"username":["This field is required."]}"#);
    check(app.register(&username("")).await, r#"{"username":["This field may not be blank."]}"#);
    check(app.register(&username("  \t ")).await, r#"{"username":["This field may not be blank."]}"#);
    check(
        app.register(&username(&"a".repeat(151))).await,
        r#"{"username":["Ensure this field has no more than 150 characters."]}"#,
    );
    check(app.register(&username("john doe")).await, CHARACTER_SET);
    check(app.register(&username("john!")).await, CHARACTER_SET);
    check(app.register(&username("alice")).await, DUPLICATE);
    check(app.register(&username(" alice ")).await, DUPLICATE);
    check(
        app.register(r#"{"username":null,"password":"correct horse"}"#).await,
        r#"{"username":["This field may not be null."]}"#,
    );
    check(
        app.register(r#"{"username":7,"password":"correct horse"}"#).await,
        r#"{"username":["Not a valid string."]}"#,
    );
}

#[tokio::test]
async fn a_username_of_exactly_150_characters_is_accepted() {
    let Some(app) = registration().await else { return };
    let body = serde_json::json!({ "username": "ä".repeat(150), "password": PASSWORD }).to_string();

    let reply = app.register(&body).await;

    reply.assert_json(StatusCode::CREATED, CREATED);
}

#[tokio::test]
async fn a_case_variant_already_exists_when_usernames_are_case_insensitive() {
    let Some(app) = TestApp::builder().registration(true).case_insensitive().build().await else { return };
    app.seed_user("Alice", PASSWORD).await;

    let lower = app.register(r#"{"username":"alice","password":"correct horse"}"#).await;
    let upper = app.register(r#"{"username":"ALICE","password":"correct horse"}"#).await;
    let exact = app.register(r#"{"username":"Alice","password":"correct horse"}"#).await;

    lower.assert_json(StatusCode::BAD_REQUEST, r#"{"username":["already exists"]}"#);
    upper.assert_json(StatusCode::BAD_REQUEST, r#"{"username":["already exists"]}"#);
    exact.assert_json(StatusCode::BAD_REQUEST, DUPLICATE);
}

#[tokio::test]
async fn a_case_variant_is_a_new_user_when_usernames_are_case_sensitive() {
    let Some(app) = registration().await else { return };
    app.seed_user("Alice", PASSWORD).await;

    let reply = app.register(r#"{"username":"alice","password":"correct horse"}"#).await;

    reply.assert_json(StatusCode::CREATED, CREATED);
}

#[tokio::test]
async fn each_password_rule_answers_upstreams_message() {
    let Some(app) = registration().await else { return };
    let password = |password: &str| serde_json::json!({ "username": "alice", "password": password }).to_string();

    check(app.register(r#"{"username":"alice"}"#).await, r#"{"password":["This field is required."]}"#);
    check(app.register(&password("")).await, r#"{"password":["This field may not be blank."]}"#);
    check(app.register(&password("1234567")).await, r#"{"password":["password too short"]}"#);
    check(app.register(&password("       ")).await, r#"{"password":["password too short"]}"#);
    check(
        app.register(&password(&"p".repeat(129))).await,
        r#"{"password":["Ensure this field has no more than 128 characters."]}"#,
    );
    check(
        app.register(r#"{"username":"alice","password":null}"#).await,
        r#"{"password":["This field may not be null."]}"#,
    );
    check(app.register(r#"{"username":"alice","password":12345678}"#).await, r#"{"password":["Not a valid string."]}"#);
    assert_eq!(app.login_status("alice", PASSWORD).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn passwords_of_8_and_of_128_characters_are_accepted() {
    let Some(app) = registration().await else { return };
    let shortest = serde_json::json!({ "username": "alice", "password": "12345678" }).to_string();
    let longest = serde_json::json!({ "username": "bob", "password": "p".repeat(128) }).to_string();

    let short = app.register(&shortest).await;
    let long = app.register(&longest).await;

    short.assert_json(StatusCode::CREATED, CREATED);
    long.assert_json(StatusCode::CREATED, CREATED);
}

#[tokio::test]
async fn errors_of_both_fields_come_together_username_first() {
    let Some(app) = registration().await else { return };

    let empty_object = app.register("{}").await;
    let password_sent_first = app.register(r#"{"password":"short","username":"john doe"}"#).await;
    let empty_form = send(app.client.post("/auth/register/").form(&[("password", ""), ("username", "")])).await;

    empty_object.assert_json(
        StatusCode::BAD_REQUEST,
        r#"{"username":["This field is required."],"password":["This field is required."]}"#,
    );
    password_sent_first.assert_json(
        StatusCode::BAD_REQUEST,
        concat!(
            r#"{"username":["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."],"#,
            r#""password":["password too short"]}"#,
        ),
    );
    empty_form.assert_json(
        StatusCode::BAD_REQUEST,
        r#"{"username":["This field may not be blank."],"password":["This field may not be blank."]}"#,
    );
}

#[tokio::test]
async fn a_duplicate_name_and_a_bad_password_are_reported_together() {
    let Some(app) = registration().await else { return };
    app.seed_user("alice", PASSWORD).await;

    let reply = app.register(r#"{"username":"alice","password":"short"}"#).await;

    reply.assert_json(
        StatusCode::BAD_REQUEST,
        r#"{"username":["A user with that username already exists."],"password":["password too short"]}"#,
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_a_non_field_error() {
    let Some(app) = registration().await else { return };

    check(app.register("[]").await, r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#);
    check(
        app.register(r#"["alice","correct horse"]"#).await,
        r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#,
    );
    check(
        app.register(r#""alice""#).await,
        r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}"#,
    );
    check(app.register("42").await, r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got int."]}"#);
    check(app.register("true").await, r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got bool."]}"#);
}

/// An app with registration enabled; `None` when the backend is not available here.
async fn registration() -> Option<TestApp> {
    TestApp::builder().registration(true).build().await
}

/// A field-error answer: 400 with exactly this JSON body.
#[track_caller]
fn check(reply: Reply, body: &str) {
    reply.assert_json(StatusCode::BAD_REQUEST, body);
}
