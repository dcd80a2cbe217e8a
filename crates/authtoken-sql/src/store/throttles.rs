//! `ThrottleStore` for `SqlStore`: the throttles' keys in the database, shared by every server on it.
//!
//! A check whose first counted key is admitted costs one statement, which also reads the keys that are only
//! watched; a refusal costs one more, to read how long the client has to wait.

use std::time::Duration;

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::ports::{StoreError, ThrottleStore};
use authtoken_core::throttle::{Check, ThrottleKey};

use super::SqlStore;
use crate::row::Row;
use crate::statements::throttles;

#[async_trait]
impl ThrottleStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn check(&self, checks: &[Check], now: Timestamp) -> Result<Option<Duration>, StoreError> {
        let (counted, watched): (Vec<&Check>, Vec<&Check>) = checks.iter().partition(|check| check.count);
        let watched_keys: Vec<ThrottleKey> = watched.iter().map(|check| check.key).collect();
        let mut watched_times: Option<Vec<Option<i64>>> = None;
        let mut refused: Vec<&Check> = Vec::new();
        for (at, check) in counted.into_iter().enumerate() {
            let reads: &[ThrottleKey] = if at == 0 { &watched_keys } else { &[] };
            let decode = |row: &dyn Row| (1..=reads.len()).map(|column| row.opt_int(column)).collect();
            match self.pool.fetch_optional(&throttles::admit(check, now, reads), decode).await? {
                Some(times) if at == 0 => watched_times = Some(times),
                Some(_) => {}
                None => refused.push(check),
            }
        }
        let waits = match watched_times {
            Some(times) if refused.is_empty() => watched
                .iter()
                .zip(times)
                .filter_map(|(check, tat)| check.rate.wait(tat.map(Timestamp::from_millis), now))
                .max(),
            _ => self.waits(&watched, &refused, now).await?,
        };
        Ok(waits)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn record(&self, checks: &[Check], now: Timestamp) -> Result<(), StoreError> {
        for check in checks {
            self.pool.execute(&throttles::record(check, now)).await?;
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn forget(&self, keys: &[ThrottleKey]) -> Result<(), StoreError> {
        if !keys.is_empty() {
            self.pool.execute(&throttles::delete(keys)).await?;
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(self.pool.execute(&throttles::purge(now)).await?)
    }
}

impl SqlStore {
    /// The longest wait among the watched keys and the refused counted ones, read now; a refused key that has
    /// refilled since it was refused waits a millisecond, so that a refusal always says to wait.
    async fn waits(
        &self,
        watched: &[&Check],
        refused: &[&Check],
        now: Timestamp,
    ) -> Result<Option<Duration>, StoreError> {
        let all: Vec<&Check> = watched.iter().chain(refused).copied().collect();
        if all.is_empty() {
            return Ok(None);
        }
        let keys: Vec<ThrottleKey> = all.iter().map(|check| check.key).collect();
        let decode = |row: &dyn Row| {
            let bytes: [u8; 32] =
                row.bytes(0)?.try_into().map_err(|_| StoreError::new("a throttle key is not 32 bytes"))?;
            Ok((ThrottleKey::from_bytes(bytes), Timestamp::from_millis(row.int(1)?)))
        };
        let stored = self.pool.fetch_all(&throttles::find(&keys), decode).await?;
        let time = |key: &ThrottleKey| stored.iter().find(|(stored, _)| stored == key).map(|(_, tat)| *tat);
        let watched_wait = watched.iter().filter_map(|check| check.rate.wait(time(&check.key), now)).max();
        let refused_wait = refused
            .iter()
            .map(|check| check.rate.wait(time(&check.key), now).unwrap_or(Duration::from_millis(1)))
            .max();
        Ok(watched_wait.max(refused_wait))
    }
}
