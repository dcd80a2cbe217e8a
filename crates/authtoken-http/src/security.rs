//! The `Authorization: Token <t>` security scheme, and the layer that serves it to any poem application.

use authtoken_core::AuthService;
use authtoken_core::header::{Credentials, parse_authorization};
use authtoken_core::service::{AuthenticateError, Authenticated};
use poem::http::{Method, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;

use crate::envelope::ApiError;

/// Token authentication: `Authorization: Token <64 characters>` (the keyword is case-insensitive).
///
/// As a handler parameter it admits only requests with a valid, unexpired token of an active user.
/// The application must be wrapped in a [`TokenLayer`].
#[derive(SecurityScheme, Debug)]
#[oai(rename = "TokenAuth", ty = "api_key", key_in = "header", key_name = "Authorization", checker = "check_token")]
pub struct TokenAuth(pub Authenticated);

async fn check_token(req: &Request, _: ApiKey) -> poem::Result<Authenticated> {
    let Some(service) = req.data::<AuthService>() else {
        tracing::error!("TokenAuth used without a TokenLayer around the application");
        return Err(ApiError::Internal.into());
    };
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    service.authenticate(header).await.map_err(|e| ApiError::from(e).into())
}

/// Serves [`TokenAuth`]: hands it the [`AuthService`] and answers with the contract's envelopes
/// (401 with `WWW-Authenticate: Token`, 404, 405, 413, 415, malformed bodies).
#[derive(Clone, Debug)]
pub struct TokenLayer {
    service: AuthService,
    logout_path: Option<String>,
}

impl TokenLayer {
    pub fn new(service: AuthService) -> Self {
        Self { service, logout_path: None }
    }

    /// A path whose other methods authenticate first: unauthenticated they answer 401, authenticated 405.
    pub(crate) fn with_logout_path(mut self, path: String) -> Self {
        self.logout_path = Some(path);
        self
    }
}

impl<E: Endpoint> Middleware<E> for TokenLayer {
    type Output = TokenEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        TokenEndpoint { inner, layer: self.clone() }
    }
}

/// The endpoint [`TokenLayer`] makes.
#[derive(Debug)]
pub struct TokenEndpoint<E> {
    inner: E,
    layer: TokenLayer,
}

impl<E: Endpoint> Endpoint for TokenEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let method = req.method().clone();
        // Kept for the error paths below; cloning a header value shares its bytes instead of copying them.
        let authorization = req.headers().get(header::AUTHORIZATION).cloned();
        let is_logout = self.layer.logout_path.as_deref().is_some_and(|p| p == req.uri().path().trim_end_matches('/'));
        req.extensions_mut().insert(self.layer.service.clone());
        let error = match self.inner.call(req).await {
            Ok(response) => return Ok(response.into_response()),
            Err(error) => error,
        };
        if error.is::<poem::error::MethodNotAllowedError>()
            && is_logout
            && let Err(e) = self.layer.service.authenticate(authorization.as_ref().map(|v| v.as_bytes())).await
        {
            return Ok(ApiError::from(e).into_response());
        }
        Ok(envelope(error, method, authorization.as_ref().map(|v| v.as_bytes())))
    }
}

/// Turns the errors of poem and poem-openapi into the contract's envelopes; others keep their own response.
fn envelope(error: poem::Error, method: Method, authorization: Option<&[u8]>) -> Response {
    use poem::error::{MethodNotAllowedError, NotFoundError, ReadBodyError};
    use poem_openapi::error::{AuthorizationError, ContentTypeError, ParseRequestPayloadError};

    let api_error = if error.is::<NotFoundError>() {
        ApiError::NotFound
    } else if error.is::<MethodNotAllowedError>() {
        ApiError::MethodNotAllowed(method)
    } else if error.is::<AuthorizationError>() {
        // poem-openapi refuses a missing or non-ASCII header before the checker runs; judge it as the checker would.
        ApiError::from(match parse_authorization(authorization) {
            Credentials::Absent => AuthenticateError::NotProvided,
            Credentials::Missing => AuthenticateError::NoCredentials,
            Credentials::Malformed | Credentials::Token(_) => AuthenticateError::InvalidToken,
        })
    } else if let Some(e) = error.downcast_ref::<ContentTypeError>() {
        ApiError::UnsupportedMediaType(match e {
            ContentTypeError::NotSupported { content_type } => content_type.clone(),
            ContentTypeError::ExpectContentType => String::new(),
        })
    } else if let Some(e) = error.downcast_ref::<ParseRequestPayloadError>() {
        ApiError::JsonParse(e.reason.clone())
    } else if matches!(error.downcast_ref::<ReadBodyError>(), Some(ReadBodyError::PayloadTooLarge)) {
        ApiError::PayloadTooLarge
    } else {
        return error.into_response();
    };
    api_error.into_response()
}
