//! An axum application that keeps notes for logged-in users, with authtoken as its library: `authtoken-core`
//! for the rules, `authtoken-sql` for the store and `authtoken-argon2` for passwords. No poem anywhere.
//!
//! - `POST /login` takes `{"username", "password"}` and answers `{"token"}`.
//! - `GET /notes` needs `Authorization: Token <token>`; [`LoggedIn`] is the axum extractor that checks it.
//! - `POST /logout` ends the session of the presented token.

use std::sync::Arc;

use authtoken_argon2::{Argon2Hasher, Argon2Params, Argon2id, default_hash_concurrency};
use authtoken_core::error::chain;
use authtoken_core::ports::{StoreError, SystemClock};
use authtoken_core::service::{AuthenticateError, Authenticated, Failure, LoginError, LogoutError, Ports};
use authtoken_core::session::ClientInfo;
use authtoken_core::user::Password;
use authtoken_core::{AuthService, Config, TokenPrefix};
use authtoken_sql::{DatabaseOptions, SqlStore};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

/// The service over a SQL store (SQLite or PostgreSQL, as the URL says) and Argon2id with `params`.
pub async fn service(database_url: &str, params: Argon2Params) -> Result<AuthService, Box<dyn std::error::Error>> {
    let store = Arc::new(
        SqlStore::open(&DatabaseOptions {
            url: database_url.to_owned(),
            max_connections: 8,
            connect_timeout: std::time::Duration::from_secs(5),
            statement_timeout: std::time::Duration::from_secs(5),
        })
        .await?,
    );
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

/// The application's routes.
pub fn app(service: AuthService) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/notes", get(notes))
        .with_state(service)
}

/// A request whose `Authorization: Token` header names a live session.
#[derive(Debug)]
pub struct LoggedIn(pub Authenticated);

impl FromRequestParts<AuthService> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, service: &AuthService) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).map(|value| value.as_bytes());
        match service.authenticate(header).await {
            Ok(authenticated) => Ok(Self(authenticated)),
            Err(AuthenticateError::Failed(e)) => Err(unavailable(&e)),
            Err(
                AuthenticateError::NotProvided | AuthenticateError::NoCredentials | AuthenticateError::InvalidToken,
            ) => Err((StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Token")]).into_response()),
        }
    }
}

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(serde::Serialize)]
struct Token {
    token: String,
}

async fn login(State(service): State<AuthService>, Json(credentials): Json<Credentials>) -> Response {
    let password = Password::new(credentials.password);
    match service.login(&credentials.username, &password, ClientInfo::new(None, None)).await {
        Ok(outcome) => Json(Token { token: outcome.token.expose() }).into_response(),
        Err(LoginError::InvalidCredentials) => StatusCode::UNAUTHORIZED.into_response(),
        Err(LoginError::Throttled(throttled)) => {
            let retry_after = [(axum::http::header::RETRY_AFTER, throttled.seconds().to_string())];
            (StatusCode::TOO_MANY_REQUESTS, retry_after).into_response()
        }
        Err(LoginError::Failed(Failure::Store(e))) => unavailable(&e),
        Err(LoginError::Failed(failure)) => {
            eprintln!("login failed: {}", chain(&failure));
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn logout(State(service): State<AuthService>, LoggedIn(session): LoggedIn) -> Response {
    match service.logout(&session, &ClientInfo::new(None, None)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(LogoutError::Failed(e)) => unavailable(&e),
    }
}

async fn notes(LoggedIn(session): LoggedIn) -> String {
    format!("the notes of {}", session.user.username)
}

/// 503 for a store that failed; the cause goes to the application's log (here stderr), never to the client.
fn unavailable(e: &StoreError) -> Response {
    eprintln!("store failure: {}", chain(e));
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}
