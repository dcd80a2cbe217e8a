//! `ResetRepo` for `InMemoryStore`.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::event::AuditEvent;
use authtoken_core::outbox::{MailKind, OutboxMail, OutboxState};
use authtoken_core::ports::{ResetRepo, StoreError};
use authtoken_core::reset::{ResetLink, ResetLinkWithUser};
use authtoken_core::session::Revoke;
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{PasswordHash, User, UserId};

use super::lock;
use super::store::{InMemoryStore, State};

#[async_trait]
impl ResetRepo for InMemoryStore {
    async fn request_reset(&self, mail: &OutboxMail, at: Timestamp, event: &AuditEvent) -> Result<(), StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        state.outbox.retain(|e| {
            e.entry.state != OutboxState::Pending
                || e.entry.mail.kind != MailKind::PasswordReset
                || !e.entry.mail.to.eq_ignore_ascii_case(&mail.to)
        });
        state.queue(None, mail, at);
        let owner = state.reset_owner(&mail.to).map(|user| user.id);
        state.record_of(owner, event);
        Ok(())
    }

    async fn add_reset(
        &self,
        email: &str,
        digest: &TokenDigest,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let mut state = lock(&self.0);
        let Some(user) = state.reset_owner(email) else {
            return Ok(None);
        };
        state.resets.retain(|_, r| r.user_id != user.id);
        let link = ResetLink { digest: digest.clone(), user_id: user.id, created_at, expires_at };
        state.resets.insert(*digest.as_bytes(), link);
        Ok(Some(user))
    }

    async fn find_reset(&self, digest: &TokenDigest) -> Result<Option<ResetLinkWithUser>, StoreError> {
        let state = lock(&self.0);
        let Some(link) = state.resets.get(digest.as_bytes()) else {
            return Ok(None);
        };
        let user = state.user(link.user_id).cloned();
        Ok(user.map(|user| ResetLinkWithUser { link: link.clone(), user }))
    }

    async fn reset_password(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
        hash: &PasswordHash,
        notices: &[OutboxMail],
        event: &AuditEvent,
    ) -> Result<Option<UserId>, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        let Some(link) = state.resets.get(digest.as_bytes()).filter(|link| !link.is_expired(now)).cloned() else {
            return Ok(None);
        };
        let user_id = link.user_id;
        state.resets.retain(|_, r| r.user_id != user_id);
        state.set_password_hash(user_id, hash);
        state.revoke_sessions(user_id, &Revoke::All);
        for notice in notices {
            state.queue(user_id, notice, now);
        }
        state.record_of(Some(user_id), event);
        Ok(Some(user_id))
    }

    async fn purge_expired_resets(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = lock(&self.0);
        let before = state.resets.len();
        state.resets.retain(|_, r| r.expires_at >= now);
        Ok((before - state.resets.len()) as u64)
    }
}

impl State {
    /// The first registered active user with the address `email`, in any ASCII case.
    fn reset_owner(&self, email: &str) -> Option<User> {
        let mut owners: Vec<&User> = self
            .users
            .iter()
            .map(|u| &u.user)
            .filter(|u| u.is_active && u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .collect();
        owners.sort_by_key(|u| u.id);
        owners.first().map(|u| (*u).clone())
    }
}
