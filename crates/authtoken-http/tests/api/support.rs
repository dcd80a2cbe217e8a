//! A `TestApp` builder over the stores of one backend, and `Reply`, a response read whole so tests can assert on
//! exact bytes.
//!
//! The backend is the including binary's choice: it declares this module next to a module `stores` whose
//! `async fn fresh() -> Option<Stores>` gives empty stores, or `None` when the backend is not available here.
//! `authtoken-http` runs the suite over the testkit's `InMemoryStore`; `authtoken-server` runs the same files
//! over SQLite and PostgreSQL. So tests reach the stores only through the ports, never through a concrete store.

use std::sync::Arc;

use authtoken_core::ports::{TokenRepo, UserRepo};
use authtoken_core::service::Ports;
use authtoken_core::session::{ClientInfo, Session, SessionId};
use authtoken_core::user::UserId;
use authtoken_core::{AuthService, PlainToken};
use authtoken_http::{HttpConfig, UserField};
use authtoken_testkit::contract::Stores;
use authtoken_testkit::{FakeClock, FakePasswordHasher, fixtures};
use poem::EndpointExt as _;
use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::test::{TestClient, TestRequestBuilder};

use super::stores;

/// A password that passes the default rules (at least 8 characters).
pub const PASSWORD: &str = "correct horse";

/// A well-formed token with both URL-safe-only characters (`-` and `_`), so its standard-alphabet spelling differs.
pub const KNOWN_TOKEN: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz";

/// The endpoint under test, as `authtoken_http::app` builds it.
pub type App = BoxEndpoint<'static>;

/// The whole HTTP service over fresh stores of the backend, a `FakePasswordHasher` and a `FakeClock` at
/// `fixtures::EPOCH`, with the ports it runs on so tests can seed users, look inside the stores and move time.
pub struct TestApp {
    pub client: TestClient<App>,
    /// The sessions the service keeps: the backend's store, or the mock the builder was given.
    pub tokens: Arc<dyn TokenRepo>,
    /// The users the service keeps: the backend's store, or the mock the builder was given.
    pub users: Arc<dyn UserRepo>,
    pub clock: FakeClock,
    case_insensitive: bool,
    /// Keeps the backend's temporary database, if any, as long as the app.
    _stores: Stores,
}

/// How to build a [`TestApp`]; the defaults are the contract's (prefix `/auth`, registration off, no `user_fields`).
pub struct TestAppBuilder {
    registration_enabled: bool,
    user_fields: Option<Vec<UserField>>,
    prefix: String,
    case_insensitive: bool,
    tokens: Option<Arc<dyn TokenRepo>>,
    users: Option<Arc<dyn UserRepo>>,
}

impl TestApp {
    /// The contract's defaults; `None` when the backend is not available here (the test then passes vacuously).
    pub async fn new() -> Option<Self> {
        Self::builder().build().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            registration_enabled: false,
            user_fields: None,
            prefix: "/auth".to_owned(),
            case_insensitive: false,
            tokens: None,
            users: None,
        }
    }

    /// Creates an active user directly in the store, joined at `fixtures::EPOCH`.
    pub async fn seed_user(&self, username: &str, password: &str) -> UserId {
        let mut user = fixtures::new_user(username, password);
        user.username_key = user.username.key(self.case_insensitive);
        self.users.create(&user).await.expect("the seeded user is new").id
    }

    /// The id of the user whose username is exactly `username`; the test fails if there is none.
    pub async fn user_id(&self, username: &str) -> UserId {
        let user = self.users.find_by_username(username).await.expect("the store works");
        user.unwrap_or_else(|| panic!("no user {username:?} in the store")).id
    }

    /// Deactivates a user directly in the store.
    pub async fn deactivate(&self, user: UserId) {
        let found = self.users.set_active(user, false).await.expect("the store works");
        assert!(found, "the user to deactivate exists");
    }

    /// How many sessions `user` has in the store, expired ones included.
    pub async fn session_count(&self, user: UserId) -> usize {
        self.tokens.sessions_of(user).await.expect("the store works").len()
    }

    /// Stores a session for `user` under a token the test chose, valid for a day from now.
    pub async fn seed_session(&self, user: UserId, token: &str) {
        let token = PlainToken::parse(token.as_bytes()).expect("the seeded token is well-formed");
        let now = authtoken_core::ports::Clock::now(&self.clock);
        let config = fixtures::config();
        let session = Session {
            id: SessionId::generate().expect("the OS random number generator works"),
            digest: token.digest(),
            user_id: user,
            created_at: now,
            expires_at: now.plus(config.auth_token_validity),
            last_used_at: None,
            client: ClientInfo::default(),
        };
        self.tokens.insert(&session).await.expect("the session's user exists");
    }

    /// Logs in through `POST /auth/login/` and returns the token; the test fails unless the login succeeds.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let body = serde_json::json!({ "username": username, "password": password });
        let reply = send(self.client.post("/auth/login/").body_json(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "login failed: {}", reply.body);
        reply.token()
    }

    /// The status of a JSON login.
    pub async fn login_status(&self, username: &str, password: &str) -> StatusCode {
        let body = serde_json::json!({ "username": username, "password": password });
        send(self.client.post("/auth/login/").body_json(&body)).await.status
    }

    /// `POST path` with a JSON body given as text, so malformed and non-object bodies can be sent.
    pub async fn post_json(&self, path: &str, body: &str) -> Reply {
        send(self.client.post(path).content_type("application/json").body(body.to_owned())).await
    }

    /// `POST /auth/register/` with a JSON body given as text.
    pub async fn register(&self, body: &str) -> Reply {
        self.post_json("/auth/register/", body).await
    }

    /// `GET /auth/me/` with the given `Authorization` header, or none.
    pub async fn me(&self, authorization: Option<HeaderValue>) -> Reply {
        let mut request = self.client.get("/auth/me/");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        send(request).await
    }

    /// `GET /auth/me/` with `Authorization: <value>`.
    pub async fn me_with(&self, authorization: &str) -> Reply {
        self.me(Some(HeaderValue::from_str(authorization).expect("a valid header value"))).await
    }
}

impl TestAppBuilder {
    pub fn registration(mut self, enabled: bool) -> Self {
        self.registration_enabled = enabled;
        self
    }

    pub fn user_fields(mut self, fields: &[UserField]) -> Self {
        self.user_fields = Some(fields.to_vec());
        self
    }

    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = authtoken_http::parse_prefix(prefix).expect("a valid prefix");
        self
    }

    /// `Alice` and `alice` are the same user, at registration and at login.
    pub fn case_insensitive(mut self) -> Self {
        self.case_insensitive = true;
        self
    }

    /// Replaces the session store (usually by a mock); users stay in the backend's store.
    pub fn tokens(mut self, tokens: impl TokenRepo + 'static) -> Self {
        self.tokens = Some(Arc::new(tokens));
        self
    }

    /// Replaces the user store (usually by a mock); sessions stay in the backend's store.
    pub fn users(mut self, users: impl UserRepo + 'static) -> Self {
        self.users = Some(Arc::new(users));
        self
    }

    /// The app over fresh, empty stores; `None` when the backend is not available here.
    pub async fn build(self) -> Option<TestApp> {
        let Some(stores) = stores::fresh().await else {
            // The test does not run, so the expectations of its mocks must not be checked when they drop.
            std::mem::forget(self);
            return None;
        };
        let tokens = self.tokens.unwrap_or_else(|| Arc::clone(&stores.tokens));
        let users = self.users.unwrap_or_else(|| Arc::clone(&stores.users));
        let clock = FakeClock::at(fixtures::EPOCH);
        let ports = Ports {
            tokens: Arc::clone(&tokens),
            users: Arc::clone(&users),
            hasher: Arc::new(FakePasswordHasher::default()),
            clock: Arc::new(clock.clone()),
        };
        let config = authtoken_core::Config { username_case_insensitive: self.case_insensitive, ..fixtures::config() };
        let service = AuthService::new(ports, config);
        let http = HttpConfig {
            prefix: self.prefix,
            registration_enabled: self.registration_enabled,
            user_fields: self.user_fields,
            confirm_redirect: "/".to_owned(),
            confirm_invalid_redirect: None,
            confirm_via_post: false,
        };
        let client = TestClient::new(authtoken_http::app(service, http).map_to_response().boxed());
        Some(TestApp { client, tokens, users, clock, case_insensitive: self.case_insensitive, _stores: stores })
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends a request and reads the whole response.
pub async fn send(request: TestRequestBuilder<'_, App>) -> Reply {
    let response = request.send().await.0;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().into_vec().await.expect("the body can be read");
    let body = String::from_utf8(bytes).expect("the body is UTF-8");
    Reply { status, headers, body }
}

impl Reply {
    /// The header's value as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("an ASCII header value"))
    }

    /// Asserts the status, `Content-Type: application/json` and the exact body.
    #[track_caller]
    pub fn assert_json(&self, status: StatusCode, body: &str) {
        assert_eq!((self.status, self.body.as_str()), (status, body), "status and body");
        assert_eq!(self.header("content-type"), Some("application/json"), "content type of {}", self.body);
    }

    /// Asserts a 401 of token authentication: `{"detail":"<detail>"}` with `WWW-Authenticate: Token`.
    #[track_caller]
    pub fn assert_unauthenticated(&self, detail: &str) {
        self.assert_json(StatusCode::UNAUTHORIZED, &format!(r#"{{"detail":"{detail}"}}"#));
        assert_eq!(self.header("www-authenticate"), Some("Token"), "challenge");
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{} is not JSON: {e}", self.body))
    }

    /// The `token` of a login response.
    pub fn token(&self) -> String {
        let json = self.json();
        json["token"].as_str().unwrap_or_else(|| panic!("no token in {} {}", self.status, self.body)).to_owned()
    }
}

/// The messages of token authentication, word for word.
pub const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
pub const NO_CREDENTIALS: &str = "invalid auth header, No credentials provided.";
pub const INVALID_TOKEN: &str = "invalid auth token";

/// An active user as a store would return it, for mocks that must return one.
pub fn stored_user(id: i64, username: &str) -> authtoken_core::User {
    authtoken_core::User {
        id: UserId(id),
        username: username.to_owned(),
        email: None,
        email_confirmed: false,
        is_active: true,
        joined_at: fixtures::EPOCH,
        last_login_at: None,
    }
}
