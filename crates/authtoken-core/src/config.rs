//! The settings the use cases need. The server reads them from its configuration and writes every default there, once.

use std::num::NonZeroU32;
use std::time::Duration;

use crate::token::TokenPrefix;

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
    /// A session not used for this long is invalid and deleted; `None` (the default) keeps sessions until they
    /// expire. The check allows for [`Config::last_used_resolution`]: a session ends between this long and this long
    /// plus the resolution after its last use.
    pub auth_token_idle_timeout: Option<Duration>,
    /// How stale a session's recorded last use may get before a request writes it again, so that a busy session
    /// costs one write per resolution rather than one per request.
    pub last_used_resolution: Duration,
    /// The most sessions one user may have; a login beyond it revokes the user's least recently used sessions.
    /// `None` (the default) is unlimited.
    pub max_sessions_per_user: Option<NonZeroU32>,
    /// How long the audit trail keeps an event; the background purge deletes older ones.
    pub auth_event_retention: Duration,
    /// What every new login token starts with, such as `at_`, so that secret scanners recognise a leaked one;
    /// a presented token without it is refused before any store is asked. [`TokenPrefix::NONE`] (the default)
    /// issues and accepts the 64 characters alone.
    pub token_prefix: TokenPrefix,
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

/// Settings of password reset by email, given to [`crate::AuthService::with_password_reset`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetSettings {
    /// How long a reset link works after it was made.
    pub token_validity: Duration,
    /// The mailed URL, with `{token}` where the token goes (exactly once): `password_reset_url`, or the built-in form
    /// at `{registration_email_base_url}{prefix}/password/reset/confirm/{token}/`.
    pub url: String,
    /// The reset mail, per language, with `{username}` and `{url}`.
    pub templates: crate::template::MailTemplates,
}
