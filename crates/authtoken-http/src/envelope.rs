//! The middleware around authtoken's own routes that answers the framework's refusals (404, 405 with its `Allow`
//! header, a panic) in Django REST framework's shapes, and gives every response the default security headers.
//! Host applications that reuse [`crate::TokenLayer`] never get it: their answers stay their own.

use authtoken_core::AuthService;
use poem::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse as _, Middleware, Request, Response};
use poem_openapi::registry::MetaApi;

use crate::error::{AuthFailure, Outage, RouteError, detail_response};

/// The headers every response of authtoken gets unless its route set its own: no MIME sniffing, no framing, and
/// a content security policy that lets a JSON answer load nothing. Pages set a policy of their own.
const DEFAULT_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// Gives an answer the default security headers that it does not set itself.
pub(crate) fn secure(headers: &mut HeaderMap) {
    for (name, value) in &DEFAULT_HEADERS {
        headers.entry(name).or_insert_with(|| HeaderValue::from_static(value));
    }
}

/// Django REST framework's envelopes for the framework's refusals on authtoken's routes.
#[derive(Clone, Debug)]
pub(crate) struct Envelopes {
    service: AuthService,
    logout_path: String,
    allowed: AllowedMethods,
}

impl Envelopes {
    /// `logout_path` is a path whose other methods authenticate first, as upstream's view does: unauthenticated
    /// they answer 401, authenticated 405. `allowed` names the methods of every path, for a 405's `Allow`.
    pub(crate) fn new(service: AuthService, logout_path: String, allowed: AllowedMethods) -> Self {
        Self { service, logout_path, allowed }
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
        let mut response = self.answer(req).await;
        secure(response.headers_mut());
        Ok(response)
    }
}

impl<E: Endpoint> EnvelopesEndpoint<E> {
    /// The inner endpoint's answer, or the envelope of its refusal.
    async fn answer(&self, req: Request) -> Response {
        let method = req.method().clone();
        // Kept for the `Allow` of a 405; cloning a URI shares its bytes instead of copying them.
        let uri = req.uri().clone();
        let is_logout = self.envelopes.logout_path == req.uri().path().trim_end_matches('/');
        // Kept for the logout rule below; cloning a header value shares its bytes instead of copying them.
        let authorization = is_logout.then(|| req.headers().get(header::AUTHORIZATION).cloned()).flatten();
        let error = match self.inner.call(req).await {
            Ok(response) => return response.into_response(),
            Err(error) => error,
        };
        if error.is::<poem::error::NotFoundError>() {
            return detail_response(StatusCode::NOT_FOUND, &RouteError::NotFound);
        }
        if !error.is::<poem::error::MethodNotAllowedError>() {
            return error.into_response();
        }
        if is_logout
            && let Err(e) = self.envelopes.service.authenticate(authorization.as_ref().map(|v| v.as_bytes())).await
        {
            return AuthFailure::from(e).into_response();
        }
        let mut response = detail_response(StatusCode::METHOD_NOT_ALLOWED, &RouteError::MethodNotAllowed(method));
        if let Some(allow) = self.envelopes.allowed.of(uri.path()) {
            response.headers_mut().insert(header::ALLOW, allow.clone());
        }
        response
    }
}

/// The methods each of authtoken's paths answers, for the `Allow` header that RFC 9110 requires on a 405.
#[derive(Clone, Debug, Default)]
pub(crate) struct AllowedMethods(Vec<(Vec<Segment>, HeaderValue)>);

/// A segment of a path: a literal, or a parameter that matches any one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Any,
}

impl AllowedMethods {
    /// The operations of `apis` mounted under `prefix`; a path that answers `GET` answers `HEAD` too, as poem does.
    pub(crate) fn from_apis(prefix: &str, apis: &[MetaApi]) -> Self {
        let mut methods = Self::default();
        for path in apis.iter().flat_map(|api| &api.paths) {
            let answered: Vec<Method> = path.operations.iter().map(|operation| operation.method.clone()).collect();
            methods.add(&format!("{prefix}{}", path.path), &answered);
        }
        methods
    }

    /// Adds a path (`{name}` or `:name` segments match any one segment) and the methods it answers.
    pub(crate) fn add(&mut self, path: &str, answered: &[Method]) {
        const ORDER: [Method; 6] =
            [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
        let with_head = answered.contains(&Method::GET);
        let listed: Vec<&str> = ORDER
            .iter()
            .filter(|method| answered.contains(method) || (**method == Method::HEAD && with_head))
            .map(Method::as_str)
            .collect();
        if let Ok(value) = HeaderValue::from_str(&listed.join(", ")) {
            self.0.push((segments(path), value));
        }
    }

    /// The `Allow` value of the first path that `path` matches.
    fn of(&self, path: &str) -> Option<&HeaderValue> {
        let requested: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.0.iter().find(|(pattern, _)| matches(pattern, &requested)).map(|(_, value)| value)
    }
}

fn segments(path: &str) -> Vec<Segment> {
    path.trim_matches('/')
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') || segment.starts_with(':') {
                Segment::Any
            } else {
                Segment::Literal(segment.to_owned())
            }
        })
        .collect()
}

fn matches(pattern: &[Segment], requested: &[&str]) -> bool {
    pattern.len() == requested.len()
        && pattern.iter().zip(requested).all(|(segment, requested)| match segment {
            Segment::Any => !requested.is_empty(),
            Segment::Literal(literal) => literal == requested,
        })
}

/// A handler panicked: 500 with the generic body and the security headers (it is answered outside
/// [`Envelopes`]), and the fact in the log.
pub(crate) fn panicked() -> Response {
    tracing::error!("a request handler panicked");
    let mut response = detail_response(Outage::Internal.status(), &Outage::Internal);
    secure(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_to_a_panic_has_the_security_headers() {
        let response = panicked();

        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in &DEFAULT_HEADERS {
            assert_eq!(response.headers().get(name).and_then(|v| v.to_str().ok()), Some(*value), "{name}");
        }
    }
}
