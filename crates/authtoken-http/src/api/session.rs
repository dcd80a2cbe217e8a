//! Login, logout and the current user.

use authtoken_core::AuthService;
use authtoken_core::service::{FieldValue, LoginError, LogoutError};
use authtoken_core::user::Password;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::body::{Fields, FieldsBody};
use crate::config::{HttpConfig, UserField};
use crate::error::{AuthFailure, ErrorBody, impl_from_body_error, impl_from_failure, impl_from_throttled};
use crate::security::TokenAuth;
use crate::user::UserBody;

#[derive(Tags)]
enum Tag {
    /// Logging in and out, one session at a time.
    Sessions,
}

/// Login, logout and the current user.
pub(crate) struct SessionApi {
    login_fields: Option<Vec<UserField>>,
    me_fields: Vec<UserField>,
}

impl SessionApi {
    pub(crate) fn new(config: &HttpConfig) -> Self {
        Self {
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

/// The `Cache-Control` of an answer that carries a token.
const NO_STORE: &str = "no-store";

/// A login that worked.
#[derive(ApiResponse, Debug)]
enum LoginResponse {
    /// Logged in: a new token, independent of the user's other sessions. `Cache-Control: no-store` keeps it out
    /// of every cache.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<LoginBody>, #[oai(header = "Cache-Control")] String),
}

/// Why a login did not work.
#[derive(ApiResponse, Debug)]
enum LoginFailure {
    /// A body that cannot be parsed, as `{"detail": …}`.
    #[oai(status = 400, content_type = "application/json")]
    Malformed(Json<ErrorBody>),
    /// The JSON string `"invalid credentials"`, for every kind of failure.
    #[oai(status = 401, content_type = "application/json")]
    InvalidCredentials(Json<String>),
    /// A body over 64 KiB.
    #[oai(status = 413, content_type = "application/json")]
    PayloadTooLarge(Json<ErrorBody>),
    /// A content type other than JSON, form or multipart.
    #[oai(status = 415, content_type = "application/json")]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Too many attempts: `{"detail":"Request was throttled. Expected available in N seconds."}`, and
    /// `Retry-After: N`.
    #[oai(status = 429, content_type = "application/json")]
    Throttled(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
    /// An unexpected failure; its cause is in the service's log.
    #[oai(status = 500, content_type = "application/json")]
    Internal(Json<ErrorBody>),
}

impl_from_failure!(LoginFailure);
impl_from_throttled!(LoginFailure);
impl_from_body_error!(LoginFailure, LoginFailure::Malformed);

impl From<LoginError> for LoginFailure {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => Self::InvalidCredentials(Json("invalid credentials".to_owned())),
            LoginError::Throttled(throttled) => throttled.into(),
            LoginError::Failed(failure) => failure.into(),
        }
    }
}

/// A logout that worked.
#[derive(ApiResponse, Debug)]
enum LogoutResponse {
    /// Logged out: the presented token no longer works; the user's other tokens still do.
    #[oai(status = 204)]
    NoContent,
}

/// The current user.
#[derive(ApiResponse, Debug)]
enum MeResponse {
    /// The authenticated user.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<UserBody>),
}

#[OpenApi(tag = "Tag::Sessions")]
impl SessionApi {
    /// Log in
    ///
    /// Exchanges a username and password for a new token. The `Authorization` header is ignored,
    /// so a stale token never blocks a login.
    #[oai(path = "/login/", method = "post", operation_id = "login")]
    async fn login(
        &self,
        service: Data<&AuthService>,
        request: &poem::Request,
        body: FieldsBody<LoginFields>,
    ) -> Result<LoginResponse, LoginFailure> {
        let mut fields: Fields = body.fields?;
        let (FieldValue::Text(username), FieldValue::Text(password)) =
            (fields.take("username"), fields.take("password"))
        else {
            return Err(LoginError::InvalidCredentials.into());
        };
        let client = crate::client_ip::client_info(request);
        let outcome = service.login(&username, &Password::new(password), client).await?;
        let body = LoginBody {
            token: outcome.token.expose(),
            user: self.login_fields.as_deref().map(|fields| UserBody::new(&outcome.user, fields)),
        };
        Ok(LoginResponse::Ok(Json(body), NO_STORE.to_owned()))
    }

    /// Log out
    ///
    /// Revokes the token that authenticates this request, and only that one.
    #[oai(path = "/logout/", method = "delete", operation_id = "logout")]
    async fn logout(
        &self,
        service: Data<&AuthService>,
        auth: TokenAuth,
        request: &poem::Request,
    ) -> Result<LogoutResponse, AuthFailure> {
        match service.logout(&auth.0, &crate::client_ip::client_info(request)).await {
            Ok(()) => Ok(LogoutResponse::NoContent),
            Err(LogoutError::Failed(e)) => Err(e.into()),
        }
    }

    /// The current user
    ///
    /// The user the token belongs to, with the configured `user_fields` (by default `id` and `username`).
    #[oai(path = "/me/", method = "get", operation_id = "me")]
    async fn me(&self, auth: TokenAuth) -> Result<MeResponse, AuthFailure> {
        Ok(MeResponse::Ok(Json(UserBody::new(&auth.0.user, &self.me_fields))))
    }
}
