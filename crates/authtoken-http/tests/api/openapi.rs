//! `GET /openapi.json` lists the operations the service really has, and documents the `TokenAuth` scheme;
//! `/docs` serves Swagger UI. (The pinned `docs/openapi.json` snapshot is checked by the server crate.)

use poem::http::StatusCode;
use serde_json::{Value, json};

use super::support::{TestApp, send};

/// An operation as (`method path`, operation id, whether it requires `TokenAuth`).
type Operation = (&'static str, &'static str, bool);

/// The operations of every configuration under the prefix.
const SESSIONS: [Operation; 3] =
    [("post /auth/login", "login", false), ("delete /auth/logout", "logout", true), ("get /auth/me", "me", true)];
/// The session inventory, the account and its audit trail, also in every configuration.
const INVENTORY: [Operation; 7] = [
    ("get /auth/events", "events", true),
    ("post /auth/me/delete", "delete_account", true),
    ("post /auth/password/change", "password_change", true),
    ("post /auth/logout/all", "logout_all", true),
    ("post /auth/logout/others", "logout_others", true),
    ("get /auth/sessions", "sessions", true),
    ("delete /auth/sessions/{id}", "revoke_session", true),
];
/// The health routes, at the root of every configuration.
const HEALTH: [Operation; 2] = [("get /healthz", "healthz", false), ("get /readyz", "readyz", false)];
const REGISTER: Operation = ("post /auth/register", "register", false);
/// The operations of the confirmation link.
const CONFIRM: [Operation; 3] = [
    ("get /auth/register/confirm/{token}", "confirm", false),
    ("head /auth/register/confirm/{token}", "confirm_check", false),
    ("get /auth/register/confirmed", "confirmed_page", false),
];

#[tokio::test]
async fn the_document_lists_login_logout_me_and_register_when_registration_is_enabled() {
    let Some(app) = TestApp::builder().registration(true).build().await else { return };

    let reply = send(app.client.get("/openapi.json")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{:?}", reply.headers);
    assert_operations(&reply.json(), &[SESSIONS.as_slice(), &[REGISTER], &HEALTH].concat());
}

#[tokio::test]
async fn the_document_has_no_register_operation_when_registration_is_disabled() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.get("/openapi.json")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_operations(&reply.json(), &[SESSIONS.as_slice(), &HEALTH].concat());
}

#[tokio::test]
async fn the_document_lists_the_confirm_operations_when_confirmation_is_on() {
    let Some(app) = TestApp::builder().registration(true).confirmation().build().await else { return };

    let reply = send(app.client.get("/openapi.json")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_operations(&reply.json(), &[SESSIONS.as_slice(), &[REGISTER], &CONFIRM, &HEALTH].concat());
}

#[tokio::test]
async fn the_document_lists_the_confirm_button_only_in_scanner_safe_mode() {
    let Some(app) = TestApp::builder().registration(true).confirmation().confirm_via_post().build().await else {
        return;
    };

    let reply = send(app.client.get("/openapi.json")).await;

    let button = ("post /auth/register/confirm/{token}", "confirm_post", false);
    assert_operations(&reply.json(), &[SESSIONS.as_slice(), &[REGISTER], &CONFIRM, &[button], &HEALTH].concat());
}

#[tokio::test]
async fn the_document_has_no_register_or_confirm_operation_when_only_confirmation_is_on() {
    let Some(app) = TestApp::builder().confirmation().build().await else { return };

    let reply = send(app.client.get("/openapi.json")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_operations(&reply.json(), &[SESSIONS.as_slice(), &HEALTH].concat());
}

#[tokio::test]
async fn the_document_paths_follow_a_configured_prefix() {
    let Some(app) = TestApp::builder().prefix("/api/v1/auth").build().await else { return };

    let reply = send(app.client.get("/openapi.json")).await;

    let routes: Vec<String> = operations(&reply.json()).into_iter().map(|(route, _, _)| route).collect();
    assert_eq!(
        routes,
        [
            "get /api/v1/auth/events",
            "post /api/v1/auth/login",
            "delete /api/v1/auth/logout",
            "post /api/v1/auth/logout/all",
            "post /api/v1/auth/logout/others",
            "get /api/v1/auth/me",
            "post /api/v1/auth/me/delete",
            "post /api/v1/auth/password/change",
            "get /api/v1/auth/sessions",
            "delete /api/v1/auth/sessions/{id}",
            "get /healthz",
            "get /readyz"
        ]
    );
}

#[tokio::test]
async fn token_auth_is_an_api_key_in_the_authorization_header() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.get("/openapi.json")).await;

    let scheme = &reply.json()["components"]["securitySchemes"]["TokenAuth"];
    assert_eq!(scheme["type"], json!("apiKey"), "{scheme}");
    assert_eq!(scheme["in"], json!("header"), "{scheme}");
    assert_eq!(scheme["name"], json!("Authorization"), "{scheme}");
}

#[tokio::test]
async fn swagger_ui_is_served_at_docs() {
    let Some(app) = TestApp::new().await else { return };

    let reply = send(app.client.get("/docs")).await;
    let again = send(app.client.get("/docs/")).await;
    let elsewhere = send(app.client.get("/docs/swagger.js")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{:?}", reply.headers);
    assert!(reply.body.contains("SwaggerUIBundle("), "the page loads Swagger UI");
    assert!(reply.body.contains("\"/auth/login\""), "the page carries the service's document");
    assert_eq!((again.status, again.body.len()), (StatusCode::OK, reply.body.len()));
    elsewhere.assert_json(StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#);
}

#[tokio::test]
async fn the_document_and_swagger_ui_answer_only_get() {
    let Some(app) = TestApp::new().await else { return };

    let post_document = send(app.client.post("/openapi.json")).await;
    let delete_docs = send(app.client.delete("/docs")).await;

    post_document.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"POST\" not allowed."}"#);
    delete_docs.assert_json(StatusCode::METHOD_NOT_ALLOWED, r#"{"detail":"Method \"DELETE\" not allowed."}"#);
}

#[track_caller]
/// Client generators read one schema under three media types as three bodies, and openapi-python-client then emits
/// code that does not import: each body is documented as JSON, and its description names the other two.
#[tokio::test]
async fn every_body_is_documented_as_json_and_says_that_forms_are_accepted_too() {
    let Some(app) = TestApp::builder().registration(true).confirmation().password_reset(true).build().await else {
        return;
    };
    let document = send(app.client.get("/openapi.json")).await.json();

    let mut bodies = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(body) = operation.get("requestBody") else { continue };
            bodies += 1;
            let media_types: Vec<&String> = body["content"].as_object().unwrap().keys().collect();
            assert_eq!(media_types, ["application/json"], "{method} {path}");
            let description = body["description"].as_str().unwrap_or_default();
            assert!(
                description.contains("application/x-www-form-urlencoded")
                    && description.contains("multipart/form-data"),
                "{method} {path}: {description:?}"
            );
        }
    }
    assert!(bodies >= 8, "the bodies of login, register, the account and reset routes: {bodies}");
}

/// No property wraps a reference in `allOf` with a string schema, which openapi-python-client cannot read.
#[tokio::test]
async fn no_property_wraps_a_string_schema_in_all_of() {
    let Some(app) = TestApp::builder().registration(true).confirmation().password_reset(true).build().await else {
        return;
    };
    let document = send(app.client.get("/openapi.json")).await.json();
    let schemas = document["components"]["schemas"].as_object().unwrap();

    for (name, schema) in schemas {
        for (property, value) in schema["properties"].as_object().into_iter().flatten() {
            for part in value["allOf"].as_array().into_iter().flatten() {
                let target = part["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/"));
                let kind = target.map(|target| schemas[target]["type"].as_str().unwrap_or_default());
                assert_ne!(kind, Some("string"), "{name}.{property} wraps {target:?} in allOf");
            }
        }
    }
}

fn assert_operations(document: &Value, expected: &[Operation]) {
    let listed = operations(document);
    let listed: Vec<(&str, &str, bool)> =
        listed.iter().map(|(route, id, secured)| (&**route, &**id, *secured)).collect();
    let mut expected = [expected, INVENTORY.as_slice()].concat();
    expected.sort_by_key(|(route, _, _)| route.split_once(' ').map(|(method, path)| (path, method)));
    assert_eq!(listed, expected);
}

/// Each operation as (`method path`, operation id, whether it requires `TokenAuth`), sorted by path.
fn operations(document: &Value) -> Vec<(String, String, bool)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths is an object") {
        for (method, operation) in item.as_object().expect("a path item is an object") {
            let id = operation["operationId"].as_str().expect("every operation has an id").to_owned();
            let secured = operation["security"] == json!([{ "TokenAuth": [] }]);
            operations.push((format!("{method} {path}"), id, secured));
        }
    }
    operations.sort_by(|a, b| a.0.split_once(' ').map(|(_, p)| p).cmp(&b.0.split_once(' ').map(|(_, p)| p)));
    operations
}
