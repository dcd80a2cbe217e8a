//! `EventRepo` for `InMemoryStore`, and how the other ports of the fake record their events.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::event::{AuditEvent, EventId, EventQuery, StoredEvent};
use authtoken_core::ports::{EventRepo, StoreError};
use authtoken_core::session::USER_AGENT_MAX_CHARS;
use authtoken_core::user::UserId;

use super::lock;
use super::store::{InMemoryStore, State};

#[async_trait]
impl EventRepo for InMemoryStore {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        check(event)?;
        lock(&self.0).record(event);
        Ok(())
    }

    async fn events_of(&self, user_id: UserId, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let state = lock(&self.0);
        let mut events: Vec<&(EventId, AuditEvent)> =
            state.events.iter().filter(|(_, event)| event.user_id == Some(user_id)).collect();
        events.sort_by_key(|(id, event)| std::cmp::Reverse((event.at, *id)));
        Ok(events.into_iter().take(limit as usize).map(|(id, event)| state.stored(*id, event)).collect())
    }

    async fn list_events(&self, query: &EventQuery, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let state = lock(&self.0);
        Ok(state
            .events
            .iter()
            .filter(|(id, event)| {
                query.after.is_none_or(|after| *id > after)
                    && query.user_id.is_none_or(|user| event.user_id == Some(user))
                    && query.since.is_none_or(|since| event.at >= since)
            })
            .take(limit as usize)
            .map(|(id, event)| state.stored(*id, event))
            .collect())
    }

    async fn purge_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut state = lock(&self.0);
        let count = state.events.len();
        state.events.retain(|(_, event)| event.at >= before);
        Ok((count - state.events.len()) as u64)
    }
}

/// Refuses what the SQL stores' `CHECK` refuses: a user agent longer than a request's can be.
pub(super) fn check(event: &AuditEvent) -> Result<(), StoreError> {
    let too_long = event.client.user_agent.as_ref().is_some_and(|ua| ua.chars().count() > USER_AGENT_MAX_CHARS);
    if too_long {
        return Err(StoreError::new("the event's user agent is longer than its limit"));
    }
    Ok(())
}

impl State {
    /// Records `event` with the next id, as the SQL stores' identity columns number them.
    pub(super) fn record(&mut self, event: &AuditEvent) {
        self.last_event_id += 1;
        self.events.push((EventId(self.last_event_id), event.clone()));
    }

    /// Records `event` as `user_id`'s.
    pub(super) fn record_of(&mut self, user_id: Option<UserId>, event: &AuditEvent) {
        self.record(&event.of_user(user_id));
    }

    fn stored(&self, id: EventId, event: &AuditEvent) -> StoredEvent {
        let username = event.user_id.and_then(|user| self.user(user)).map(|user| user.username.clone());
        StoredEvent { id, event: event.clone(), username }
    }
}
