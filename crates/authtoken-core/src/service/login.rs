//! Login: check a username and password, and issue a new session token.

use super::throttle::LoginVerdict;
use super::{AuthService, Failure};
use crate::session::{ClientInfo, Session, SessionId};
use crate::token::{IssuedToken, PlainToken};
use crate::user::{Password, User, username_key};

/// A successful login: the token to hand to the client once, and its user.
#[derive(Debug)]
pub struct LoginOutcome {
    /// The new session's token in plain text, with the configured `token_prefix`; only its digest is stored.
    pub token: IssuedToken,
    /// The user who logged in, with `last_login_at` set to this login.
    pub user: User,
}

/// Why a login issued no token.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password, inactive user or missing fields: the client is told nothing more.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many attempts from the client's address, or too many failures of the account: no password was checked.
    #[error(transparent)]
    Throttled(#[from] super::Throttled),
    /// Something outside the domain failed: a store, the hasher or the random number generator.
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl AuthService {
    /// Checks the credentials and issues a new token; every other session of the user stays valid, unless the user
    /// would have more than `max_sessions_per_user`: then the least recently used ones are revoked.
    ///
    /// An unknown username costs one dummy verification, so it takes as long as a wrong password. With the throttles
    /// on, a throttled login costs no verification at all, and a failed one counts against the account.
    pub async fn login(
        &self,
        username: &str,
        password: &Password,
        client: ClientInfo,
    ) -> Result<LoginOutcome, LoginError> {
        let key = username_key(username, self.config.username_case_insensitive);
        let Some(throttles) = &self.throttles else {
            return self.verify_and_issue(&key, password, client).await;
        };
        let ip = client.ip.clone();
        let now = self.clock.now();
        let (verdict, _under_way) = throttles.before_login(ip.as_deref(), &key, now).await?;
        match verdict {
            LoginVerdict::Admitted => {}
            LoginVerdict::Refused(throttled) => return Err(throttled.into()),
            LoginVerdict::AccountWide(throttled) => {
                let has_session = async |subject: &str| self.has_session_from(&key, subject).await;
                if !throttles.owners_address(ip.as_deref(), &key, now, has_session).await? {
                    return Err(throttled.into());
                }
            }
        }
        let outcome = self.verify_and_issue(&key, password, client).await;
        if matches!(outcome, Err(LoginError::InvalidCredentials)) {
            throttles.failed(ip.as_deref(), &key, now).await?;
        }
        outcome
    }

    /// Whether the account under `key` has a live session whose client address is `subject` (as the throttles
    /// name addresses).
    async fn has_session_from(&self, key: &str, subject: &str) -> Result<bool, Failure> {
        let Some(credentials) = self.users.find_by_key(key).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        let sessions = self.tokens.sessions_of(credentials.user.id).await?;
        Ok(sessions.iter().any(|session| {
            !session.is_expired(now)
                && !self.is_idle(session, now)
                && session.client.ip.as_deref().is_some_and(|ip| crate::throttle::client_subject(ip) == subject)
        }))
    }

    async fn verify_and_issue(
        &self,
        key: &str,
        password: &Password,
        client: ClientInfo,
    ) -> Result<LoginOutcome, LoginError> {
        let Some(credentials) = self.users.find_by_key(key).await.map_err(Failure::from)? else {
            self.hasher.verify_dummy(password).await.map_err(Failure::from)?;
            return Err(LoginError::InvalidCredentials);
        };
        let matches = self.hasher.verify(password, &credentials.password_hash).await.map_err(Failure::from)?;
        let unconfirmed = self.config.require_confirmed_email_for_login && !credentials.user.email_confirmed;
        if !matches || !credentials.user.is_active || unconfirmed {
            return Err(LoginError::InvalidCredentials);
        }

        let now = self.clock.now();
        let token = PlainToken::generate().map_err(Failure::from)?;
        let session = Session {
            id: SessionId::generate().map_err(Failure::from)?,
            digest: token.digest(),
            user_id: credentials.user.id,
            created_at: now,
            expires_at: now.plus(self.config.auth_token_validity),
            last_used_at: None,
            client,
        };
        let max = self.config.max_sessions_per_user.map(|max| max.get());
        let stored = self.tokens.insert_for_login(&session, &credentials.password_hash, max).await;
        if stored.map_err(Failure::from)?.is_none() {
            // The password changed, or the user was deactivated or deleted, while the password was being verified.
            return Err(LoginError::InvalidCredentials);
        }
        self.users.record_login(credentials.user.id, now).await.map_err(Failure::from)?;
        let user = crate::user::User { last_login_at: Some(now), ..credentials.user };
        Ok(LoginOutcome { token: IssuedToken::new(self.config.token_prefix, token), user })
    }
}
