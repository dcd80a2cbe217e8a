//! `Outbox` for `InMemoryStore`.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::outbox::{OUTBOX_ERROR_MAX_CHARS, OutboxEntry, OutboxId, OutboxState};
use authtoken_core::ports::{Outbox, StoreError};

use super::lock;
use super::store::{InMemoryStore, StoredEntry};

#[async_trait]
impl Outbox for InMemoryStore {
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut state = lock(&self.0);
        let mut due: Vec<&mut StoredEntry> = state
            .outbox
            .iter_mut()
            .filter(|e| e.entry.state == OutboxState::Pending && e.entry.next_attempt_at <= now)
            .filter(|e| e.leased_until.is_none_or(|until| until < now))
            .collect();
        due.sort_by_key(|e| (e.entry.created_at, e.entry.id));
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(due
            .into_iter()
            .take(limit)
            .map(|e| {
                e.leased_until = Some(lease_until);
                e.entry.clone()
            })
            .collect())
    }

    async fn mark_sent(&self, id: OutboxId, at: Timestamp) -> Result<(), StoreError> {
        let mut state = lock(&self.0);
        if let Some(stored) = state.outbox.iter_mut().find(|e| e.entry.id == id) {
            stored.entry.state = OutboxState::Sent;
            stored.entry.sent_at = Some(at);
            stored.leased_until = None;
        }
        Ok(())
    }

    async fn mark_failed(&self, id: OutboxId, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError> {
        let mut state = lock(&self.0);
        if let Some(stored) = state.outbox.iter_mut().find(|e| e.entry.id == id) {
            stored.entry.attempts += 1;
            stored.entry.last_error = Some(error.chars().take(OUTBOX_ERROR_MAX_CHARS).collect());
            stored.leased_until = None;
            match retry_at {
                Some(at) => stored.entry.next_attempt_at = at,
                None => stored.entry.state = OutboxState::Failed,
            }
        }
        Ok(())
    }

    async fn retry_failed(&self, ids: Option<Vec<OutboxId>>, at: Timestamp) -> Result<u64, StoreError> {
        let mut state = lock(&self.0);
        let mut retried = 0;
        for stored in &mut state.outbox {
            let named = ids.as_ref().is_none_or(|ids| ids.contains(&stored.entry.id));
            if named && stored.entry.state == OutboxState::Failed {
                stored.entry.state = OutboxState::Pending;
                stored.entry.attempts = 0;
                stored.entry.next_attempt_at = at;
                stored.leased_until = None;
                retried += 1;
            }
        }
        Ok(retried)
    }

    async fn entries(&self, states: &[OutboxState]) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut entries: Vec<OutboxEntry> =
            lock(&self.0).outbox.iter().filter(|e| states.contains(&e.entry.state)).map(|e| e.entry.clone()).collect();
        entries.sort_by_key(|e| (e.created_at, e.id));
        Ok(entries)
    }
}
