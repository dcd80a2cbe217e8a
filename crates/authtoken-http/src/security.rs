//! The `Authorization: Token <t>` security scheme, and the layer that serves it to any poem application.

use authtoken_core::AuthService;
use authtoken_core::service::Authenticated;
use poem::http::header;
use poem::{Endpoint, Middleware, Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::error::{AuthFailure, Outage, detail_response};

/// The scheme's name in OpenAPI documents.
const SCHEME: &str = "TokenAuth";

/// What OpenAPI documents say of the scheme, for the people and generators that read them.
const DESCRIPTION: &str = "Send `Authorization: Token <token>`, the 64-character token a login answered with \
(the keyword `Token` is case-insensitive). Only a valid, unexpired token of an active user is accepted; every \
refusal is a 401 with `WWW-Authenticate: Token`.";

/// Token authentication: `Authorization: Token <64 characters>` (the keyword is case-insensitive).
///
/// As a handler parameter it admits only requests with a valid, unexpired token of an active user, and gives the
/// handler the session and its user. Every refusal is an [`AuthFailure`]: a 401 with `WWW-Authenticate: Token`,
/// a missing or unreadable header included. The application must be wrapped in a [`TokenLayer`].
///
/// ```
/// use authtoken_core::AuthService;
/// use authtoken_http::{AuthFailure, TokenAuth, TokenLayer};
/// use poem::{Endpoint, EndpointExt as _};
/// use poem_openapi::payload::PlainText;
/// use poem_openapi::{OpenApi, OpenApiService};
///
/// struct Account;
///
/// #[OpenApi]
/// impl Account {
///     /// Who the token belongs to.
///     #[oai(path = "/whoami", method = "get")]
///     async fn whoami(&self, auth: TokenAuth) -> Result<PlainText<String>, AuthFailure> {
///         Ok(PlainText(auth.0.user.username))
///     }
/// }
///
/// fn account_app(service: AuthService) -> impl Endpoint {
///     OpenApiService::new(Account, "Account", "1.0").with(TokenLayer::new(service))
/// }
/// ```
#[derive(Debug)]
pub struct TokenAuth(pub Authenticated);

/// Written out rather than derived: the derived scheme refuses a missing header with poem-openapi's own error
/// before authtoken sees the request, and only a layer that rewrote errors could turn that into the contract's 401.
impl<'a> ApiExtractor<'a> for TokenAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            SCHEME,
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some(DESCRIPTION),
                name: Some("Authorization"),
                key_in: Some("header"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![SCHEME]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let Some(service) = req.data::<AuthService>() else {
            // A mistake in the application's wiring, not an answer of the scheme: a 500 it does not document.
            tracing::error!("TokenAuth used without a TokenLayer around the application");
            let outage = Outage::Internal;
            return Err(poem::Error::from_response(detail_response(outage.status(), &outage)));
        };
        let header = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
        match service.authenticate(header).await {
            Ok(authenticated) => Ok(Self(authenticated)),
            Err(e) => Err(AuthFailure::from(e).into()),
        }
    }
}

/// Serves [`TokenAuth`]: hands it the [`AuthService`] of the requests it wraps.
///
/// It does authentication only: every answer of the application, its own 401, 404, 405, 413 or 415 included,
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
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        req.extensions_mut().insert(self.service.clone());
        self.inner.call(req).await
    }
}
