//! Error responses in Django REST framework's shapes, so clients written for upstream read them unchanged.

use authtoken_core::service::{AuthenticateError, Failure};
use poem::http::{Method, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::Object;

/// The body of most error responses.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub detail: String,
}

/// The scheme named in `WWW-Authenticate` on every 401 of token authentication.
pub(crate) const CHALLENGE: &str = "Token";

/// An error answered with one of the contract's envelopes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    #[error("JSON parse error - {0}")]
    JsonParse(String),
    #[error("{0}")]
    FormParse(String),
    #[error("Request body too large.")]
    PayloadTooLarge,
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(Method),
    #[error("Not found.")]
    NotFound,
    #[error("The service is temporarily unavailable. Try again later.")]
    Unavailable,
    #[error("A server error occurred.")]
    Internal,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::JsonParse(_) | Self::FormParse(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        ApiError::status(self)
    }

    fn as_response(&self) -> Response {
        let response = json_response(self.status(), &serde_json::json!({ "detail": self.to_string() }));
        match self {
            Self::Unauthenticated(_) => response.with_header(header::WWW_AUTHENTICATE, CHALLENGE).into_response(),
            _ => response,
        }
    }
}

impl From<AuthenticateError> for ApiError {
    fn from(e: AuthenticateError) -> Self {
        match e {
            AuthenticateError::NotProvided => Self::Unauthenticated("Authentication credentials were not provided."),
            AuthenticateError::NoCredentials => Self::Unauthenticated("invalid auth header, No credentials provided."),
            AuthenticateError::InvalidToken => Self::Unauthenticated("invalid auth token"),
            AuthenticateError::Failed(failure) => failure.into(),
        }
    }
}

impl From<Failure> for ApiError {
    /// Logs the cause, which never reaches the client.
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Store(e) => {
                tracing::error!(error = &e as &dyn std::error::Error, "store failure");
                Self::Unavailable
            }
            Failure::Hash(e) => {
                tracing::error!(error = &e as &dyn std::error::Error, "password hashing failure");
                Self::Internal
            }
            Failure::Randomness(e) => {
                tracing::error!(error = &e as &dyn std::error::Error, "randomness failure");
                Self::Internal
            }
        }
    }
}

/// A compact JSON response with `Content-Type: application/json`, as upstream sends.
pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(serde_json::to_vec(value).unwrap_or_default())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        poem::error::ResponseError::as_response(&self)
    }
}
