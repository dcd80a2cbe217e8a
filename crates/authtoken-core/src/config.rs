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
    /// When true, a user whose email is not confirmed cannot log in
    /// (upstream: the confirmation flag is the active flag).
    pub require_confirmed_email_for_login: bool,
}

/// Settings of email confirmation, given to [`crate::AuthService::with_confirmation`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmationSettings {
    /// How long a confirmation link stays valid after it was made.
    pub token_validity: Duration,
    /// Everything before the token in a link: `{registration_email_base_url}{prefix}/register/confirm/`.
    pub link_prefix: String,
    /// The mail, per language.
    pub templates: crate::template::MailTemplates,
}
