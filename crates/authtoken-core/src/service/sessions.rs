//! The session inventory: listing one's sessions and ending them, one, all but the current one, or all.

use super::events::of_request;
use super::noted::Subject;
use super::{AuthService, Failure};
use crate::error::StoreError;
use crate::event::{AuditEvent, EventKind};
use crate::service::Authenticated;
use crate::session::{ClientInfo, Revoke, Session, SessionId};
use crate::time::Timestamp;
use crate::user::{Password, username_key};

/// Why sessions were not revoked by a request that re-enters the password.
#[derive(Debug, thiserror::Error)]
pub enum ReauthError {
    /// The password is not the user's: nothing was revoked.
    #[error("Your password was entered incorrectly. Please enter it again.")]
    WrongPassword,
    /// Too many wrong passwords for the account: no password was checked.
    #[error(transparent)]
    Throttled(#[from] super::Throttled),
    /// Something outside the domain failed: a store or the hasher.
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl AuthService {
    /// The caller's live sessions (neither expired nor idle), newest first.
    pub async fn list_sessions(&self, auth: &Authenticated) -> Result<Vec<Session>, StoreError> {
        let now = self.clock.now();
        let mut sessions = self.tokens.sessions_of(auth.user.id).await?;
        sessions.retain(|s| !s.is_expired(now) && !self.is_idle(s, now));
        sessions.reverse();
        Ok(sessions)
    }

    /// Revokes one of the caller's live sessions by its public id, the current one included; `false` when the caller
    /// has no such live session (another user's id, and an expired or idle one, are answered exactly as an unknown
    /// one). The audit trail gets a `session_revoked` event of the revoked session, from `client`.
    pub async fn revoke_session(
        &self,
        auth: &Authenticated,
        id: &str,
        client: &ClientInfo,
    ) -> Result<bool, StoreError> {
        let Some(id) = SessionId::parse(id) else {
            return Ok(false);
        };
        let now = self.clock.now();
        let live = self.tokens.find_by_id(&id).await?.is_some_and(|found| {
            found.session.user_id == auth.user.id
                && !found.session.is_expired(now)
                && !self.is_idle(&found.session, now)
        });
        if !live {
            return Ok(false);
        }
        let event = AuditEvent::new(EventKind::SessionRevoked, now, Some(auth.user.id), Some(&id), client);
        self.tokens.revoke(auth.user.id, &id, &event).await
    }

    /// Revokes every session of the caller but the current one, once the caller has re-entered the password;
    /// returns how many were revoked.
    ///
    /// `client` is where the request came from, for the throttles (a wrong password counts as a failed login) and
    /// the audit trail (`other_sessions_revoked`, or `wrong_password`).
    pub async fn logout_others(
        &self,
        auth: &Authenticated,
        password: &Password,
        client: &ClientInfo,
    ) -> Result<u64, ReauthError> {
        self.revoke_reauthenticated(auth, password, client, Revoke::AllBut(auth.session.digest.clone())).await
    }

    /// Revokes every session of the caller, the current one included, once the caller has re-entered the password;
    /// returns how many were revoked.
    ///
    /// `client` is where the request came from, for the throttles (a wrong password counts as a failed login) and
    /// the audit trail (`all_sessions_revoked`, or `wrong_password`).
    pub async fn logout_all(
        &self,
        auth: &Authenticated,
        password: &Password,
        client: &ClientInfo,
    ) -> Result<u64, ReauthError> {
        self.revoke_reauthenticated(auth, password, client, Revoke::All).await
    }

    async fn revoke_reauthenticated(
        &self,
        auth: &Authenticated,
        password: &Password,
        client: &ClientInfo,
        which: Revoke,
    ) -> Result<u64, ReauthError> {
        let now = self.clock.now();
        self.verify_password_of(auth, password, client, now).await?;
        let kind = match which {
            Revoke::All => EventKind::AllSessionsRevoked,
            Revoke::AllBut(_) | Revoke::Nothing => EventKind::OtherSessionsRevoked,
        };
        let event = of_request(kind, now, auth, client);
        Ok(self.tokens.revoke_sessions(auth.user.id, &which, &event).await.map_err(Failure::from)?)
    }

    /// Deletes expired sessions, and idle ones when `auth_token_idle_timeout` is set; returns how many.
    pub async fn purge_sessions(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut purged = self.tokens.purge_expired(now).await?;
        if let Some(timeout) = self.config.auth_token_idle_timeout {
            // The same allowance for the resolution as `Session::is_idle`.
            let before = now.minus(timeout).minus(self.config.last_used_resolution);
            purged += self.tokens.purge_idle(before).await?;
        }
        Ok(purged)
    }

    /// Checks a password re-entered by the caller from `client` against the caller's hash; a user who vanished
    /// meanwhile costs a dummy verification and counts as a wrong password. A wrong password is a `wrong_password`
    /// event of the caller's session. With the throttles on, a wrong password counts as a failed login of the user,
    /// and once the user's failures are over their limits nothing is checked (a `reauth_throttled` event).
    pub(crate) async fn verify_password_of(
        &self,
        auth: &Authenticated,
        password: &Password,
        client: &ClientInfo,
        now: Timestamp,
    ) -> Result<(), ReauthError> {
        let key = username_key(&auth.user.username, self.config.username_case_insensitive);
        let ip = client.ip.as_deref();
        // Held until the failure, if any, is recorded.
        let _under_way = match &self.throttles {
            Some(throttles) => {
                let judged = throttles.before_reauth(ip, &key, now).await;
                let (kind, subject) = (EventKind::ReauthThrottled, Subject::User(auth.user.id));
                Some(self.note_throttled(judged, kind, now, subject, Some(&auth.session.id), client).await?)
            }
            None => None,
        };
        let verified = self.verify_current_password(auth, password).await;
        if matches!(verified, Err(ReauthError::WrongPassword)) {
            if let Some(throttles) = &self.throttles {
                throttles.failed(ip, &key, now).await?;
            }
            self.record(&of_request(EventKind::WrongPassword, now, auth, client)).await?;
        }
        verified
    }

    async fn verify_current_password(&self, auth: &Authenticated, password: &Password) -> Result<(), ReauthError> {
        let Some(credentials) = self.users.find_credentials(auth.user.id).await.map_err(Failure::from)? else {
            self.hasher.verify_dummy(password).await.map_err(Failure::from)?;
            return Err(ReauthError::WrongPassword);
        };
        let matches = self.hasher.verify(password, &credentials.password_hash).await.map_err(Failure::from)?;
        if !matches {
            return Err(ReauthError::WrongPassword);
        }
        Ok(())
    }
}
