//! A host application that protects its own routes with `TokenAuth` and `TokenLayer`: the layer authenticates,
//! and every other answer of the host (its own 404, poem-openapi's 415, a route it does not have) stays the host's.

use authtoken_http::{AuthFailure, TokenAuth, TokenLayer};
use poem::http::StatusCode;
use poem::test::TestClient;
use poem::{Endpoint, EndpointExt as _, Route};
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService};

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
}

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
async fn the_hosts_own_404_and_415_pass_through_the_layer_unchanged() {
    let Some((app, host)) = host_app().await else { return };
    let bare: TestClient<App> = TestClient::new(host_routes().data(app.service.clone()).map_to_response().boxed());
    let token = format!("Token {KNOWN_TOKEN}");

    let own_404 = send(host.get("/api/notes/2").header("Authorization", &token)).await;
    let own_415 =
        send(host.post("/api/notes").header("Authorization", &token).content_type("text/plain").body("hello")).await;
    let no_route = send(host.get("/api/nothing-here")).await;

    assert_eq!((own_404.status, own_404.body.as_str()), (StatusCode::NOT_FOUND, "no note 2 for alice"));
    assert_eq!(own_415.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(!own_415.body.contains("detail"), "not Django REST framework's envelope: {}", own_415.body);
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    assert_unchanged(&own_404, send(bare.get("/api/notes/2").header("Authorization", &token)).await);
    assert_unchanged(
        &own_415,
        send(bare.post("/api/notes").header("Authorization", &token).content_type("text/plain").body("hello")).await,
    );
    assert_unchanged(&no_route, send(bare.get("/api/nothing-here")).await);
}

/// The answer through the layer is the answer of the host alone: status, content type and body.
#[track_caller]
fn assert_unchanged(through_layer: &Reply, alone: Reply) {
    assert_eq!(through_layer.status, alone.status);
    assert_eq!(through_layer.header("content-type"), alone.header("content-type"));
    assert_eq!(through_layer.body, alone.body);
}
