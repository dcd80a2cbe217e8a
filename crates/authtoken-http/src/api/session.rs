//! Login, logout and the current user.

use authtoken_core::AuthService;
use authtoken_core::service::{FieldValue, LoginError};
use authtoken_core::session::ClientInfo;
use authtoken_core::user::Password;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::body::{Fields, FieldsBody};
use crate::config::{HttpConfig, UserField};
use crate::envelope::{ApiError, ErrorBody};
use crate::security::TokenAuth;
use crate::user::UserBody;

#[derive(Tags)]
enum Tag {
    /// Logging in and out, one session at a time.
    Sessions,
}

/// Login, logout and the current user.
pub(crate) struct SessionApi {
    service: AuthService,
    login_fields: Option<Vec<UserField>>,
    me_fields: Vec<UserField>,
}

impl SessionApi {
    pub(crate) fn new(service: &AuthService, config: &HttpConfig) -> Self {
        Self {
            service: service.clone(),
            login_fields: config.user_fields.clone(),
            me_fields: config.user_fields.clone().unwrap_or_else(|| vec![UserField::Id, UserField::Username]),
        }
    }
}

/// Login credentials.
#[allow(dead_code, reason = "a schema for the OpenAPI document; bodies are read by FieldsBody")]
#[derive(Object, Debug)]
struct LoginFields {
    username: String,
    /// Sent as typed: never trimmed.
    #[oai(write_only)]
    password: String,
}

/// A new session's token.
#[derive(Object, Debug)]
struct LoginBody {
    /// 64 characters of URL-safe base64; shown only in this response.
    token: String,
    /// The user, when the service is configured with `user_fields`.
    #[oai(skip_serializing_if_is_none)]
    user: Option<UserBody>,
}

#[allow(dead_code, reason = "error variants document what the body extractor and TokenLayer answer")]
#[derive(ApiResponse, Debug)]
enum LoginResponse {
    /// Logged in: a new token, independent of the user's other sessions.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<LoginBody>),
    /// Malformed JSON.
    #[oai(status = 400, content_type = "application/json")]
    BadRequest(Json<ErrorBody>),
    /// The JSON string `"invalid credentials"`, for every kind of failure.
    #[oai(status = 401, content_type = "application/json")]
    InvalidCredentials(Json<String>),
    /// A content type other than JSON, form or multipart.
    #[oai(status = 415, content_type = "application/json")]
    UnsupportedMediaType(Json<ErrorBody>),
    /// A body over 64 KiB.
    #[oai(status = 413, content_type = "application/json")]
    PayloadTooLarge(Json<ErrorBody>),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

#[allow(dead_code, reason = "error variants document what the body extractor and TokenLayer answer")]
#[derive(ApiResponse, Debug)]
enum LogoutResponse {
    /// Logged out: the presented token no longer works; the user's other tokens still do.
    #[oai(status = 204)]
    NoContent,
    /// Not authenticated.
    #[oai(status = 401, content_type = "application/json")]
    Unauthenticated(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

#[allow(dead_code, reason = "error variants document what the body extractor and TokenLayer answer")]
#[derive(ApiResponse, Debug)]
enum MeResponse {
    /// The authenticated user.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<UserBody>),
    /// Not authenticated.
    #[oai(status = 401, content_type = "application/json")]
    Unauthenticated(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

#[OpenApi(tag = "Tag::Sessions")]
impl SessionApi {
    /// Log in
    ///
    /// Exchanges a username and password for a new token. The `Authorization` header is ignored,
    /// so a stale token never blocks a login.
    #[oai(path = "/login/", method = "post", operation_id = "login")]
    async fn login(&self, request: &poem::Request, body: FieldsBody<LoginFields>) -> poem::Result<LoginResponse> {
        let mut fields: Fields = body.fields;
        let (FieldValue::Text(username), FieldValue::Text(password)) =
            (fields.take("username"), fields.take("password"))
        else {
            return Ok(invalid_credentials());
        };
        let user_agent = request.headers().get(poem::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
        let ip = request.remote_addr().as_socket_addr().map(|addr| addr.ip().to_string());
        let client = ClientInfo::new(user_agent, ip);
        match self.service.login(&username, &Password::new(password), client).await {
            Ok(outcome) => Ok(LoginResponse::Ok(Json(LoginBody {
                token: outcome.token.expose(),
                user: self.login_fields.as_deref().map(|fields| UserBody::new(&outcome.user, fields)),
            }))),
            Err(LoginError::InvalidCredentials) => Ok(invalid_credentials()),
            Err(LoginError::Failed(failure)) => Err(ApiError::from(failure).into()),
        }
    }

    /// Log out
    ///
    /// Revokes the token that authenticates this request, and only that one.
    #[oai(path = "/logout/", method = "delete", operation_id = "logout")]
    async fn logout(&self, auth: TokenAuth) -> poem::Result<LogoutResponse> {
        match self.service.logout(&auth.0).await {
            Ok(()) => Ok(LogoutResponse::NoContent),
            Err(authtoken_core::service::LogoutError::Failed(failure)) => Err(ApiError::from(failure).into()),
        }
    }

    /// The current user
    ///
    /// The user the token belongs to, with the configured `user_fields` (by default `id` and `username`).
    #[oai(path = "/me/", method = "get", operation_id = "me")]
    async fn me(&self, auth: TokenAuth) -> MeResponse {
        MeResponse::Ok(Json(UserBody::new(&auth.0.user, &self.me_fields)))
    }
}

fn invalid_credentials() -> LoginResponse {
    LoginResponse::InvalidCredentials(Json("invalid credentials".to_owned()))
}
