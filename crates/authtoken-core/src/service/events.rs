//! The audit trail: the caller's latest events, the purge of old ones, and recording the events that change nothing
//! else.

use super::{AuthService, Failure};
use crate::error::StoreError;
use crate::event::{AuditEvent, EVENTS_SHOWN, EventKind, StoredEvent};
use crate::service::Authenticated;
use crate::session::ClientInfo;
use crate::time::Timestamp;

impl AuthService {
    /// The caller's latest events (at most [`EVENTS_SHOWN`]), newest first.
    pub async fn events(&self, auth: &Authenticated) -> Result<Vec<StoredEvent>, StoreError> {
        self.events.events_of(auth.user.id, EVENTS_SHOWN).await
    }

    /// Deletes the events older than `auth_event_retention`; returns how many.
    pub async fn purge_events(&self) -> Result<u64, StoreError> {
        let before = self.clock.now().minus(self.config.auth_event_retention);
        self.events.purge_events(before).await
    }

    /// Records an event that changes nothing else, such as a failed login.
    pub(crate) async fn record(&self, event: &AuditEvent) -> Result<(), Failure> {
        Ok(self.events.record(event).await?)
    }
}

/// An event of an authenticated request: its user and, unless another is named, its session.
pub(crate) fn of_request(kind: EventKind, at: Timestamp, auth: &Authenticated, client: &ClientInfo) -> AuditEvent {
    AuditEvent::new(kind, at, Some(auth.user.id), Some(&auth.session.id), client)
}
