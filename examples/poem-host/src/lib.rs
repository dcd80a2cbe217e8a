//! A poem application with endpoints of its own beside authtoken's whole API.
//!
//! - authtoken's routes, unchanged: `/auth/register/`, `/auth/login/`, `/auth/logout/`, `/auth/me/`, its
//!   `/openapi.json` and `/docs`.
//! - The application's own OpenAPI service under `/api`: `GET /api/notes` takes [`TokenAuth`], so only logged-in
//!   users get there, and its document (`/api/openapi.json`) describes the `Authorization: Token` scheme.
//! - The application's own routes are wrapped in [`TokenLayer`], which authenticates and leaves every other
//!   answer of the application as it is.

use std::sync::Arc;

use authtoken_argon2::{Argon2Hasher, Argon2Params, Argon2id, default_hash_concurrency};
use authtoken_core::ports::SystemClock;
use authtoken_core::service::Ports;
use authtoken_core::{AuthService, Config, TokenPrefix};
use authtoken_http::{AllowedOrigins, AuthFailure, HttpConfig, TokenAuth, TokenLayer, TrustedProxies};
use authtoken_sql::{DatabaseOptions, SqlStore};
use poem::{Endpoint, EndpointExt as _, Route};
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi, OpenApiService};

/// The service over a SQL store (SQLite or PostgreSQL, as the URL says) and Argon2id with `params`.
pub async fn service(database_url: &str, params: Argon2Params) -> Result<AuthService, Box<dyn std::error::Error>> {
    let options = DatabaseOptions {
        url: database_url.to_owned(),
        max_connections: 8,
        connect_timeout: std::time::Duration::from_secs(5),
        statement_timeout: std::time::Duration::from_secs(5),
    };
    let store = Arc::new(SqlStore::open(&options).await?);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ports = Ports {
        tokens: store.clone(),
        users: store.clone(),
        events: store,
        hasher: Arc::new(Argon2Hasher::new(Argon2id::new(params)?, default_hash_concurrency(cpus))),
        clock: Arc::new(SystemClock),
    };
    let config = Config {
        auth_token_validity: std::time::Duration::from_secs(24 * 60 * 60),
        username_case_insensitive: false,
        password_min_length: 8,
        require_confirmed_email_for_login: false,
        auth_token_idle_timeout: None,
        last_used_resolution: std::time::Duration::from_secs(60),
        max_sessions_per_user: None,
        auth_event_retention: std::time::Duration::from_secs(90 * 24 * 60 * 60),
        token_prefix: TokenPrefix::NONE,
    };
    Ok(AuthService::new(ports, config))
}

/// The whole application: authtoken's API with registration on, and the notes under `/api`.
pub fn app(service: AuthService) -> impl Endpoint {
    let auth = HttpConfig {
        prefix: "/auth".to_owned(),
        registration_enabled: true,
        user_fields: None,
        confirm_redirect: None,
        confirm_invalid_redirect: None,
        confirm_via_post: false,
        docs_enabled: true,
        password_reset_form: false,
        trusted_proxies: TrustedProxies::none(),
        cors_allowed_origins: AllowedOrigins::none(),
    };
    let notes = OpenApiService::new(Notes, "Notes", "1.0").server("/api");
    let own =
        Route::new().at("/openapi.json", notes.spec_endpoint()).nest("/", notes).with(TokenLayer::new(service.clone()));
    Route::new().nest("/api", own).nest("/", authtoken_http::app(service, auth))
}

/// The application's own endpoints.
struct Notes;

#[derive(ApiResponse)]
enum NotesResponse {
    /// The notes of the logged-in user.
    #[oai(status = 200)]
    Ok(PlainText<String>),
}

#[OpenApi]
impl Notes {
    /// The notes of the logged-in user
    #[oai(path = "/notes", method = "get")]
    async fn notes(&self, auth: TokenAuth) -> Result<NotesResponse, AuthFailure> {
        Ok(NotesResponse::Ok(PlainText(format!("the notes of {}", auth.0.user.username))))
    }
}
