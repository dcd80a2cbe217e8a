//! A host application that protects its own routes with `TokenAuth` and `TokenLayer`: the layer authenticates,
//! and every other answer of the host (its own 404, poem-openapi's 415, the 401 of a scheme of its own, a route it
//! does not have) stays the host's.

use authtoken_http::{AuthFailure, TokenAuth, TokenLayer};
use poem::http::StatusCode;
use poem::test::TestClient;
use poem::{Endpoint, EndpointExt as _, Route};
use poem_openapi::auth::Bearer;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, SecurityScheme};

use super::support::{App, KNOWN_TOKEN, NOT_PROVIDED, PASSWORD, Reply, TestApp, send};

/// The host's notes: one note, `1`, readable by any logged-in user.
struct Notes;

#[derive(Object)]
struct NewNote {
    text: String,
}

#[derive(ApiResponse)]
enum NoteResponse {
    /// The note.
    #[oai(status = 200)]
    Ok(PlainText<String>),
    /// The host's own 404, in its own words.
    #[oai(status = 404)]
    NotFound(PlainText<String>),
}

#[OpenApi]
impl Notes {
    #[oai(path = "/notes/:id", method = "get")]
    async fn note(&self, auth: TokenAuth, id: Path<u32>) -> Result<NoteResponse, AuthFailure> {
        if id.0 != 1 {
            return Ok(NoteResponse::NotFound(PlainText(format!("no note {} for {}", id.0, auth.0.user.username))));
        }
        Ok(NoteResponse::Ok(PlainText("the first note".to_owned())))
    }

    #[oai(path = "/notes", method = "post")]
    async fn create(&self, _auth: TokenAuth, note: Json<NewNote>) -> Result<PlainText<String>, AuthFailure> {
        Ok(PlainText(note.0.text))
    }

    /// Guarded by a scheme of the host's own, not by authtoken's.
    #[oai(path = "/admin", method = "get")]
    async fn admin(&self, key: AdminKey) -> PlainText<String> {
        PlainText(format!("admin with a key of {} characters", key.0.token.len()))
    }
}

/// The host's own scheme: poem-openapi refuses a request without it with its own 401.
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
struct AdminKey(Bearer);

fn host_routes() -> impl Endpoint {
    Route::new().nest("/api", OpenApiService::new(Notes, "Notes", "1.0"))
}

/// The host application behind `TokenLayer`, over the suite's stores, with alice logged in as `KNOWN_TOKEN`.
async fn host_app() -> Option<(TestApp, TestClient<App>)> {
    let app = TestApp::new().await?;
    let alice = app.seed_user("alice", PASSWORD).await;
    app.seed_session(alice, KNOWN_TOKEN).await;
    let client = TestClient::new(host_routes().with(TokenLayer::new(app.service.clone())).map_to_response().boxed());
    Some((app, client))
}

#[tokio::test]
async fn token_auth_admits_a_logged_in_user_to_a_host_route() {
    let Some((_app, host)) = host_app().await else { return };

    let reply = send(host.get("/api/notes/1").header("Authorization", format!("Token {KNOWN_TOKEN}"))).await;

    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "the first note"));
}

#[tokio::test]
async fn a_host_route_refuses_a_missing_token_with_the_contracts_401() {
    let Some((_app, host)) = host_app().await else { return };

    let reply = send(host.get("/api/notes/1")).await;

    reply.assert_unauthenticated(NOT_PROVIDED);
}

#[tokio::test]
async fn the_hosts_own_401_404_and_415_pass_through_the_layer_unchanged() {
    let Some((app, host)) = host_app().await else { return };
    let bare: TestClient<App> = TestClient::new(host_routes().data(app.service.clone()).map_to_response().boxed());

    let through_layer = own_answers(&host).await;
    let alone = own_answers(&bare).await;

    let [own_404, own_415, own_401, no_route] = &through_layer;
    assert_eq!((own_404.status, own_404.body.as_str()), (StatusCode::NOT_FOUND, "no note 2 for alice"));
    assert_eq!(own_415.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(!own_415.body.contains("detail"), "not Django REST framework's envelope: {}", own_415.body);
    assert_eq!(own_401.status, StatusCode::UNAUTHORIZED);
    assert_ne!(own_401.header("www-authenticate"), Some("Token"), "the host's own scheme, not authtoken's");
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    for (through_layer, alone) in through_layer.iter().zip(alone) {
        assert_unchanged(through_layer, alone);
    }
}

/// The host's own 404, poem-openapi's 415 for the host's JSON body, the 401 of the host's own scheme, and the 404
/// of a route the host does not have, as `client` gets them.
async fn own_answers(client: &TestClient<App>) -> [Reply; 4] {
    let token = format!("Token {KNOWN_TOKEN}");
    [
        send(client.get("/api/notes/2").header("Authorization", &token)).await,
        send(client.post("/api/notes").header("Authorization", &token).content_type("text/plain").body("hello")).await,
        send(client.get("/api/admin")).await,
        send(client.get("/api/nothing-here")).await,
    ]
}

/// The answer through the layer is the answer of the host alone: status, content type and body.
#[track_caller]
fn assert_unchanged(through_layer: &Reply, alone: Reply) {
    assert_eq!(through_layer.status, alone.status);
    assert_eq!(through_layer.header("content-type"), alone.header("content-type"));
    assert_eq!(through_layer.body, alone.body);
}

#[tokio::test]
async fn token_auth_without_a_token_layer_is_a_generic_500() {
    let unwired: TestClient<App> = TestClient::new(host_routes().map_to_response().boxed());

    let reply = send(unwired.get("/api/notes/1").header("Authorization", format!("Token {KNOWN_TOKEN}"))).await;

    reply.assert_json(StatusCode::INTERNAL_SERVER_ERROR, r#"{"detail":"A server error occurred."}"#);
}
