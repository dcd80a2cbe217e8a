//! Email confirmation: sending a link, and confirming an address with it.

use super::{AuthService, EmailConfirmation, Failure};
use crate::confirmation::PendingConfirmation;
use crate::error::StoreError;
use crate::outbox::Mail;
use crate::time::Timestamp;
use crate::token::PlainToken;
use crate::user::User;

/// Why a confirmation link was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendConfirmationError {
    /// Email confirmation is off (see [`AuthService::with_confirmation`]).
    #[error("email confirmation is not enabled")]
    Disabled,
    /// The user no longer exists in the store.
    #[error("no such user")]
    UnknownUser,
    /// The user has no email address, or an empty one.
    #[error("the user has no email address")]
    NoEmail,
    /// The user's address is confirmed already.
    #[error("the email address is already confirmed")]
    AlreadyConfirmed,
    /// Something outside the domain failed: the store or the random number generator.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// Why a link confirms nothing.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// Malformed, unknown, expired, used, or sent to an address the user no longer has.
    #[error("invalid token!")]
    Invalid,
    /// The store failed while the link was looked up, deleted or used.
    #[error(transparent)]
    Failed(#[from] StoreError),
}

impl AuthService {
    /// Queues a fresh confirmation link for `user` in the default language; the user's older links stop working.
    pub async fn send_confirmation_email(&self, user: &User) -> Result<(), SendConfirmationError> {
        let Some(confirmation) = &self.confirmation else {
            return Err(SendConfirmationError::Disabled);
        };
        if user.email_confirmed {
            return Err(SendConfirmationError::AlreadyConfirmed);
        }
        let Some(email) = user.email.as_deref().filter(|e| !e.is_empty()) else {
            return Err(SendConfirmationError::NoEmail);
        };
        let pending = pending(confirmation, &user.username, email, &[], self.clock.now())?;
        if !confirmation.repo.replace_confirmation(user.id, &pending).await.map_err(Failure::from)? {
            return Err(SendConfirmationError::UnknownUser);
        }
        Ok(())
    }

    /// Confirms the address a link was sent to, and consumes the link.
    pub async fn confirm_email(&self, token: &str) -> Result<(), ConfirmError> {
        let (confirmation, token) = self.valid_link(token).await?;
        if !confirmation.repo.confirm(&token.digest()).await? {
            return Err(ConfirmError::Invalid);
        }
        Ok(())
    }

    /// Whether a link would confirm, without consuming it (for `HEAD` and the scanner-safe page).
    pub async fn check_confirmation_link(&self, token: &str) -> Result<(), ConfirmError> {
        self.valid_link(token).await.map(|_| ())
    }

    /// The unconfirmed users with an address, for sending their links again.
    pub async fn unconfirmed_users(&self) -> Result<Vec<User>, SendConfirmationError> {
        let Some(confirmation) = &self.confirmation else {
            return Err(SendConfirmationError::Disabled);
        };
        Ok(confirmation.repo.unconfirmed_users().await.map_err(Failure::from)?)
    }

    /// Deletes expired confirmation links; returns how many.
    pub async fn purge_expired_confirmations(&self) -> Result<u64, Failure> {
        match &self.confirmation {
            Some(confirmation) => Ok(confirmation.repo.purge_expired_confirmations(self.clock.now()).await?),
            None => Ok(0),
        }
    }

    /// A link that exists, is unexpired (an expired one is deleted) and matches the user's current address.
    async fn valid_link(&self, token: &str) -> Result<(&EmailConfirmation, PlainToken), ConfirmError> {
        let Some(confirmation) = &self.confirmation else {
            return Err(ConfirmError::Invalid);
        };
        let token = PlainToken::parse(token.as_bytes()).map_err(|_| ConfirmError::Invalid)?;
        let digest = token.digest();
        let Some(found) = confirmation.repo.find_confirmation(&digest).await? else {
            return Err(ConfirmError::Invalid);
        };
        if found.confirmation.is_expired(self.clock.now()) {
            confirmation.repo.delete_confirmation(&digest).await?;
            return Err(ConfirmError::Invalid);
        }
        if found.user.email.as_deref() != Some(found.confirmation.email.as_str()) {
            return Err(ConfirmError::Invalid);
        }
        Ok((confirmation, token))
    }
}

/// A new link for `email`, and its mail rendered in the best of `languages`.
pub(super) fn pending(
    confirmation: &EmailConfirmation,
    username: &str,
    email: &str,
    languages: &[String],
    now: Timestamp,
) -> Result<PendingConfirmation, Failure> {
    let token = PlainToken::generate()?;
    let url = format!("{}{}/", confirmation.settings.link_prefix, token.expose());
    let template = confirmation.settings.templates.pick(languages);
    Ok(PendingConfirmation {
        digest: token.digest(),
        email: email.to_owned(),
        created_at: now,
        expires_at: now.plus(confirmation.settings.token_validity),
        mail: Mail {
            to: email.to_owned(),
            subject: template.subject.render(username, &url),
            body: template.message.render(username, &url),
        },
    })
}
