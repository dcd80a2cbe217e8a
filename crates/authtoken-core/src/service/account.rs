//! The account: changing the password, setting it (for an operator), and deleting the account.

use super::events::of_request;
use super::register::text;
use super::sessions::ReauthError;
use super::{AuthService, Failure};
use crate::event::{AuditEvent, EventKind};
use crate::service::{Authenticated, FieldValue};
use crate::session::{ClientInfo, Revoke};
use crate::user::{Password, UserId, username_key};

/// Why a password was not changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// The current password is not the user's: nothing changed.
    #[error("Your old password was entered incorrectly. Please enter it again.")]
    WrongPassword,
    /// Too many wrong passwords for the account: no password was checked.
    #[error(transparent)]
    Throttled(#[from] super::Throttled),
    /// The new password breaks a rule; the message is registration's for the same rule.
    #[error("{0}")]
    Invalid(&'static str),
    /// Something outside the domain failed: a store or the hasher.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// Why a password was not set.
#[derive(Debug, thiserror::Error)]
pub enum SetPasswordError {
    /// The new password breaks a rule; the message is registration's for the same rule.
    #[error("{0}")]
    Invalid(&'static str),
    /// There is no such user.
    #[error("no such user")]
    NoSuchUser,
    /// Something outside the domain failed: a store or the hasher.
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl AuthService {
    /// Changes the caller's password once the current one is re-entered, and revokes the caller's other sessions
    /// unless `revoke_other_sessions` is false; returns how many were revoked.
    ///
    /// The new password, as submitted, is checked first with registration's rules and messages, so a bad new
    /// password costs no hash. `client` is where the request came from, for the throttles (a wrong current password
    /// counts as a failed login) and the audit trail (`password_changed` in the transaction that sets the password,
    /// or `wrong_password`).
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: &Password,
        new: FieldValue,
        revoke_other_sessions: bool,
        client: &ClientInfo,
    ) -> Result<u64, ChangePasswordError> {
        let new = text(new).map(Password::new).and_then(|new| self.check_password(new));
        let new = new.map_err(ChangePasswordError::Invalid)?;
        let now = self.clock.now();
        match self.verify_password_of(auth, current, client, now).await {
            Ok(()) => {}
            Err(ReauthError::WrongPassword) => return Err(ChangePasswordError::WrongPassword),
            Err(ReauthError::Throttled(throttled)) => return Err(throttled.into()),
            Err(ReauthError::Failed(failure)) => return Err(failure.into()),
        }
        let revoke = if revoke_other_sessions { Revoke::AllBut(auth.session.digest.clone()) } else { Revoke::Nothing };
        let hash = self.hasher.hash(&new).await.map_err(Failure::from)?;
        let notice = self.notice_for(&auth.user);
        let event = of_request(EventKind::PasswordChanged, now, auth, client);
        let changed = self.users.set_password(auth.user.id, &hash, &revoke, notice.as_slice(), now, &event).await;
        // A user who vanished since the request authenticated has no session left to change anything with.
        changed.map_err(Failure::from)?.ok_or(ChangePasswordError::WrongPassword)
    }

    /// Sets a user's password after checking it against the registration rules, and revokes the user's sessions
    /// that `revoke` names, in one transaction with the notice (when notices are on); returns how many were revoked.
    /// For an operator: the audit trail gets an `operator_set_password` event in the same transaction, and with the
    /// throttles on, the user's failed logins from anywhere are forgotten too, so that setting a password is also the
    /// way to let a user back in whom a guessing attack keeps out.
    pub async fn set_password(&self, user_id: UserId, new: Password, revoke: &Revoke) -> Result<u64, SetPasswordError> {
        let new = self.check_password(new).map_err(SetPasswordError::Invalid)?;
        let Some(user) = self.users.find_credentials(user_id).await.map_err(Failure::from)? else {
            return Err(SetPasswordError::NoSuchUser);
        };
        let hash = self.hasher.hash(&new).await.map_err(Failure::from)?;
        let notice = self.notice_for(&user.user);
        let now = self.clock.now();
        let event = AuditEvent::by_operator(EventKind::OperatorSetPassword, now, Some(user_id), None);
        let revoked = self.users.set_password(user_id, &hash, revoke, notice.as_slice(), now, &event).await;
        let revoked = revoked.map_err(Failure::from)?.ok_or(SetPasswordError::NoSuchUser)?;
        if let Some(throttles) = &self.throttles {
            let key = username_key(&user.user.username, self.config.username_case_insensitive);
            // The password is set whatever happens here; failures not forgotten expire on their own.
            throttles.after_reset(None, &key, now).await.ok();
        }
        Ok(revoked)
    }

    /// Deletes the caller's account once the password is re-entered: the user, every session, link and pending
    /// mail of the user. `client` is where the request came from, for the throttles (a wrong password counts as a
    /// failed login) and the audit trail (`account_deleted`, which outlives the account, or `wrong_password`).
    pub async fn delete_account(
        &self,
        auth: &Authenticated,
        password: &Password,
        client: &ClientInfo,
    ) -> Result<(), ReauthError> {
        let now = self.clock.now();
        self.verify_password_of(auth, password, client, now).await?;
        let event = of_request(EventKind::AccountDeleted, now, auth, client);
        self.users.delete(auth.user.id, &event).await.map_err(Failure::from)?;
        Ok(())
    }
}
