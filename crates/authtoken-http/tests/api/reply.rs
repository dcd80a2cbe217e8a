//! `Reply`, a response read whole so tests can assert on exact bytes, `send`, which makes one, and the messages of
//! token authentication. `support.rs` re-exports them.

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, StatusCode, header};
use poem::test::TestRequestBuilder;

/// A response read whole.
#[derive(Debug)]
pub(super) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text; a body that is not UTF-8 (a compressed one) is empty here, and counted in `body_bytes`.
    pub body: String,
    pub body_bytes: usize,
}

/// Sends a request and reads the whole response.
pub(super) async fn send(request: TestRequestBuilder<'_, BoxEndpoint<'static>>) -> Reply {
    let response = request.send().await.0;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().into_vec().await.expect("the body can be read");
    let body_bytes = bytes.len();
    let body = match headers.get(header::CONTENT_ENCODING) {
        Some(_) => String::new(),
        None => String::from_utf8(bytes).expect("the body is UTF-8"),
    };
    Reply { status, headers, body, body_bytes }
}

impl Reply {
    /// The header's value as text, if present.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("an ASCII header value"))
    }

    /// Asserts the status, `Content-Type: application/json` and the exact body.
    #[track_caller]
    pub(super) fn assert_json(&self, status: StatusCode, body: &str) {
        assert_eq!((self.status, self.body.as_str()), (status, body), "status and body");
        assert_eq!(self.header("content-type"), Some("application/json"), "content type of {}", self.body);
    }

    /// Asserts a 401 of token authentication: `{"detail":"<detail>"}` with `WWW-Authenticate: Token`.
    #[track_caller]
    pub(super) fn assert_unauthenticated(&self, detail: &str) {
        self.assert_json(StatusCode::UNAUTHORIZED, &format!(r#"{{"detail":"{detail}"}}"#));
        assert_eq!(self.header("www-authenticate"), Some("Token"), "challenge");
    }

    /// The body parsed as JSON.
    pub(super) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{} is not JSON: {e}", self.body))
    }

    /// The `token` of a login response.
    pub(super) fn token(&self) -> String {
        let json = self.json();
        json["token"].as_str().unwrap_or_else(|| panic!("no token in {} {}", self.status, self.body)).to_owned()
    }
}

/// The messages of token authentication, word for word.
pub(super) const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
pub(super) const NO_CREDENTIALS: &str = "invalid auth header, No credentials provided.";
pub(super) const INVALID_TOKEN: &str = "invalid auth token";
