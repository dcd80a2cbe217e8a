//! The HTTP API of authtoken over poem and poem-openapi: login, logout, registration, the current user,
//! the OpenAPI document and Swagger UI, and a reusable `Authorization: Token <t>` security scheme.
//!
//! Only this crate knows HTTP, JSON and OpenAPI. Its request and response types convert into core types at the edge.
//!
//! # In a host application
//!
//! - [`app`] is the whole service as one poem endpoint, to serve alone or to mount beside a host's own routes.
//! - [`TokenAuth`] protects a host's own poem-openapi endpoints: take it as a parameter, return
//!   `Result<_, AuthFailure>` so the document lists its 401, and wrap the routes in [`TokenLayer`]. The example on
//!   [`TokenAuth`] shows the three together; `examples/poem-host` in the repository is a whole application.

#![deny(missing_docs)]

mod api;
mod body;
mod client_ip;
mod config;
mod cors;
mod document;
mod envelope;
mod error;
mod security;
mod user;

use std::sync::{Arc, OnceLock};

use authtoken_core::AuthService;
use bytes::Bytes;
use poem::http::{Method, header};
use poem::middleware::{CatchPanic, Compression, NormalizePath, TrailingSlash};
use poem::web::CompressionAlgo;
use poem::{Endpoint, EndpointExt as _, Request, Response, Route};
use poem_openapi::{OpenApi, OpenApiService};

#[doc(hidden)]
pub use body::{ReadBody, read_body};
pub use client_ip::{InvalidTrustedProxy, TrustedProxies};
pub use config::{
    HttpConfig, InvalidPrefix, InvalidRedirect, UserField, parse_prefix, parse_redirect, parse_user_fields,
};
pub use cors::{AllowedOrigins, InvalidOrigin};
pub use error::{AuthFailure, ErrorBody};
pub use security::{TokenAuth, TokenLayer};

/// The title of the OpenAPI document.
pub const API_TITLE: &str = "authtoken";

/// The whole service: the auth routes under the prefix, `/openapi.json`, `/docs`, `/healthz` and `/readyz`.
pub fn app(service: AuthService, config: HttpConfig) -> impl Endpoint {
    let features = Features::of(&service);
    let parts = parts_for(&config, service.config(), features);
    let logout_path = format!("{}/logout", config.prefix);
    let mut allowed = envelope::AllowedMethods::from_apis(&config.prefix, &parts.meta);
    // The health routes are operations of their own service, mounted at the root of the site.
    let health = Arc::new(health_service().map_to_response().boxed());
    let mut route = Route::new()
        .nest(&config.prefix, parts.api.with(NormalizePath::new(TrailingSlash::Trim)))
        .at("/healthz", health.clone())
        .at("/readyz", health);
    let mut fixed = vec!["/healthz", "/readyz"];
    if config.docs_enabled {
        let documents = || Compression::new().algorithms([CompressionAlgo::GZIP, CompressionAlgo::BR]);
        route = route
            .at("/openapi.json", poem::get(parts.spec.with(documents())))
            .nest("/docs", poem::get(parts.docs.with(documents())));
        fixed.extend(["/openapi.json", "/docs"]);
    }
    for path in fixed {
        allowed.add(path, &[Method::GET]);
    }
    let cross_origin = !config.cors_allowed_origins.is_empty();
    // The login handler reads the trusted proxies from the request, so an API mounted without them trusts none.
    // CORS goes outside the envelopes, which need the routes' errors as errors, not yet as answers.
    route
        .data(config.trusted_proxies)
        .with(TokenLayer::new(service.clone()))
        .with(envelope::Envelopes::new(service, logout_path, allowed))
        .with_if(cross_origin, cors::CrossOrigin::new(config.cors_allowed_origins))
        .with(CatchPanic::new().with_handler(|_| envelope::panicked()))
}

/// The OpenAPI document of the service as [`app`] would serve it, for a service with the domain settings `core` and
/// `features`. It needs no service, so no database either.
pub fn openapi_json(config: &HttpConfig, core: &authtoken_core::Config, features: Features) -> String {
    parts_for(config, core, features).document
}

/// What a service does beyond the routes every configuration has, as [`AuthService`] was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// Registration asks for an email and mails a confirmation link ([`AuthService::confirms_email`]).
    pub confirms_email: bool,
    /// Password reset by email is on ([`AuthService::resets_passwords`]).
    pub resets_passwords: bool,
}

impl Features {
    /// The features of `service`.
    pub fn of(service: &AuthService) -> Self {
        Self { confirms_email: service.confirms_email(), resets_passwords: service.resets_passwords() }
    }
}

/// The endpoints and document of the routes that `config` and `features` turn on.
fn parts_for(config: &HttpConfig, core: &authtoken_core::Config, features: Features) -> Parts {
    let rules = document::FieldRules {
        password_min_length: core.password_min_length,
        confirms_email: features.confirms_email,
        token_prefix: core.token_prefix,
    };
    let reset = match (features.resets_passwords, config.password_reset_form) {
        (false, _) => Reset::Off,
        (true, false) => Reset::Api,
        (true, true) => Reset::ApiAndForm,
    };
    let c = config.clone();
    match routes(config, features.confirms_email) {
        Routes::Sessions => with_reset(move || always(&c), config, reset, rules),
        Routes::Registration => with_reset(move || (always(&c), api::RegistrationApi), config, reset, rules),
        Routes::Confirmation => with_reset(
            move || (always(&c), api::RegistrationApi, api::ConfirmApi::new(&c), api::ConfirmedPageApi),
            config,
            reset,
            rules,
        ),
        Routes::ScannerSafeConfirmation => with_reset(
            move || (always(&c), api::RegistrationApi, api::ScannerSafeConfirmApi::new(&c), api::ConfirmedPageApi),
            config,
            reset,
            rules,
        ),
    }
}

/// Which password reset routes exist: none, the JSON ones, or those and the built-in form.
#[derive(Clone, Copy)]
enum Reset {
    Off,
    Api,
    ApiAndForm,
}

/// The parts of the routes `base` makes, with the password reset routes that `reset` names.
fn with_reset<B: OpenApi + 'static>(
    base: impl Fn() -> B + Send + Sync + 'static,
    config: &HttpConfig,
    reset: Reset,
    rules: document::FieldRules,
) -> Parts {
    let c = config.clone();
    match reset {
        Reset::Off => parts(move || api_service(base(), &c), rules),
        Reset::Api => parts(move || api_service((base(), api::ResetApi), &c), rules),
        Reset::ApiAndForm => parts(move || api_service((base(), api::ResetApi, api::ResetFormApi), &c), rules),
    }
}

/// The routes of every configuration: login, logout and the current user, the session inventory, the account, and
/// its audit trail.
fn always(config: &HttpConfig) -> impl OpenApi + use<> {
    (api::SessionApi::new(config), api::SessionsApi, api::AccountApi, api::EventsApi)
}

/// Which groups of routes exist: registration only when enabled, the confirmation link only with confirmation too,
/// and its `POST` only in scanner-safe mode.
enum Routes {
    Sessions,
    Registration,
    Confirmation,
    ScannerSafeConfirmation,
}

fn routes(config: &HttpConfig, confirms_email: bool) -> Routes {
    match (config.registration_enabled, confirms_email, config.confirm_via_post) {
        (false, _, _) => Routes::Sessions,
        (true, false, _) => Routes::Registration,
        (true, true, false) => Routes::Confirmation,
        (true, true, true) => Routes::ScannerSafeConfirmation,
    }
}

/// The health routes' own service: they live at the root of the site, so without the prefix.
fn health_service() -> OpenApiService<api::HealthApi, ()> {
    OpenApiService::new(api::HealthApi, API_TITLE, env!("CARGO_PKG_VERSION"))
}

fn api_service<T: OpenApi>(api: T, config: &HttpConfig) -> OpenApiService<T, ()> {
    OpenApiService::new(api, API_TITLE, env!("CARGO_PKG_VERSION"))
        .description("Per-login tokens that can be revoked one session at a time. Send `Authorization: Token <token>`.")
        .url_prefix(config.prefix.clone())
}

struct Parts {
    /// The OpenAPI document, as `/openapi.json` serves it.
    document: String,
    /// The operations of the API, for the `Allow` header of a 405.
    meta: Vec<poem_openapi::registry::MetaApi>,
    api: poem::endpoint::BoxEndpoint<'static>,
    spec: poem::endpoint::BoxEndpoint<'static>,
    docs: poem::endpoint::BoxEndpoint<'static>,
}

/// The endpoints of the service that `make` builds; the document is written once, and the Swagger UI page is built
/// on its first request.
fn parts<T: OpenApi + 'static>(
    make: impl Fn() -> OpenApiService<T, ()> + Send + Sync + 'static,
    rules: document::FieldRules,
) -> Parts {
    let service = make();
    let document = document::document(&service, rules);
    let spec = Bytes::from(document.clone());
    Parts {
        document: document.clone(),
        meta: T::meta(),
        spec: poem::endpoint::make_sync(move |_| {
            Response::builder().content_type("application/json").body(spec.clone())
        })
        .boxed(),
        docs: LazyDocs { build: move || document::swagger_ui(&make(), &document), page: OnceLock::new() }.boxed(),
        api: service.map_to_response().boxed(),
    }
}

/// What the Swagger UI page may load: its own inline script and style, images inlined as data, and the document
/// from this site; nothing from elsewhere, and no framing.
const DOCS_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Swagger UI, built when it is first asked for: the page carries the whole Swagger bundle (1.6 MB), which a
/// service that nobody browses need not build nor hold. Each answer shares the one page instead of copying it.
struct LazyDocs<F> {
    build: F,
    page: OnceLock<Bytes>,
}

impl<F: Fn() -> String + Send + Sync> Endpoint for LazyDocs<F> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if !matches!(req.uri().path(), "" | "/") {
            return Err(poem::error::NotFoundError.into());
        }
        let page = self.page.get_or_init(|| Bytes::from((self.build)()));
        Ok(Response::builder()
            .content_type("text/html; charset=utf-8")
            .header(header::CONTENT_SECURITY_POLICY, DOCS_POLICY)
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .body(page.clone()))
    }
}
