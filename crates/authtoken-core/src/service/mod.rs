//! The use cases, as methods of one service that holds the ports.

mod authenticate;
mod confirm;
mod login;
mod logout;
mod register;

use std::sync::Arc;

pub use authenticate::{AuthenticateError, Authenticated};
pub use confirm::{ConfirmError, SendConfirmationError};
pub use login::{LoginError, LoginOutcome};
pub use logout::LogoutError;
pub use register::{FieldErrors, FieldValue, RegisterError, RegistrationForm};

use crate::config::{Config, ConfirmationSettings};
use crate::ports::{Clock, ConfirmationRepo, HashError, PasswordHasher, StoreError, TokenRepo, UserRepo};
use crate::token::RandomnessUnavailable;

/// The use cases of authtoken over a set of ports.
#[derive(Clone)]
pub struct AuthService {
    tokens: Arc<dyn TokenRepo>,
    users: Arc<dyn UserRepo>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    config: Config,
    /// Shared, so that cloning the service (once per request in the HTTP layer) copies no settings.
    confirmation: Option<Arc<EmailConfirmation>>,
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
    pub tokens: Arc<dyn TokenRepo>,
    pub users: Arc<dyn UserRepo>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub clock: Arc<dyn Clock>,
}

impl AuthService {
    pub fn new(ports: Ports, config: Config) -> Self {
        let Ports { tokens, users, hasher, clock } = ports;
        Self { tokens, users, hasher, clock, config, confirmation: None }
    }

    /// Turns email confirmation on: registration then asks for an email and mails a confirmation link.
    pub fn with_confirmation(mut self, repo: Arc<dyn ConfirmationRepo>, settings: ConfirmationSettings) -> Self {
        self.confirmation = Some(Arc::new(EmailConfirmation { repo, settings }));
        self
    }

    /// Whether the store answers now (for readiness checks).
    pub async fn ready(&self) -> Result<(), Failure> {
        Ok(self.tokens.ping().await?)
    }

    /// Whether registration asks for an email and sends a confirmation link.
    pub fn confirms_email(&self) -> bool {
        self.confirmation.is_some()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// Something outside the domain failed; the cause is for the log, never for the client.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Randomness(#[from] RandomnessUnavailable),
}
