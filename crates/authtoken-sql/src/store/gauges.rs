//! What a metrics scrape reads of the store: the outbox's waiting and failed mail, and the connection pool's use.

use authtoken_core::Timestamp;
use authtoken_core::outbox::OutboxState;
use authtoken_core::ports::StoreError;
use sea_query::{Expr, ExprTrait as _, Func, Query};

use super::SqlStore;
use crate::backend::Pool;
use crate::statements::Outbox;
use crate::statements::outbox::state_text;

/// Mail in the outbox that is not sent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxGauges {
    pub pending: u64,
    pub failed: u64,
    /// When the oldest pending mail was queued.
    pub oldest_pending_at: Option<Timestamp>,
}

/// The database connections of the pool that serves the stores (not the session lookups' own).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PoolGauges {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl SqlStore {
    /// The outbox's pending and failed mail, in one query (the index on `state, created_at` serves it).
    pub async fn outbox_gauges(&self) -> Result<OutboxGauges, StoreError> {
        let query = Query::select()
            .column(Outbox::State)
            .expr(Func::count(Expr::col(Outbox::Id)))
            .expr(Func::min(Expr::col(Outbox::CreatedAt)))
            .from(Outbox::Table)
            .and_where(Expr::col(Outbox::State).is_in([OutboxState::Pending, OutboxState::Failed].map(state_text)))
            .group_by_col(Outbox::State)
            .to_owned();
        let rows = self.pool.fetch_all(&query, |row| Ok((row.text(0)?, row.int(1)?, row.opt_int(2)?))).await?;
        let mut gauges = OutboxGauges::default();
        for (state, count, oldest) in rows {
            let count = u64::try_from(count).unwrap_or(0);
            if state == state_text(OutboxState::Pending) {
                gauges.pending = count;
                gauges.oldest_pending_at = oldest.map(Timestamp::from_millis);
            } else {
                gauges.failed = count;
            }
        }
        Ok(gauges)
    }

    /// The pool's connections now: open, idle among them, and the most it opens (`database_max_connections`).
    pub fn pool_gauges(&self) -> PoolGauges {
        let (open, idle, max) = match &self.pool {
            Pool::Sqlite { pool, .. } => (pool.size(), pool.num_idle(), pool.options().get_max_connections()),
            Pool::Postgres { pool, .. } => (pool.size(), pool.num_idle(), pool.options().get_max_connections()),
        };
        PoolGauges { open, idle: u32::try_from(idle).unwrap_or(u32::MAX), max }
    }
}
