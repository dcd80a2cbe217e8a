//! The use cases, as methods of one service that holds the ports.

mod account;
mod admin;
mod authenticate;
mod confirm;
mod events;
mod login;
mod logout;
mod noted;
mod register;
mod reset;
mod sessions;
mod throttle;

use std::sync::Arc;

pub use account::{ChangePasswordError, SetPasswordError};
pub use admin::AddUser;
pub use authenticate::{AuthenticateError, Authenticated};
pub use confirm::{Composed, ConfirmError, SendConfirmationError};
pub use login::{LoginError, LoginOutcome};
pub use logout::LogoutError;
pub use register::{FieldErrors, FieldValue, RegisterError, RegistrationForm};
pub use reset::{ResetError, ResetRequestError};
pub use sessions::ReauthError;
pub use throttle::Throttled;

use crate::config::{Config, ConfirmationSettings, ResetSettings};
use crate::ports::{
    Clock, ConfirmationRepo, EventRepo, HashError, PasswordHasher, ResetRepo, StoreError, TokenRepo, UserRepo,
};
use crate::template::MailTemplates;
use crate::token::RandomnessUnavailable;

/// The use cases of authtoken over a set of ports.
///
/// Any framework can drive it: build it from adapters of the ports, then call the use cases. Here it runs on the
/// testkit's in-memory store and fake hasher; an application puts `authtoken_sql::SqlStore` and
/// `authtoken_argon2::Argon2Hasher` in the same places (`examples/axum-notes` does, in axum).
///
/// ```
/// use std::sync::Arc;
///
/// use authtoken_core::AuthService;
/// use authtoken_core::service::{FieldValue, Ports, RegistrationForm};
/// use authtoken_core::session::ClientInfo;
/// use authtoken_core::user::Password;
/// use authtoken_testkit::{FakeClock, FakePasswordHasher, InMemoryStore, fixtures};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(InMemoryStore::default());
/// let ports = Ports {
///     tokens: store.clone(),
///     users: store.clone(),
///     events: store,
///     hasher: Arc::new(FakePasswordHasher::default()),
///     clock: Arc::new(FakeClock::at(fixtures::EPOCH)),
/// };
/// let service = AuthService::new(ports, fixtures::config());
///
/// let text = |value: &str| FieldValue::Text(value.to_owned());
/// let form = RegistrationForm {
///     username: text("alice"),
///     password: text("correct horse"),
///     email: FieldValue::Missing,
///     languages: Vec::new(),
///     client: ClientInfo::default(),
/// };
/// service.register(form).await?;
/// let login = service.login("alice", &Password::new("correct horse".into()), ClientInfo::new(None, None)).await?;
///
/// // What a request carries in `Authorization`, judged as the HTTP layer judges it.
/// let header = format!("Token {}", login.token.expose());
/// let session = service.authenticate(Some(header.as_bytes())).await?;
/// assert_eq!(session.user.username, "alice");
///
/// service.logout(&session, &ClientInfo::default()).await?;
///
/// // Each step is an event of alice's audit trail, newest first.
/// let kinds: Vec<&str> = service.events(&session).await?.iter().map(|e| e.event.kind.as_str()).collect();
/// assert_eq!(kinds, ["logout", "login", "registered"]);
/// assert!(service.authenticate(Some(header.as_bytes())).await.is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AuthService {
    tokens: Arc<dyn TokenRepo>,
    users: Arc<dyn UserRepo>,
    events: Arc<dyn EventRepo>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    config: Config,
    /// Shared, so that cloning the service (once per request in the HTTP layer) copies no settings.
    confirmation: Option<Arc<EmailConfirmation>>,
    /// Password reset by email, when it is on.
    reset: Option<Arc<PasswordReset>>,
    /// The notice mailed after a password change or reset, when it is on.
    notice: Option<Arc<MailTemplates>>,
    /// The throttles, when they are on.
    throttles: Option<Arc<throttle::Throttles>>,
}

/// Password reset, when it is on: its store and its settings.
struct PasswordReset {
    repo: Arc<dyn ResetRepo>,
    settings: ResetSettings,
}

/// Email confirmation, when it is on: its store and its settings.
#[derive(Clone)]
struct EmailConfirmation {
    repo: Arc<dyn ConfirmationRepo>,
    settings: ConfirmationSettings,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").field("config", &self.config).finish_non_exhaustive()
    }
}

/// The ports an [`AuthService`] is built from.
#[derive(Clone)]
#[allow(missing_debug_implementations, reason = "ports are trait objects without Debug")]
pub struct Ports {
    /// Where sessions are kept.
    pub tokens: Arc<dyn TokenRepo>,
    /// Where users are kept.
    pub users: Arc<dyn UserRepo>,
    /// The audit trail: events recorded on their own, and reading them back.
    pub events: Arc<dyn EventRepo>,
    /// Hashes new passwords and checks the passwords of logins.
    pub hasher: Arc<dyn PasswordHasher>,
    /// The current time, read once per use case.
    pub clock: Arc<dyn Clock>,
}

impl AuthService {
    /// The use cases over `ports` with the domain settings `config`; email confirmation is off
    /// until [`AuthService::with_confirmation`] turns it on.
    pub fn new(ports: Ports, config: Config) -> Self {
        let Ports { tokens, users, events, hasher, clock } = ports;
        Self {
            tokens,
            users,
            events,
            hasher,
            clock,
            config,
            confirmation: None,
            reset: None,
            notice: None,
            throttles: None,
        }
    }

    /// Turns email confirmation on: registration then asks for an email and mails a confirmation link.
    pub fn with_confirmation(mut self, repo: Arc<dyn ConfirmationRepo>, settings: ConfirmationSettings) -> Self {
        self.confirmation = Some(Arc::new(EmailConfirmation { repo, settings }));
        self
    }

    /// Turns password reset by email on: a request mails a link that sets a new password.
    pub fn with_password_reset(mut self, repo: Arc<dyn ResetRepo>, settings: ResetSettings) -> Self {
        self.reset = Some(Arc::new(PasswordReset { repo, settings }));
        self
    }

    /// Turns the notice on that is mailed, through the outbox, to the account's address after its password was
    /// changed or reset; the templates get the username, and an empty `{url}`.
    pub fn with_password_notice(mut self, templates: MailTemplates) -> Self {
        self.notice = Some(Arc::new(templates));
        self
    }

    /// Whether password reset by email is on.
    pub fn resets_passwords(&self) -> bool {
        self.reset.is_some()
    }

    /// Whether the store answers now (for readiness checks).
    pub async fn ready(&self) -> Result<(), StoreError> {
        self.tokens.ping().await
    }

    /// Whether registration asks for an email and sends a confirmation link.
    pub fn confirms_email(&self) -> bool {
        self.confirmation.is_some()
    }

    /// The current time, from the service's clock.
    pub(crate) fn now(&self) -> crate::time::Timestamp {
        self.clock.now()
    }

    /// The domain settings the service was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// Something outside the domain failed; the cause is for the log, never for the client.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Password hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The operating system's random number generator failed while drawing a token or a session id.
    #[error(transparent)]
    Randomness(#[from] RandomnessUnavailable),
}
