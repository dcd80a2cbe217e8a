//! The `Authorization: Token <t>` security scheme, and the layer that serves it to any poem application.

use authtoken_core::AuthService;
use authtoken_core::header::{Credentials, parse_authorization};
use authtoken_core::service::{AuthenticateError, Authenticated};
use poem::http::header;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;
use poem_openapi::error::AuthorizationError;

use crate::error::{AuthFailure, Outage};

/// Token authentication: send `Authorization: Token <token>`, the 64-character token a login answered with
/// (the keyword `Token` is case-insensitive).
///
/// Only a valid, unexpired token of an active user is accepted; every refusal is a 401 with
/// `WWW-Authenticate: Token`.
// What follows is for Rust readers only: poem-openapi copies the plain doc lines above into the OpenAPI document,
// and skips attributes that are not plain doc lines, such as this one.
#[cfg_attr(
    doc,
    doc = r#"
As a handler parameter it gives the handler the session and its user. The application must be wrapped in a
[`TokenLayer`].

```
use authtoken_core::AuthService;
use authtoken_http::{AuthFailure, TokenAuth, TokenLayer};
use poem::{Endpoint, EndpointExt as _};
use poem_openapi::payload::PlainText;
use poem_openapi::{OpenApi, OpenApiService};

struct Account;

#[OpenApi]
impl Account {
    /// Who the token belongs to.
    #[oai(path = "/whoami", method = "get")]
    async fn whoami(&self, auth: TokenAuth) -> Result<PlainText<String>, AuthFailure> {
        Ok(PlainText(auth.0.user.username))
    }
}

fn account_app(service: AuthService) -> impl Endpoint {
    OpenApiService::new(Account, "Account", "1.0").with(TokenLayer::new(service))
}
```
"#
)]
#[derive(SecurityScheme, Debug)]
#[oai(rename = "TokenAuth", ty = "api_key", key_in = "header", key_name = "Authorization", checker = "check_token")]
pub struct TokenAuth(pub Authenticated);

async fn check_token(req: &Request, _: ApiKey) -> poem::Result<Authenticated> {
    let Some(service) = req.data::<AuthService>() else {
        tracing::error!("TokenAuth used without a TokenLayer around the application");
        return Err(AuthFailure::Internal(crate::error::detail_body(Outage::Internal)).into());
    };
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    service.authenticate(header).await.map_err(|e| AuthFailure::from(e).into())
}

/// Serves [`TokenAuth`]: hands it the [`AuthService`], and answers a missing or unreadable `Authorization` header
/// (which poem-openapi refuses before the scheme sees it) with the same 401 as the scheme.
///
/// It does authentication only: every other answer of the application, its own 404, 405, 413 or 415 included,
/// passes through unchanged.
#[derive(Clone, Debug)]
pub struct TokenLayer {
    service: AuthService,
}

impl TokenLayer {
    /// The layer for the service whose sessions [`TokenAuth`] accepts.
    pub fn new(service: AuthService) -> Self {
        Self { service }
    }
}

impl<E: Endpoint> Middleware<E> for TokenLayer {
    type Output = TokenEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        TokenEndpoint { inner, service: self.service.clone() }
    }
}

/// The endpoint [`TokenLayer`] makes.
#[derive(Debug)]
pub struct TokenEndpoint<E> {
    inner: E,
    service: AuthService,
}

impl<E: Endpoint> Endpoint for TokenEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        // Kept for the refusal below; cloning a header value shares its bytes instead of copying them.
        let authorization = req.headers().get(header::AUTHORIZATION).cloned();
        req.extensions_mut().insert(self.service.clone());
        match self.inner.call(req).await {
            Ok(response) => Ok(response.into_response()),
            Err(error) if error.is::<AuthorizationError>() => {
                // Judged as the scheme's checker would have judged the header.
                let refusal = match parse_authorization(authorization.as_ref().map(|v| v.as_bytes())) {
                    Credentials::Absent => AuthenticateError::NotProvided,
                    Credentials::Missing => AuthenticateError::NoCredentials,
                    Credentials::Malformed | Credentials::Token(_) => AuthenticateError::InvalidToken,
                };
                Ok(AuthFailure::from(refusal).into_response())
            }
            Err(error) => Err(error),
        }
    }
}
