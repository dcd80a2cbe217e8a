//! Login: check a username and password, and issue a new session token.

use super::noted::Subject;
use super::throttle::{LoginVerdict, Throttles, UnderWay};
use super::{AuthService, Failure};
use crate::event::{AuditEvent, EventKind};
use crate::session::{ClientInfo, Session, SessionId};
use crate::time::Timestamp;
use crate::token::{IssuedToken, PlainToken};
use crate::user::{Password, PasswordHash, User, UserId, username_key};

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
    /// An unknown username costs one dummy verification, so it takes as long as a wrong password. A hash the hasher
    /// says is not current (of older parameters, or imported from Django) is replaced after a successful login. With the throttles
    /// on, a throttled login costs no verification at all, and a failed one counts against the account.
    ///
    /// The audit trail gets a `login` event in the transaction that stores the session, or a `login_failed` one of the
    /// user when the username belongs to one (never the name typed for an unknown user), or a `login_throttled` one.
    pub async fn login(
        &self,
        username: &str,
        password: &Password,
        client: ClientInfo,
    ) -> Result<LoginOutcome, LoginError> {
        let key = username_key(username, self.config.username_case_insensitive);
        let now = self.clock.now();
        // Held until the failure, if any, is recorded.
        let _under_way = match &self.throttles {
            Some(throttles) => Some(self.admit_login(throttles, &key, now, &client).await?),
            None => None,
        };
        let user = match self.verify_and_issue(&key, password, &client, now).await? {
            Verified::Issued(outcome) => return Ok(outcome),
            Verified::Refused(user) => user,
        };
        if let Some(throttles) = &self.throttles {
            throttles.failed(client.ip.as_deref(), &key, now).await?;
        }
        self.record(&AuditEvent::new(EventKind::LoginFailed, now, user, None, &client)).await?;
        Err(LoginError::InvalidCredentials)
    }

    /// Judges a login of the account `key` before its password is checked: the guard of its password check under
    /// way, or the refusal, recorded as a `login_throttled` event. A refusal by the account's failures from anywhere
    /// alone lets the owner's own address through.
    async fn admit_login<'a>(
        &self,
        throttles: &'a Throttles,
        key: &str,
        now: Timestamp,
        client: &ClientInfo,
    ) -> Result<UnderWay<'a>, LoginError> {
        let ip = client.ip.as_deref();
        let (verdict, under_way) = throttles.before_login(ip, key, now).await?;
        let refused = match verdict {
            LoginVerdict::Admitted => None,
            LoginVerdict::Refused(throttled) => Some(throttled),
            LoginVerdict::AccountWide(throttled) => {
                let has_session = async |subject: &str| self.has_session_from(key, subject).await;
                let owners = throttles.owners_address(ip, key, now, has_session).await?;
                (!owners).then_some(throttled)
            }
        };
        match refused {
            None => Ok(under_way),
            Some(throttled) => {
                let (kind, subject) = (EventKind::LoginThrottled, Subject::Account(key));
                Err(self.refuse(throttled, kind, now, subject, None, client).await.into())
            }
        }
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
        client: &ClientInfo,
        now: Timestamp,
    ) -> Result<Verified, Failure> {
        let Some(credentials) = self.users.find_by_key(key).await? else {
            self.hasher.verify_dummy(password).await?;
            return Ok(Verified::Refused(None));
        };
        let user_id = credentials.user.id;
        let matches = self.hasher.verify(password, &credentials.password_hash).await?;
        let unconfirmed = self.config.require_confirmed_email_for_login && !credentials.user.email_confirmed;
        if !matches || !credentials.user.is_active || unconfirmed {
            return Ok(Verified::Refused(Some(user_id)));
        }
        let expected = if self.hasher.needs_rehash(&credentials.password_hash) {
            self.rehash(user_id, password, &credentials.password_hash).await?
        } else {
            credentials.password_hash
        };

        let token = PlainToken::generate()?;
        let session = Session {
            id: SessionId::generate()?,
            digest: token.digest(),
            user_id,
            created_at: now,
            expires_at: now.plus(self.config.auth_token_validity),
            last_used_at: None,
            client: client.clone(),
        };
        let max = self.config.max_sessions_per_user.map(|max| max.get());
        let event = AuditEvent::new(EventKind::Login, now, Some(user_id), Some(&session.id), client);
        if self.tokens.insert_for_login(&session, &expected, max, &event).await?.is_none() {
            // The password changed, or the user was deactivated or deleted, while the password was being verified.
            return Ok(Verified::Refused(Some(user_id)));
        }
        self.users.record_login(user_id, now).await?;
        let user = crate::user::User { last_login_at: Some(now), ..credentials.user };
        Ok(Verified::Issued(LoginOutcome { token: IssuedToken::new(self.config.token_prefix, token), user }))
    }
}

impl AuthService {
    /// Replaces `old`, which the password matched, by a hash of the current kind, before the session is stored (so
    /// that a failure here leaves no session behind); returns the hash the session is then stored against.
    ///
    /// When the stored hash is no longer `old`, another login replaced it first, or the password changed: the stored
    /// one counts only if this password matches it too, and otherwise `old` goes on, for the insert to refuse.
    async fn rehash(&self, user_id: UserId, password: &Password, old: &PasswordHash) -> Result<PasswordHash, Failure> {
        let current = self.hasher.hash(password).await?;
        if self.users.upgrade_password_hash(user_id, old, &current).await? {
            return Ok(current);
        }
        match self.users.find_credentials(user_id).await? {
            Some(now) if self.hasher.verify(password, &now.password_hash).await? => Ok(now.password_hash),
            _ => Ok(old.clone()),
        }
    }
}

/// What checking the credentials came to.
enum Verified {
    /// A session was stored.
    Issued(LoginOutcome),
    /// No session: the user, when the username belongs to one.
    Refused(Option<UserId>),
}
