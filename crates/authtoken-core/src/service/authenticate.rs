//! Token authentication of a request from its `Authorization` header.

use super::AuthService;
use crate::error::StoreError;
use crate::header::{Credentials, parse_authorization};
use crate::session::{Session, SessionWithUser};
use crate::user::User;

/// An authenticated request: its user and the session its token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The user the token belongs to, as stored when the request was authenticated.
    pub user: User,
    /// The session of the presented token; [`AuthService::logout`] revokes it.
    pub session: Session,
}

/// Why a request is not authenticated. The messages are the wire contract's, word for word.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    /// No `Authorization` header, or another scheme.
    #[error("Authentication credentials were not provided.")]
    NotProvided,
    /// The keyword `Token` without a token.
    #[error("invalid auth header, No credentials provided.")]
    NoCredentials,
    /// A malformed, unknown, expired or revoked token, or an inactive user.
    #[error("invalid auth token")]
    InvalidToken,
    /// The store failed while the token was looked up or deleted.
    #[error(transparent)]
    Failed(#[from] StoreError),
}

impl AuthService {
    /// Authenticates a raw `Authorization` header value.
    ///
    /// A malformed token, or one without the configured `token_prefix`, is rejected before any store is asked; an
    /// expired or idle one is deleted when presented.
    /// A session's use is recorded at most once per [`Config::last_used_resolution`](crate::Config).
    pub async fn authenticate(&self, header: Option<&[u8]>) -> Result<Authenticated, AuthenticateError> {
        let token = match parse_authorization(header, &self.config.token_prefix) {
            Credentials::Absent => return Err(AuthenticateError::NotProvided),
            Credentials::Missing => return Err(AuthenticateError::NoCredentials),
            Credentials::Malformed => return Err(AuthenticateError::InvalidToken),
            Credentials::Token(token) => token,
        };
        let digest = token.digest();
        let Some(SessionWithUser { mut session, user }) = self.tokens.find(&digest).await? else {
            return Err(AuthenticateError::InvalidToken);
        };
        let now = self.clock.now();
        if session.is_expired(now) || self.is_idle(&session, now) {
            self.tokens.delete(&digest).await?;
            return Err(AuthenticateError::InvalidToken);
        }
        if !user.is_active {
            return Err(AuthenticateError::InvalidToken);
        }
        let resolution = self.config.last_used_resolution;
        if session.use_is_stale(now, resolution) {
            // Conditional, so that of the requests racing here only the first writes.
            self.tokens.touch(&digest, now, now.minus(resolution)).await?;
            session.last_used_at = Some(now);
        }
        Ok(Authenticated { user, session })
    }
}

impl AuthService {
    /// Whether the session has been idle past `auth_token_idle_timeout` (never, when it is unset).
    pub(crate) fn is_idle(&self, session: &Session, now: crate::time::Timestamp) -> bool {
        self.config
            .auth_token_idle_timeout
            .is_some_and(|timeout| session.is_idle(now, timeout, self.config.last_used_resolution))
    }
}
