//! Builds an `AuthService` over the testkit fakes, and the small helpers every use-case test shares.

use std::sync::Arc;

use authtoken_core::service::{
    AuthenticateError, Authenticated, FieldValue, LoginError, LoginOutcome, Ports, RegistrationForm,
};
use authtoken_core::session::ClientInfo;
use authtoken_core::user::Password;
use authtoken_core::{AuthService, Config, PlainToken, User};
use authtoken_testkit::{FakeClock, FakePasswordHasher, InMemoryStore, fixtures};

/// A password that passes the default rules (at least 8 characters).
pub const PASSWORD: &str = "correct horse";

/// An `AuthService` over one `InMemoryStore` (tokens and users), a `FakePasswordHasher` and a `FakeClock` at
/// `fixtures::EPOCH`, with handles on the fakes so tests can look inside and move time.
pub struct App {
    pub service: AuthService,
    pub store: InMemoryStore,
    pub hasher: Arc<FakePasswordHasher>,
    pub clock: FakeClock,
    ports: Ports,
}

impl App {
    /// The contract's default configuration (`fixtures::config()`).
    pub fn new() -> Self {
        Self::with_config(fixtures::config())
    }

    pub fn with_config(config: Config) -> Self {
        let store = InMemoryStore::default();
        let hasher = Arc::new(FakePasswordHasher::default());
        let clock = FakeClock::at(fixtures::EPOCH);
        let ports = Ports {
            tokens: Arc::new(store.clone()),
            users: Arc::new(store.clone()),
            hasher: hasher.clone(),
            clock: Arc::new(clock.clone()),
        };
        let service = AuthService::new(ports.clone(), config);
        Self { service, store, hasher, clock, ports }
    }

    /// Another service over the same fakes and configuration, with some ports replaced (usually by mocks).
    pub fn service_with(&self, replace: impl FnOnce(&mut Ports)) -> AuthService {
        let mut ports = self.ports.clone();
        replace(&mut ports);
        AuthService::new(ports, self.service.config().clone())
    }

    /// Registers a user through the use case; the test fails if registration does.
    pub async fn register(&self, username: &str, password: &str) -> User {
        self.service.register(form(username, password)).await.expect("the registration is valid")
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<LoginOutcome, LoginError> {
        self.service.login(username, &crate::support::password(password), client()).await
    }

    /// Logs in; the test fails if the login does.
    pub async fn token(&self, username: &str, password: &str) -> PlainToken {
        self.login(username, password).await.expect("the login succeeds").token
    }

    /// Authenticates `Authorization: Token <token>`.
    pub async fn authenticate(&self, token: &PlainToken) -> Result<Authenticated, AuthenticateError> {
        self.service.authenticate(Some(header(token).as_bytes())).await
    }
}

/// The `Authorization` header value that presents `token`.
pub fn header(token: &PlainToken) -> String {
    format!("Token {}", token.expose())
}

pub fn password(text: &str) -> Password {
    Password::new(text.to_owned())
}

/// A form with both fields given as strings.
pub fn form(username: &str, password: &str) -> RegistrationForm {
    RegistrationForm {
        username: text(username),
        password: text(password),
        email: authtoken_core::service::FieldValue::Missing,
        languages: vec![],
    }
}

pub fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.to_owned())
}

/// The configuration of `fixtures::config()` with case-insensitive usernames on or off.
pub fn case_insensitive(on: bool) -> Config {
    Config { username_case_insensitive: on, ..fixtures::config() }
}

/// The client of every test login.
pub fn client() -> ClientInfo {
    ClientInfo::new(Some("tests/1.0"), Some("192.0.2.1".to_owned()))
}
