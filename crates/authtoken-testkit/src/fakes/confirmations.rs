//! `ConfirmationRepo` for `InMemoryStore`.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::confirmation::{Confirmation, ConfirmationWithUser};
use authtoken_core::event::AuditEvent;
use authtoken_core::outbox::{MailKind, OutboxEntry, OutboxId, OutboxMail, OutboxState};
use authtoken_core::ports::{ConfirmationRepo, CreateUserError, StoreError};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{NewUser, User, UserId};

use super::lock;
use super::store::{InMemoryStore, State, StoredEntry};

#[async_trait]
impl ConfirmationRepo for InMemoryStore {
    async fn create_user_with_confirmation(
        &self,
        user: &NewUser,
        mail: &OutboxMail,
        event: &AuditEvent,
    ) -> Result<User, CreateUserError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        let user = state.create_user(user)?;
        state.queue(user.id, mail, user.joined_at);
        state.record_of(Some(user.id), event);
        Ok(user)
    }

    async fn replace_confirmation(
        &self,
        user_id: UserId,
        mail: &OutboxMail,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut state = lock(&self.0);
        if state.user(user_id).is_none() {
            return Ok(false);
        }
        state.confirmations.retain(|_, c| c.user_id != user_id);
        state.outbox.retain(|e| {
            e.entry.user_id != Some(user_id)
                || e.entry.state != OutboxState::Pending
                || e.entry.mail.kind != MailKind::Confirmation
        });
        state.queue(user_id, mail, at);
        Ok(true)
    }

    async fn add_confirmation(&self, link: &Confirmation) -> Result<Option<User>, StoreError> {
        let mut state = lock(&self.0);
        let user = state
            .user(link.user_id)
            .filter(|user| user.email.as_deref() == Some(link.email.as_str()) && !user.email_confirmed)
            .cloned();
        if user.is_some() {
            state.confirmations.insert(*link.digest.as_bytes(), link.clone());
        }
        Ok(user)
    }

    async fn find_confirmation(&self, digest: &TokenDigest) -> Result<Option<ConfirmationWithUser>, StoreError> {
        let state = lock(&self.0);
        let Some(confirmation) = state.confirmations.get(digest.as_bytes()) else {
            return Ok(None);
        };
        let user = state.user(confirmation.user_id).cloned();
        Ok(user.map(|user| ConfirmationWithUser { confirmation: confirmation.clone(), user }))
    }

    async fn confirm(&self, digest: &TokenDigest, event: &AuditEvent) -> Result<bool, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        let Some(confirmation) = state.confirmations.remove(digest.as_bytes()) else {
            return Ok(false);
        };
        state.confirmations.retain(|_, c| c.user_id != confirmation.user_id);
        if let Some(user) = state.user_mut(confirmation.user_id) {
            user.email_confirmed = true;
        }
        state.record_of(Some(confirmation.user_id), event);
        Ok(true)
    }

    async fn delete_confirmation(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(lock(&self.0).confirmations.remove(digest.as_bytes()).is_some())
    }

    async fn purge_expired_confirmations(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = lock(&self.0);
        let before = state.confirmations.len();
        state.confirmations.retain(|_, c| c.expires_at >= now);
        Ok((before - state.confirmations.len()) as u64)
    }

    async fn unconfirmed_users(&self) -> Result<Vec<User>, StoreError> {
        let state = lock(&self.0);
        let mut users: Vec<User> = state
            .users
            .iter()
            .map(|u| &u.user)
            .filter(|u| u.email.as_deref().is_some_and(|email| !email.is_empty()) && !u.email_confirmed)
            .cloned()
            .collect();
        users.sort_by_key(|u| u.id);
        Ok(users)
    }
}

impl State {
    /// Puts the user's mail (or, without a user, a mail to an address) in the outbox, due at `at`.
    pub(super) fn queue(&mut self, user_id: impl Into<Option<UserId>>, mail: &OutboxMail, at: Timestamp) {
        self.last_outbox_id += 1;
        let entry = OutboxEntry {
            id: OutboxId(self.last_outbox_id),
            user_id: user_id.into(),
            mail: mail.clone(),
            state: OutboxState::Pending,
            created_at: at,
            attempts: 0,
            next_attempt_at: at,
            last_error: None,
            sent_at: None,
        };
        self.outbox.push(StoredEntry { entry, leased_until: None });
    }
}
