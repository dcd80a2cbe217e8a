//! Password reset by email: requesting a link, setting a new password with it, and the mail both send.

use super::noted::Subject;
use super::register::{check_email, text};
use super::{AuthService, Failure, PasswordReset};
use crate::event::{AuditEvent, EventKind};
use crate::outbox::{Mail, MailKind, OutboxEntry, OutboxMail};
use crate::service::{Composed, FieldValue};
use crate::session::ClientInfo;
use crate::token::PlainToken;
use crate::user::{Password, User};

/// Why a reset request was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ResetRequestError {
    /// Password reset is off (see [`AuthService::with_password_reset`]).
    #[error("password reset is not enabled")]
    Disabled,
    /// The `email` field breaks a rule; the message is registration's for the same rule.
    #[error("{0}")]
    InvalidEmail(&'static str),
    /// Too many mail requests from the client's address or to the address: nothing was queued.
    #[error(transparent)]
    Throttled(#[from] super::Throttled),
    /// The store failed.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// Why a reset link set no password.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// Malformed, unknown, used or expired (or password reset is off).
    #[error("Invalid or expired link.")]
    InvalidLink,
    /// The new password breaks a rule (the message is registration's); the link stays usable.
    #[error("{0}")]
    InvalidPassword(&'static str),
    /// Something outside the domain failed: a store or the hasher.
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl AuthService {
    /// Queues a reset mail to the address in `email`, in the best of `languages`.
    ///
    /// The request does the same work whether or not an account has the address (the account is looked up when the
    /// mail is delivered), so neither its answer nor its timing tells whether the address is known. With the
    /// throttles on, it counts as a mail request from the client's address and to the address, either way.
    ///
    /// The audit trail gets a `password_reset_requested` event from `client`, of the account the store finds for the
    /// address in the same transaction (the address itself is not kept), or a `password_reset_request_throttled` one.
    pub async fn request_password_reset(
        &self,
        email: FieldValue,
        languages: &[String],
        client: &ClientInfo,
    ) -> Result<(), ResetRequestError> {
        let Some(reset) = &self.reset else {
            return Err(ResetRequestError::Disabled);
        };
        let email = text(email).and_then(check_email).map_err(ResetRequestError::InvalidEmail)?;
        let now = self.clock.now();
        if let Some(throttles) = &self.throttles {
            let judged = throttles.mail_request(client.ip.as_deref(), Some(&email), now).await;
            let kind = EventKind::PasswordResetRequestThrottled;
            self.note_throttled(judged, kind, now, Subject::Nobody, None, client).await?;
        }
        let language = reset.settings.templates.language(languages).map(str::to_owned);
        let mail = OutboxMail { to: email, kind: MailKind::PasswordReset, language };
        let event = AuditEvent::new(EventKind::PasswordResetRequested, now, None, None, client);
        reset.repo.request_reset(&mail, now, &event).await.map_err(Failure::from)?;
        Ok(())
    }

    /// Sets a new password with a reset link: every session and every reset link of the user are revoked, and a
    /// notice is queued. A new password that breaks a rule leaves the link usable. The account's failed logins from
    /// anywhere are forgotten, so that a guessing attack on the account cannot keep its owner out.
    ///
    /// `client` is where the request came from: the audit trail gets a `password_reset` event from it in the
    /// transaction that sets the password, and with the throttles on, its address is marked as the owner's for a day,
    /// so the account's failures from anywhere do not keep the owner out from there.
    pub async fn reset_password(&self, token: &str, new: FieldValue, client: &ClientInfo) -> Result<(), ResetError> {
        let (reset, token, user) = self.valid_reset_link(token).await?;
        let new = text(new).map(Password::new).and_then(|new| self.check_password(new));
        let new = new.map_err(ResetError::InvalidPassword)?;
        let hash = self.hasher.hash(&new).await.map_err(Failure::from)?;
        let notice = self.notice_for(&user);
        let now = self.clock.now();
        let event = AuditEvent::new(EventKind::PasswordReset, now, Some(user.id), None, client);
        let reset = reset.repo.reset_password(&token.digest(), now, &hash, notice.as_slice(), &event).await;
        match reset.map_err(Failure::from)? {
            Some(_) => {
                if let Some(throttles) = &self.throttles {
                    let key = crate::user::username_key(&user.username, self.config.username_case_insensitive);
                    // The password is reset whatever happens here; failures not forgotten expire on their own.
                    throttles.after_reset(client.ip.as_deref(), &key, now).await.ok();
                }
                Ok(())
            }
            // Used or expired since it was checked: a concurrent reset won.
            None => Err(ResetError::InvalidLink),
        }
    }

    /// Whether a reset link would work now, without using it (for the built-in form).
    pub async fn check_reset_link(&self, token: &str) -> Result<(), ResetError> {
        self.valid_reset_link(token).await.map(drop)
    }

    /// Deletes expired reset links; returns how many.
    pub async fn purge_expired_resets(&self) -> Result<u64, Failure> {
        match &self.reset {
            Some(reset) => Ok(reset.repo.purge_expired_resets(self.clock.now()).await?),
            None => Ok(0),
        }
    }

    /// The notice to queue after `user`'s password changed: `None` when notices are off or the user has no address.
    pub(crate) fn notice_for(&self, user: &User) -> Option<OutboxMail> {
        self.notice.as_ref()?;
        let email = user.email.as_deref().filter(|email| !email.is_empty())?;
        Some(OutboxMail { to: email.to_owned(), kind: MailKind::PasswordChanged, language: None })
    }

    /// A reset mail, when it is delivered: a new link for the account with the address, which replaces the
    /// account's older links. Void when reset is off or no active account has the address.
    pub(crate) async fn compose_reset(&self, entry: &OutboxEntry) -> Result<Composed, Failure> {
        let Some(reset) = &self.reset else {
            return Ok(Composed::Void("password reset is off"));
        };
        let token = PlainToken::generate()?;
        let now = self.clock.now();
        let expires_at = now.plus(reset.settings.token_validity);
        let added = reset.repo.add_reset(&entry.mail.to, &token.digest(), now, expires_at).await?;
        let Some(user) = added else {
            return Ok(Composed::Void("no active account has this address"));
        };
        let Some(to) = user.email.clone() else {
            return Ok(Composed::Void("no active account has this address"));
        };
        let url = reset.settings.url.replacen("{token}", &token.expose(), 1);
        let template = reset.settings.templates.get(entry.mail.language.as_deref());
        // To the address the account has, never to the request's spelling of it.
        Ok(Composed::Mail(Mail {
            to,
            subject: template.subject.render(&user.username, &url),
            body: template.message.render(&user.username, &url),
        }))
    }

    /// A notice that the password changed, when it is delivered; void when notices are off or the user is gone.
    pub(crate) async fn compose_notice(&self, entry: &OutboxEntry) -> Result<Composed, Failure> {
        let Some(templates) = &self.notice else {
            return Ok(Composed::Void("password change notices are off"));
        };
        let user = match entry.user_id {
            Some(id) => self.users.find_credentials(id).await?.map(|c| c.user),
            None => None,
        };
        let Some(user) = user else {
            return Ok(Composed::Void("the user is gone"));
        };
        let template = templates.get(entry.mail.language.as_deref());
        Ok(Composed::Mail(Mail {
            to: entry.mail.to.clone(),
            subject: template.subject.render(&user.username, ""),
            body: template.message.render(&user.username, ""),
        }))
    }

    /// A reset link that exists and has not expired, with its token and user.
    async fn valid_reset_link(&self, token: &str) -> Result<(&PasswordReset, PlainToken, User), ResetError> {
        let Some(reset) = &self.reset else {
            return Err(ResetError::InvalidLink);
        };
        let token = PlainToken::parse(token.as_bytes()).map_err(|_| ResetError::InvalidLink)?;
        let found = reset.repo.find_reset(&token.digest()).await.map_err(Failure::from)?;
        let Some(found) = found.filter(|found| !found.link.is_expired(self.clock.now())) else {
            return Err(ResetError::InvalidLink);
        };
        Ok((reset, token, found.user))
    }
}
