//! Cross-origin requests from browsers (`cors_allowed_origins`): the origins allowed to call the API, and the
//! middleware that answers their preflights and lets their pages read the answers, through poem's `Cors`.
//!
//! Credentials are not cookies here: a page sends its token in `Authorization`, so no answer allows credentials,
//! and a request from an origin that is not listed is served as it would be without CORS, only without the
//! headers that would let its page read the answer. poem's `Cors` alone would refuse every request that names
//! another origin with a 403, the service's own pages' form posts included; it only ever sees a listed origin.

use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::middleware::{Cors, CorsEndpoint};
use poem::{Endpoint, IntoResponse as _, Middleware, Request, Response};

use crate::envelope::secure;
use crate::error::detail_response;

/// The origins whose pages may call the API, such as `https://app.example.org`; empty (the default) sends no CORS
/// header at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

/// A `cors_allowed_origins` entry that is not an origin.
#[derive(Debug, thiserror::Error)]
pub enum InvalidOrigin {
    /// Not `scheme://host[:port]` with the scheme `http` or `https`, written as a browser sends it.
    #[error(
        "`{entry}` is not an origin such as `https://app.example.org` or `http://localhost:3000`{hint}: write the \
         scheme, the host and a port other than the scheme's default, and no path"
    )]
    NotAnOrigin {
        /// The entry as written.
        entry: String,
        /// What a browser would send for an entry it almost matches, as ` (a browser sends `…`)`, or empty.
        hint: String,
    },
    /// `*`, which is refused.
    #[error(
        "`*` is refused: it would let every site's pages use their visitors' browsers to try passwords and read \
         the answers; list the origins of your front ends"
    )]
    Wildcard,
}

impl AllowedOrigins {
    /// No origin: the service sends no CORS header.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads a comma list of origins; each must be exactly what a browser sends in `Origin` (the host in lower
    /// case, no default port, no path), so that the comparison with `Origin` is exact.
    pub fn parse(text: &str) -> Result<Self, InvalidOrigin> {
        let mut origins = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let origin = parse_origin(entry)?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins))
    }

    /// Whether no origin is allowed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The origins, as a browser writes them.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        self.0.iter().any(|allowed| allowed.as_bytes() == origin.as_bytes())
    }
}

fn parse_origin(entry: &str) -> Result<String, InvalidOrigin> {
    if entry == "*" {
        return Err(InvalidOrigin::Wildcard);
    }
    let invalid = |hint: String| InvalidOrigin::NotAnOrigin { entry: entry.to_owned(), hint };
    let url = url::Url::parse(entry).map_err(|_| invalid(String::new()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(String::new()));
    }
    let origin = url.origin().ascii_serialization();
    if !origin.eq_ignore_ascii_case(entry) {
        return Err(invalid(format!(" (a browser sends `{origin}`)")));
    }
    Ok(origin)
}

/// The methods the API answers; a preflight for another is refused.
const METHODS: [Method; 4] = [Method::GET, Method::HEAD, Method::POST, Method::DELETE];

/// The answer headers a page may read beyond the CORS-safelisted ones: the challenge of a 401 and the wait of a 429.
const EXPOSED: [header::HeaderName; 2] = [header::WWW_AUTHENTICATE, header::RETRY_AFTER];

/// Answers the preflights of the listed origins and lets their pages read the answers.
#[derive(Clone, Debug)]
pub(crate) struct CrossOrigin {
    origins: AllowedOrigins,
}

impl CrossOrigin {
    pub(crate) fn new(origins: AllowedOrigins) -> Self {
        Self { origins }
    }
}

impl<E: Endpoint> Middleware<E> for CrossOrigin {
    type Output = CrossOriginEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        let inner = Arc::new(inner);
        let cors = Cors::new()
            .allow_origins(self.origins.iter())
            .allow_methods(METHODS)
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers(EXPOSED)
            .allow_credentials(false);
        CrossOriginEndpoint { cors: cors.transform(Arc::clone(&inner)), inner, origins: self.origins.clone() }
    }
}

/// The endpoint [`CrossOrigin`] makes.
pub(crate) struct CrossOriginEndpoint<E> {
    inner: Arc<E>,
    cors: CorsEndpoint<Arc<E>>,
    origins: AllowedOrigins,
}

impl<E> std::fmt::Debug for CrossOriginEndpoint<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossOriginEndpoint").field("origins", &self.origins).finish_non_exhaustive()
    }
}

impl<E: Endpoint> Endpoint for CrossOriginEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let listed = req.headers().get(header::ORIGIN).is_some_and(|origin| self.origins.allows(origin));
        // An `OPTIONS` that asks for no method is no preflight: the route answers it (with its 405).
        let preflight_or_plain =
            req.method() != Method::OPTIONS || req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let mut response = if listed && preflight_or_plain {
            match self.cors.call(req).await {
                Ok(response) => response,
                // A preflight for a method or header the API does not take.
                Err(refused) => detail_response(StatusCode::FORBIDDEN, &refused),
            }
        } else {
            self.inner.call(req).await?.into_response()
        };
        let headers = response.headers_mut();
        secure(headers);
        // Whether the answer carries `Access-Control-Allow-Origin` depends on `Origin`, so caches must know.
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Result<&[&str], &str>) {
        let parsed = AllowedOrigins::parse(text);

        match (parsed, expected) {
            (Ok(origins), Ok(expected)) => assert_eq!(origins.iter().collect::<Vec<_>>(), expected, "{text:?}"),
            (Err(error), Err(expected)) => assert!(error.to_string().contains(expected), "{text:?}: {error}"),
            (got, expected) => panic!("{text:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        check("", Ok(&[]));
        check(" , ", Ok(&[]));
        check("https://app.example.org", Ok(&["https://app.example.org"]));
        check("https://App.Example.org", Ok(&["https://app.example.org"]));
        check(
            "http://localhost:3000, https://app.example.org,http://localhost:3000",
            Ok(&["http://localhost:3000", "https://app.example.org"]),
        );
        check("http://[::1]:8080", Ok(&["http://[::1]:8080"]));
        check("https://app.example.org/", Err("`https://app.example.org/` is not an origin"));
        check("https://app.example.org/app", Err("a browser sends `https://app.example.org`"));
        check("https://app.example.org:443", Err("a browser sends `https://app.example.org`"));
        check("https://user@app.example.org", Err("`https://user@app.example.org` is not an origin"));
        check("https://app.example.org?x", Err("is not an origin"));
        check("app.example.org", Err("`app.example.org` is not an origin"));
        check("ftp://app.example.org", Err("`ftp://app.example.org` is not an origin"));
        check("null", Err("`null` is not an origin"));
        check("*", Err("`*` is refused"));
        check("https://app.example.org, *", Err("`*` is refused"));
    }
}
