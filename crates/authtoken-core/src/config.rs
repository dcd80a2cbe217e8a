//! The settings the use cases need. The server reads them from its configuration and writes every default there, once.

use std::time::Duration;

/// Domain settings of [`crate::AuthService`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long a login token stays valid after it was issued (absolute, never extended by use).
    pub auth_token_validity: Duration,
    /// When true, `Alice` and `alice` are the same user, at registration and at login.
    pub username_case_insensitive: bool,
    /// The fewest characters a new password may have.
    pub password_min_length: usize,
}
