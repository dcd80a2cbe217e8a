//! What the OpenAPI document says the service takes is what it takes: the field rules of login and registration,
//! the health routes, and multipart bodies whose field names are anything RFC 7578 allows.

use authtoken_core::user::Username;
use authtoken_http::{HttpConfig, TrustedProxies};
use authtoken_testkit::fixtures;
use poem::http::StatusCode;
use serde_json::{Value, json};

use super::support::{PASSWORD, TestApp, send};

#[tokio::test]
async fn registration_fields_carry_the_rules_registration_applies() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };

    let document = send(app.client.get("/openapi.json")).await.json();

    let fields = &document["components"]["schemas"]["RegisterFields"];
    let username = &fields["properties"]["username"];
    assert_eq!(username["minLength"], json!(1), "{username}");
    assert_eq!(username["maxLength"], Value::Null, "surrounding white space may make it longer: {username}");
    assert!(username["pattern"].as_str().is_some_and(|p| p.contains(r"[\p{L}\p{N}@.+_-]{1,150}")), "{username}");
    let password = &fields["properties"]["password"];
    assert_eq!((&password["minLength"], &password["maxLength"]), (&json!(8), &json!(128)), "{password}");
    assert_eq!(fields["properties"]["email"], Value::Null, "without confirmation the email is not read: {fields}");
    assert_eq!(fields["required"], json!(["username", "password"]), "{fields}");
}

#[tokio::test]
async fn with_confirmation_the_email_is_required_and_an_address() {
    let Some(app) = TestApp::builder().registration(true).confirmation().build().await else { return };

    let document = send(app.client.get("/openapi.json")).await.json();

    let fields = &document["components"]["schemas"]["RegisterFields"];
    let email = &fields["properties"]["email"];
    assert_eq!((&email["format"], &email["maxLength"]), (&json!("email"), &json!(254)), "{email}");
    assert_eq!(fields["required"], json!(["username", "password", "email"]), "{fields}");
}

#[tokio::test]
async fn every_field_an_answer_may_show_as_null_is_documented_as_nullable() {
    let Some(app) = TestApp::new().await else { return };

    let document = send(app.client.get("/openapi.json")).await.json();

    let schemas = &document["components"]["schemas"];
    for (schema, field) in [
        ("Session", "last_used"),
        ("Session", "user_agent"),
        ("Session", "ip"),
        ("User", "email"),
        ("User", "last_login"),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(property["nullable"], json!(true), "{schema}.{field}: {property}");
    }
    for (schema, field) in [("Session", "id"), ("Session", "created"), ("User", "username")] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(property["nullable"], Value::Null, "{schema}.{field} is never null: {property}");
    }
}

#[tokio::test]
async fn the_shortest_password_follows_the_setting() {
    let http = HttpConfig { registration_enabled: true, ..http_config() };
    let core = authtoken_core::Config { password_min_length: 6, ..fixtures::config() };

    let document: Value =
        serde_json::from_str(&authtoken_http::openapi_json(&http, &core, authtoken_http::Features::default())).unwrap();

    assert_eq!(document["components"]["schemas"]["RegisterFields"]["properties"]["password"]["minLength"], json!(6));
}

#[tokio::test]
async fn login_fields_are_bounded_as_registered_names_and_passwords_are() {
    let Some(app) = TestApp::new().await else { return };

    let document = send(app.client.get("/openapi.json")).await.json();

    let properties = &document["components"]["schemas"]["LoginFields"]["properties"];
    let bounds = |field: &str| (properties[field]["minLength"].clone(), properties[field]["maxLength"].clone());
    assert_eq!(bounds("username"), (json!(1), json!(150)), "{properties}");
    assert_eq!(bounds("password"), (json!(1), json!(128)), "{properties}");
}

#[tokio::test]
async fn the_username_pattern_takes_exactly_the_names_registration_takes() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };
    let document = send(app.client.get("/openapi.json")).await.json();
    let pattern = document["components"]["schemas"]["RegisterFields"]["properties"]["username"]["pattern"]
        .as_str()
        .expect("the username has a pattern")
        .to_owned();
    let regex = regex::RegexBuilder::new(&pattern).size_limit(1 << 26).build().expect("the pattern compiles");
    let long = "ä".repeat(150);
    let names = [
        "john",
        "  john \t",
        "j.o+h-n_@x",
        "Jürgen",
        "名前",
        "٣٤",
        "Ⅻ½",
        &long,
        "\u{2003}john\u{3000}\u{85}",
        "",
        "   ",
        "john doe",
        "john!",
        "a/b",
        "\u{24b6}",
        "\u{930}\u{93e}\u{92e}",
        "Ju\u{308}rgen",
        "a\u{feff}",
        "a\u{200b}",
    ];
    let too_long = format!("{long}a");

    for name in names.iter().copied().chain([too_long.as_str()]) {
        assert_eq!(regex.is_match(name), Username::parse(name).is_ok(), "{name:?} against {pattern}");
    }
}

#[tokio::test]
async fn the_health_routes_are_documented_with_their_answers() {
    let Some(app) = TestApp::new().await else { return };

    let document = send(app.client.get("/openapi.json")).await.json();

    let statuses = |path: &str| -> Vec<String> {
        document["paths"][path]["get"]["responses"].as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default()
    };
    assert_eq!(statuses("/healthz"), ["200"]);
    assert_eq!(statuses("/readyz"), ["200", "503"]);
    let ok = &document["paths"]["/readyz"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(ok, &json!({ "$ref": "#/components/schemas/Health" }));
    assert_eq!(document["components"]["schemas"]["HealthState"]["enum"], json!(["ok"]));
    let unavailable = &document["paths"]["/readyz"]["get"]["responses"]["503"]["content"]["application/json"];
    assert_eq!(unavailable["schema"], json!({ "$ref": "#/components/schemas/ErrorBody" }));
}

#[tokio::test]
async fn swagger_ui_shows_the_same_document() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };

    let page = send(app.client.get("/docs")).await;

    assert!(page.body.contains("\"/healthz\""), "the page documents the health routes");
    assert!(page.body.contains(r#""maxLength": 128"#), "the page carries the field rules");
}

#[tokio::test]
async fn a_multipart_login_reads_its_fields_whatever_unicode_the_other_field_names_hold() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    let names = ["n\u{e4}me", "\u{1f600}", "\u{540d}\u{524d}", "tab\there", "percent%22encoded%0D"];
    let mut statuses = Vec::new();

    for name in names {
        let body = multipart(&[
            ("name=\"username\"", "alice"),
            (&format!("name=\"{name}\""), "x"),
            ("name=\"password\"", PASSWORD),
        ]);
        let reply = send(login(&app, body)).await;
        statuses.push((name, reply.status, reply.body));
    }

    for (name, status, body) in statuses {
        assert_eq!(status, StatusCode::OK, "{name:?}: {body}");
        assert!(body.starts_with(r#"{"token":""#), "{name:?}: {body}");
    }
}

#[tokio::test]
async fn a_multipart_part_header_with_a_control_character_is_a_malformed_body() {
    let Some(app) = TestApp::new().await else { return };
    app.seed_user("alice", PASSWORD).await;
    // A header field value cannot hold control characters other than tab (RFC 9110 section 5.5), and RFC 7578 has
    // browsers percent-encode them in a field name; so such a part header is broken, not an unusual name.
    let body =
        multipart(&[("name=\"username\"", "alice"), ("name=\"a\u{1b}b\"", "x"), ("name=\"password\"", PASSWORD)]);

    let reply = send(login(&app, body)).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.starts_with(r#"{"detail":"Multipart form parse error"#), "{}", reply.body);
}

/// A `multipart/form-data` body with the boundary `XX`, one part per (disposition parameters, value).
fn multipart(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (parameters, value) in parts {
        body.push_str(&format!("--XX\r\nContent-Disposition: form-data; {parameters}\r\n\r\n{value}\r\n"));
    }
    body.push_str("--XX--\r\n");
    body.into_bytes()
}

fn login(app: &TestApp, body: Vec<u8>) -> poem::test::TestRequestBuilder<'_, super::support::App> {
    app.client.post("/auth/login/").content_type("multipart/form-data; boundary=XX").body(body)
}

fn http_config() -> HttpConfig {
    HttpConfig {
        prefix: "/auth".to_owned(),
        registration_enabled: false,
        user_fields: None,
        confirm_redirect: None,
        confirm_invalid_redirect: None,
        confirm_via_post: false,
        docs_enabled: true,
        password_reset_form: false,
        trusted_proxies: TrustedProxies::none(),
        cors_allowed_origins: authtoken_http::AllowedOrigins::none(),
    }
}
