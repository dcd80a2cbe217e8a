//! The middleware around authtoken's own routes that answers the framework's refusals (404, 405, a panic) in
//! Django REST framework's shapes. Host applications that reuse [`crate::TokenLayer`] never get it: their errors
//! stay their own.

use authtoken_core::AuthService;
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse as _, Middleware, Request, Response};

use crate::error::{AuthFailure, Outage, RouteError, detail_response};

/// Django REST framework's envelopes for the framework's refusals on authtoken's routes.
#[derive(Clone, Debug)]
pub(crate) struct Envelopes {
    service: AuthService,
    logout_path: String,
}

impl Envelopes {
    /// `logout_path` is a path whose other methods authenticate first, as upstream's view does: unauthenticated
    /// they answer 401, authenticated 405.
    pub(crate) fn new(service: AuthService, logout_path: String) -> Self {
        Self { service, logout_path }
    }
}

impl<E: Endpoint> Middleware<E> for Envelopes {
    type Output = EnvelopesEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        EnvelopesEndpoint { inner, envelopes: self.clone() }
    }
}

/// The endpoint [`Envelopes`] makes.
#[derive(Debug)]
pub(crate) struct EnvelopesEndpoint<E> {
    inner: E,
    envelopes: Envelopes,
}

impl<E: Endpoint> Endpoint for EnvelopesEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let method = req.method().clone();
        let is_logout = self.envelopes.logout_path == req.uri().path().trim_end_matches('/');
        // Kept for the logout rule below; cloning a header value shares its bytes instead of copying them.
        let authorization = is_logout.then(|| req.headers().get(header::AUTHORIZATION).cloned()).flatten();
        let error = match self.inner.call(req).await {
            Ok(response) => return Ok(response.into_response()),
            Err(error) => error,
        };
        if error.is::<poem::error::NotFoundError>() {
            return Ok(detail_response(StatusCode::NOT_FOUND, &RouteError::NotFound));
        }
        if !error.is::<poem::error::MethodNotAllowedError>() {
            return Ok(error.into_response());
        }
        if is_logout
            && let Err(e) = self.envelopes.service.authenticate(authorization.as_ref().map(|v| v.as_bytes())).await
        {
            return Ok(AuthFailure::from(e).into_response());
        }
        Ok(detail_response(StatusCode::METHOD_NOT_ALLOWED, &RouteError::MethodNotAllowed(method)))
    }
}

/// A handler panicked: 500 with the generic body, and the fact in the log.
pub(crate) fn panicked() -> Response {
    tracing::error!("a request handler panicked");
    detail_response(Outage::Internal.status(), &Outage::Internal)
}
