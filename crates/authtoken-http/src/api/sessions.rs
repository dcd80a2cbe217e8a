//! The caller's sessions: listing them, revoking one, and logging out everywhere else or everywhere.

use authtoken_core::AuthService;
use authtoken_core::service::{FieldValue, ReauthError};
use authtoken_core::session::Session;
use authtoken_core::user::Password;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags, Union};

use crate::body::FieldsBody;
use crate::error::{
    AuthFailure, ErrorBody, detail_body, impl_from_body_error, impl_from_failure, impl_from_store_error,
    impl_from_throttled,
};
use crate::security::TokenAuth;
use crate::user::{OrNull as _, rfc3339};

#[derive(Tags)]
enum Tag {
    /// Seeing and ending one's own sessions.
    SessionInventory,
}

/// The session inventory of the authenticated user.
pub(crate) struct SessionsApi;

/// The message of a wrong or missing re-entered password.
const WRONG_PASSWORD: &str = "Your password was entered incorrectly. Please enter it again.";

/// One of the caller's sessions.
#[derive(Object, Debug)]
#[oai(rename = "Session")]
struct SessionBody {
    /// The session's public id: safe to show and log; it is not the token.
    id: String,
    /// When the login happened, RFC 3339 UTC.
    created: String,
    /// When the token was last used, RFC 3339 UTC, to within `last_used_resolution`; `null` when never used.
    #[oai(nullable)]
    last_used: MaybeUndefined<String>,
    /// When the token expires, RFC 3339 UTC.
    expires: String,
    /// The login's `User-Agent`, cut to 256 characters; `null` when it had none.
    #[oai(nullable)]
    user_agent: MaybeUndefined<String>,
    /// The client's IP address at login; `null` when unknown.
    #[oai(nullable)]
    ip: MaybeUndefined<String>,
    /// Whether this is the session of the token that made this request.
    current: bool,
}

impl SessionBody {
    fn new(session: &Session, current: &Session) -> Self {
        let or_null = |value: Option<String>| MaybeUndefined::from_opt_undefined(value).or_null();
        Self {
            id: session.id.as_str().to_owned(),
            created: rfc3339(session.created_at),
            last_used: or_null(session.last_used_at.map(rfc3339)),
            expires: rfc3339(session.expires_at),
            user_agent: or_null(session.client.user_agent.clone()),
            ip: or_null(session.client.ip.clone()),
            current: session.id == current.id,
        }
    }
}

/// The re-entered password.
#[allow(dead_code, reason = "a schema for the OpenAPI document; bodies are read by FieldsBody")]
#[derive(Object, Debug)]
pub(crate) struct PasswordFields {
    /// The caller's current password, as typed.
    #[oai(write_only)]
    password: String,
}

/// How many sessions were revoked.
#[derive(Object, Debug)]
struct Revoked {
    revoked: u64,
}

/// A wrong or missing password.
#[derive(Object, Debug)]
pub(crate) struct PasswordErrors {
    password: Vec<String>,
}

/// What a 400 of a request with a re-entered password holds.
#[derive(Union, Debug)]
pub(crate) enum PasswordProblem {
    /// The password is wrong or missing.
    Fields(PasswordErrors),
    /// A body that cannot be parsed.
    Malformed(ErrorBody),
}

/// The caller's sessions.
#[derive(ApiResponse, Debug)]
enum ListResponse {
    /// The caller's live sessions, newest first.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<Vec<SessionBody>>),
}

/// A revoked session.
#[derive(ApiResponse, Debug)]
enum RevokeResponse {
    /// The session is revoked: its token no longer works, from the next request on.
    #[oai(status = 204)]
    NoContent,
}

/// Why a session was not revoked.
#[derive(ApiResponse, Debug)]
enum RevokeFailure {
    /// Not authenticated, as `TokenAuth` answers it.
    #[allow(dead_code, reason = "TokenAuth answers the 401 before the handler runs; the variant documents it")]
    #[oai(status = 401, content_type = "application/json")]
    Unauthenticated(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// `{"detail":"Not found."}`: the caller has no live session with that id (another user's session is answered
    /// exactly as one that never existed).
    #[oai(status = 404, content_type = "application/json")]
    NotFound(Json<ErrorBody>),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

impl_from_store_error!(RevokeFailure);

/// Sessions revoked after the password was re-entered.
#[derive(ApiResponse, Debug)]
enum LogoutManyResponse {
    /// `{"revoked":N}`: how many sessions were revoked.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<Revoked>),
}

/// Why a request with a re-entered password did nothing (shared with the account routes).
#[derive(ApiResponse, Debug)]
pub(crate) enum ReauthFailure {
    /// A wrong or missing password (`{"password":[…]}`), or a body that cannot be parsed (`{"detail":…}`).
    #[oai(status = 400, content_type = "application/json")]
    Invalid(Json<PasswordProblem>),
    /// Not authenticated, as `TokenAuth` answers it, before the body is looked at.
    #[allow(dead_code, reason = "TokenAuth answers the 401 before the handler runs; the variant documents it")]
    #[oai(status = 401, content_type = "application/json")]
    Unauthenticated(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
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

impl_from_failure!(ReauthFailure);
impl_from_throttled!(ReauthFailure);
impl_from_body_error!(ReauthFailure, |body: Json<ErrorBody>| ReauthFailure::Invalid(Json(PasswordProblem::Malformed(
    body.0
))));

impl From<ReauthError> for ReauthFailure {
    fn from(e: ReauthError) -> Self {
        match e {
            ReauthError::WrongPassword => wrong_password(),
            ReauthError::Throttled(throttled) => throttled.into(),
            ReauthError::Failed(failure) => failure.into(),
        }
    }
}

/// 400 `{"password":["Your password was entered incorrectly. …"]}`.
fn wrong_password() -> ReauthFailure {
    ReauthFailure::Invalid(Json(PasswordProblem::Fields(PasswordErrors { password: vec![WRONG_PASSWORD.into()] })))
}

/// Which sessions a re-entered password ends.
enum Scope {
    Others,
    All,
}

#[OpenApi(tag = "Tag::SessionInventory")]
impl SessionsApi {
    /// List my sessions
    ///
    /// The caller's live sessions (neither expired nor idle), newest first; `current` marks the one of this request.
    #[oai(path = "/sessions/", method = "get", operation_id = "sessions")]
    async fn list(&self, service: Data<&AuthService>, auth: TokenAuth) -> Result<ListResponse, AuthFailure> {
        let sessions = service.list_sessions(&auth.0).await?;
        let bodies = sessions.iter().map(|s| SessionBody::new(s, &auth.0.session)).collect();
        Ok(ListResponse::Ok(Json(bodies)))
    }

    /// Revoke one session
    ///
    /// Revokes one of the caller's sessions by its public id, this request's own included.
    #[oai(path = "/sessions/:id/", method = "delete", operation_id = "revoke_session")]
    async fn revoke(
        &self,
        service: Data<&AuthService>,
        auth: TokenAuth,
        /// The session's public id, as `GET {prefix}/sessions/` lists it.
        id: Path<String>,
        request: &poem::Request,
    ) -> Result<RevokeResponse, RevokeFailure> {
        if service.revoke_session(&auth.0, &id.0, &crate::client_ip::client_info(request)).await? {
            return Ok(RevokeResponse::NoContent);
        }
        Err(RevokeFailure::NotFound(detail_body("Not found.")))
    }

    /// Log out everywhere else
    ///
    /// Revokes every session of the caller but this request's, once the caller has re-entered the password.
    #[oai(path = "/logout/others/", method = "post", operation_id = "logout_others")]
    async fn logout_others(
        &self,
        service: Data<&AuthService>,
        auth: TokenAuth,
        request: &poem::Request,
        body: FieldsBody<PasswordFields>,
    ) -> Result<LogoutManyResponse, ReauthFailure> {
        logout_many(&service, &auth, request, body, Scope::Others).await
    }

    /// Log out everywhere
    ///
    /// Revokes every session of the caller, this request's included, once the caller has re-entered the password.
    #[oai(path = "/logout/all/", method = "post", operation_id = "logout_all")]
    async fn logout_all(
        &self,
        service: Data<&AuthService>,
        auth: TokenAuth,
        request: &poem::Request,
        body: FieldsBody<PasswordFields>,
    ) -> Result<LogoutManyResponse, ReauthFailure> {
        logout_many(&service, &auth, request, body, Scope::All).await
    }
}

async fn logout_many(
    service: &AuthService,
    auth: &TokenAuth,
    request: &poem::Request,
    body: FieldsBody<PasswordFields>,
    scope: Scope,
) -> Result<LogoutManyResponse, ReauthFailure> {
    let password = reentered(body)?;
    let client = crate::client_ip::client_info(request);
    let revoked = match scope {
        Scope::Others => service.logout_others(&auth.0, &password, &client).await?,
        Scope::All => service.logout_all(&auth.0, &password, &client).await?,
    };
    Ok(LogoutManyResponse::Ok(Json(Revoked { revoked })))
}

/// The re-entered password of the body; a missing or non-string one is a wrong one.
pub(crate) fn reentered(body: FieldsBody<PasswordFields>) -> Result<Password, ReauthFailure> {
    let FieldValue::Text(password) = body.fields?.take("password") else {
        return Err(wrong_password());
    };
    Ok(Password::new(password))
}
