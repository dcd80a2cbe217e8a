//! Every error the HTTP layer answers, in Django REST framework's shapes, so clients written for upstream read them
//! unchanged: the messages, the `{"detail": …}` body, [`AuthFailure`], and the conversions that handlers' own
//! response enums share. A failure outside the domain is logged here, and its cause never reaches the client.

use authtoken_core::ports::StoreError;
use authtoken_core::service::{AuthenticateError, Failure};
use poem::Response;
use poem::http::{Method, StatusCode};
use poem_openapi::ApiResponse;
use poem_openapi::Object;
use poem_openapi::payload::Json;

/// `From<Failure>` for a response enum with the variants `Unavailable` (503) and `Internal` (500).
macro_rules! impl_from_failure {
    ($response:ty) => {
        impl From<authtoken_core::service::Failure> for $response {
            fn from(failure: authtoken_core::service::Failure) -> Self {
                let outage = $crate::error::Outage::from(failure);
                let body = $crate::error::detail_body(outage);
                match outage {
                    $crate::error::Outage::Unavailable => Self::Unavailable(body),
                    $crate::error::Outage::Internal => Self::Internal(body),
                }
            }
        }
    };
}

/// `From<StoreError>` for a response enum with the variant `Unavailable` (503).
macro_rules! impl_from_store_error {
    ($response:ty) => {
        impl From<authtoken_core::ports::StoreError> for $response {
            fn from(e: authtoken_core::ports::StoreError) -> Self {
                Self::Unavailable($crate::error::detail_body($crate::error::Outage::from(e)))
            }
        }
    };
}

/// `From<BodyError>` for a response enum with the variants `PayloadTooLarge` (413) and `UnsupportedMediaType`
/// (415); `$malformed` makes its 400 from the `{"detail": …}` body of a body that cannot be parsed.
macro_rules! impl_from_body_error {
    ($response:ty, $malformed:expr) => {
        impl From<$crate::error::BodyError> for $response {
            fn from(e: $crate::error::BodyError) -> Self {
                use $crate::error::BodyError;
                let body = $crate::error::detail_body(&e);
                match e {
                    BodyError::UnsupportedMediaType(_) => Self::UnsupportedMediaType(body),
                    BodyError::PayloadTooLarge => Self::PayloadTooLarge(body),
                    BodyError::JsonParse(_)
                    | BodyError::FormParse(_)
                    | BodyError::MultipartParse(_)
                    | BodyError::Unreadable => $malformed(body),
                }
            }
        }
    };
}

/// `From<Throttled>` for a response enum with the variant `Throttled` (429 with `Retry-After`).
macro_rules! impl_from_throttled {
    ($response:ty) => {
        impl From<authtoken_core::service::Throttled> for $response {
            fn from(throttled: authtoken_core::service::Throttled) -> Self {
                let seconds = throttled.seconds();
                Self::Throttled($crate::error::detail_body($crate::error::throttled_message(seconds)), seconds)
            }
        }
    };
}

pub(crate) use {impl_from_body_error, impl_from_failure, impl_from_store_error, impl_from_throttled};

/// Django REST framework's message for a throttled request that may try again in `seconds`.
pub(crate) fn throttled_message(seconds: u64) -> String {
    let unit = if seconds == 1 { "second" } else { "seconds" };
    format!("Request was throttled. Expected available in {seconds} {unit}.")
}

/// The body of most error responses.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub detail: String,
}

/// The scheme named in `WWW-Authenticate` on every 401 of token authentication.
pub(crate) const CHALLENGE: &str = "Token";

/// Why a request that needs a token got no further.
///
/// [`TokenAuth`](crate::TokenAuth) answers its refusals with it, and a handler that takes `TokenAuth` can use it as its
/// error type, so that the OpenAPI document lists these answers:
///
/// ```
/// use authtoken_http::{AuthFailure, TokenAuth};
/// use poem_openapi::payload::PlainText;
/// use poem_openapi::{ApiResponse, OpenApi};
///
/// #[derive(ApiResponse)]
/// enum NotesResponse {
///     /// The notes of the logged-in user.
///     #[oai(status = 200)]
///     Ok(PlainText<String>),
/// }
///
/// struct Notes;
///
/// #[OpenApi]
/// impl Notes {
///     #[oai(path = "/notes", method = "get")]
///     async fn notes(&self, auth: TokenAuth) -> Result<NotesResponse, AuthFailure> {
///         Ok(NotesResponse::Ok(PlainText(format!("notes of {}", auth.0.user.username))))
///     }
/// }
/// ```
#[derive(ApiResponse, Debug)]
pub enum AuthFailure {
    /// Not authenticated: no token, a malformed one, or one that is unknown, expired or of an inactive user.
    #[oai(status = 401, content_type = "application/json")]
    Unauthenticated(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

impl From<AuthenticateError> for AuthFailure {
    fn from(e: AuthenticateError) -> Self {
        let detail = match e {
            AuthenticateError::NotProvided => "Authentication credentials were not provided.",
            AuthenticateError::NoCredentials => "invalid auth header, No credentials provided.",
            AuthenticateError::InvalidToken => "invalid auth token",
            AuthenticateError::Failed(e) => return e.into(),
        };
        Self::Unauthenticated(detail_body(detail), CHALLENGE.to_owned())
    }
}

impl_from_store_error!(AuthFailure);

/// A route-level refusal that no handler makes: the framework's, answered in Django REST framework's words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RouteError {
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(Method),
    #[error("Not found.")]
    NotFound,
}

/// A request body that could not be read into fields.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    #[error("JSON parse error - {0}")]
    JsonParse(String),
    #[error("Form parse error - {0}")]
    FormParse(String),
    #[error("Multipart form parse error - {0}")]
    MultipartParse(String),
    #[error("Request body too large.")]
    PayloadTooLarge,
    /// The body broke off, or could not be read for another reason.
    #[error("Malformed request.")]
    Unreadable,
}

/// What a failure outside the domain answers; the cause is logged when the failure becomes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Outage {
    /// The store is unavailable: 503.
    #[error("The service is temporarily unavailable. Try again later.")]
    Unavailable,
    /// Anything else: 500.
    #[error("A server error occurred.")]
    Internal,
}

impl From<Failure> for Outage {
    /// Logs the cause, which never reaches the client.
    fn from(failure: Failure) -> Self {
        let (outage, what) = match &failure {
            Failure::Store(_) => (Self::Unavailable, "store failure"),
            Failure::Hash(_) => (Self::Internal, "password hashing failure"),
            Failure::Randomness(_) => (Self::Internal, "randomness failure"),
        };
        tracing::error!(error = &failure as &(dyn std::error::Error + 'static), "{what}");
        outage
    }
}

impl From<StoreError> for Outage {
    /// Logs the cause, which never reaches the client.
    fn from(e: StoreError) -> Self {
        tracing::error!(error = &e as &(dyn std::error::Error + 'static), "store failure");
        Self::Unavailable
    }
}

impl Outage {
    /// 503 or 500.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `{"detail": message}`, for a response enum's variant.
pub(crate) fn detail_body(message: impl ToString) -> Json<ErrorBody> {
    Json(ErrorBody { detail: message.to_string() })
}

/// `{"detail": message}` with `status`, for answers made outside a handler.
pub(crate) fn detail_response(status: StatusCode, message: &dyn std::fmt::Display) -> Response {
    json_response(status, &serde_json::json!({ "detail": message.to_string() }))
}

/// A compact JSON response with `Content-Type: application/json`, as upstream sends.
pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(serde_json::to_vec(value).unwrap_or_default())
}
