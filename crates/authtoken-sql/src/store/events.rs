//! `EventRepo` for `SqlStore`: the audit trail, and the helper with which the other ports record their events in
//! their own transactions.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::event::{AuditEvent, EventId, EventKind, EventQuery, StoredEvent};
use authtoken_core::ports::{EventRepo, StoreError};
use authtoken_core::session::{ClientInfo, SessionId};
use authtoken_core::user::UserId;

use super::SqlStore;
use crate::row::Row;
use crate::statements::{EVENT_COLUMNS, events};

#[async_trait]
impl EventRepo for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.pool.execute(&events::insert(event)).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn events_of(&self, user_id: UserId, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(self.pool.fetch_all(&events::of_user(user_id, limit), event_from_row).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_events(&self, query: &EventQuery, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(self.pool.fetch_all(&events::list(query, limit), event_from_row).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        Ok(self.pool.execute(&events::purge(before)).await?)
    }
}

/// Decodes [`EVENT_COLUMNS`] and then the user's name.
fn event_from_row(row: &dyn Row) -> Result<StoredEvent, StoreError> {
    let kind = row.text(2)?;
    let kind = EventKind::parse(&kind).ok_or_else(|| StoreError::new(format!("an unknown kind of event: {kind}")))?;
    Ok(StoredEvent {
        id: EventId(row.int(0)?),
        event: AuditEvent {
            at: Timestamp::from_millis(row.int(1)?),
            kind,
            user_id: row.opt_int(3)?.map(UserId),
            session_id: row.opt_text(4)?.map(SessionId::from_stored),
            client: ClientInfo { ip: row.opt_text(5)?, user_agent: row.opt_text(6)? },
        },
        username: row.opt_text(EVENT_COLUMNS.len())?,
    })
}
