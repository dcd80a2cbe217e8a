//! Email confirmation: sending a link, and confirming an address with it.

use super::{AuthService, EmailConfirmation, Failure};
use crate::confirmation::Confirmation;
use crate::error::StoreError;
use crate::event::{AuditEvent, EventKind};
use crate::outbox::{Mail, MailKind, OutboxEntry, OutboxMail};
use crate::session::ClientInfo;
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
    /// The store failed.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// The mail an outbox entry asks for, as [`AuthService::compose`] wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Composed {
    /// The mail to send now.
    Mail(Mail),
    /// Nothing is worth sending any more; the reason is for the operator.
    Void(&'static str),
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
    /// Queues a fresh confirmation mail for `user` in the default language; the user's older links stop working.
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
        let mail = confirmation_mail(confirmation, email, &[]);
        if !confirmation.repo.replace_confirmation(user.id, &mail, self.clock.now()).await.map_err(Failure::from)? {
            return Err(SendConfirmationError::UnknownUser);
        }
        Ok(())
    }

    /// Confirms the address a link was sent to, and consumes the link; the audit trail gets an `email_confirmed` event
    /// from `client` in the same transaction.
    pub async fn confirm_email(&self, token: &str, client: &ClientInfo) -> Result<(), ConfirmError> {
        let (confirmation, token) = self.valid_link(token).await?;
        let event = AuditEvent::new(EventKind::EmailConfirmed, self.clock.now(), None, None, client);
        if !confirmation.repo.confirm(&token.digest(), &event).await? {
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

    /// Writes the mail an outbox entry asks for, when it is delivered.
    ///
    /// A confirmation or reset mail gets a new link: its token goes into the mail only, and the store keeps its
    /// digest, so no plaintext link is ever written. A confirmation mail is void when confirmation is off, or when the
    /// user is gone, has confirmed, or has another address now; a reset mail when reset is off or no active account
    /// has the address; a notice when notices are off or the user is gone.
    pub async fn compose(&self, entry: &OutboxEntry) -> Result<Composed, Failure> {
        match entry.mail.kind {
            MailKind::Confirmation => self.compose_confirmation(entry).await,
            MailKind::PasswordReset => self.compose_reset(entry).await,
            MailKind::PasswordChanged => self.compose_notice(entry).await,
        }
    }

    async fn compose_confirmation(&self, entry: &OutboxEntry) -> Result<Composed, Failure> {
        let Some(confirmation) = &self.confirmation else {
            return Ok(Composed::Void("email confirmation is off"));
        };
        let Some(user_id) = entry.user_id else {
            return Ok(Composed::Void("the confirmation mail names no user"));
        };
        let token = PlainToken::generate()?;
        let now = self.clock.now();
        let link = Confirmation {
            digest: token.digest(),
            user_id,
            email: entry.mail.to.clone(),
            created_at: now,
            expires_at: now.plus(confirmation.settings.token_validity),
        };
        let Some(user) = confirmation.repo.add_confirmation(&link).await? else {
            return Ok(Composed::Void("the user is gone, has confirmed, or has another address now"));
        };
        let url = format!("{}{}/", confirmation.settings.link_prefix, token.expose());
        let template = confirmation.settings.templates.get(entry.mail.language.as_deref());
        Ok(Composed::Mail(Mail {
            to: entry.mail.to.clone(),
            subject: template.subject.render(&user.username, &url),
            body: template.message.render(&user.username, &url),
        }))
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

/// The outbox mail that asks for a link to `email`, in the best of `languages`.
pub(super) fn confirmation_mail(confirmation: &EmailConfirmation, email: &str, languages: &[String]) -> OutboxMail {
    OutboxMail {
        to: email.to_owned(),
        kind: MailKind::Confirmation,
        language: confirmation.settings.templates.language(languages).map(str::to_owned),
    }
}
