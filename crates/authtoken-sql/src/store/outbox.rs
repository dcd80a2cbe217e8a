//! `Outbox` for `SqlStore`: mail waiting for delivery, claimed by workers under a lease.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::outbox::{MailKind, OutboxEntry, OutboxId, OutboxMail, OutboxState};
use authtoken_core::ports::{Outbox, StoreError};
use authtoken_core::user::UserId;

use super::SqlStore;
use crate::row::Row;
use crate::statements::outbox;

#[async_trait]
impl Outbox for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut claimed = self.pool.fetch_all(&outbox::claim_due(now, lease_until, limit), entry_from_row).await?;
        // `RETURNING` keeps no order.
        claimed.sort_by_key(|entry| (entry.created_at, entry.id));
        Ok(claimed)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn mark_sent(&self, id: OutboxId, at: Timestamp) -> Result<(), StoreError> {
        self.pool.execute(&outbox::mark_sent(id, at)).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn mark_failed(&self, id: OutboxId, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError> {
        self.pool.execute(&outbox::mark_failed(id, error, retry_at)).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn retry_failed(&self, ids: Option<Vec<OutboxId>>, at: Timestamp) -> Result<u64, StoreError> {
        if ids.as_ref().is_some_and(Vec::is_empty) {
            return Ok(0);
        }
        Ok(self.pool.execute(&outbox::retry_failed(ids.as_deref(), at)).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn entries(&self, states: &[OutboxState]) -> Result<Vec<OutboxEntry>, StoreError> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.pool.fetch_all(&outbox::in_states(states), entry_from_row).await?)
    }
}

/// Decodes [`crate::statements::OUTBOX_COLUMNS`] from the start of the row.
fn entry_from_row(row: &dyn Row) -> Result<OutboxEntry, StoreError> {
    let state = row.text(5)?;
    let kind = row.text(3)?;
    Ok(OutboxEntry {
        id: OutboxId(row.int(0)?),
        user_id: row.opt_int(1)?.map(UserId),
        mail: OutboxMail {
            to: row.text(2)?,
            kind: MailKind::parse(&kind)
                .ok_or_else(|| StoreError::new(format!("an outbox entry has the unknown kind {kind:?}")))?,
            language: row.opt_text(4)?,
        },
        state: outbox::state_from_text(&state)
            .ok_or_else(|| StoreError::new(format!("an outbox entry has the unknown state {state:?}")))?,
        created_at: Timestamp::from_millis(row.int(6)?),
        attempts: u32::try_from(row.int32(7)?)
            .map_err(|_| StoreError::new("an outbox entry has a negative attempt count"))?,
        next_attempt_at: Timestamp::from_millis(row.int(8)?),
        last_error: row.opt_text(9)?,
        sent_at: row.opt_int(10)?.map(Timestamp::from_millis),
    })
}
