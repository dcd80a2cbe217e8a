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
    async fn check(&self, checks: &[Check], now: Timestamp) -> Result<Vec<Option<Duration>>, StoreError> {
        // `None` while a check's answer is not known yet.
        let mut answers: Vec<Option<Option<Duration>>> = vec![None; checks.len()];
        let watched: Vec<usize> = (0..checks.len()).filter(|&at| !checks[at].count).collect();
        let watched_keys: Vec<ThrottleKey> = watched.iter().map(|&at| checks[at].key).collect();
        let mut first = true;
        for (at, check) in checks.iter().enumerate().filter(|(_, check)| check.count) {
            let reads: &[ThrottleKey] = if first { &watched_keys } else { &[] };
            let decode = |row: &dyn Row| (1..=reads.len()).map(|column| row.opt_int(column)).collect();
            if let Some(times) = self.pool.fetch_optional(&throttles::admit(check, now, reads), decode).await? {
                answers[at] = Some(None);
                let times: Vec<Option<i64>> = times;
                for (&watched, tat) in watched.iter().zip(times).take(reads.len()) {
                    answers[watched] = Some(checks[watched].rate.wait(tat.map(Timestamp::from_millis), now));
                }
            }
            first = false;
        }
        let unknown: Vec<usize> = (0..checks.len()).filter(|&at| answers[at].is_none()).collect();
        if !unknown.is_empty() {
            let times = self.times(&unknown.iter().map(|&at| checks[at].key).collect::<Vec<_>>()).await?;
            for at in unknown {
                let tat = times.iter().find(|(key, _)| *key == checks[at].key).map(|(_, tat)| *tat);
                let wait = checks[at].rate.wait(tat, now);
                // A refused attempt always says to wait, even when its key refilled since it was refused.
                answers[at] = Some(if checks[at].count { wait.or(Some(Duration::from_millis(1))) } else { wait });
            }
        }
        Ok(answers.into_iter().flatten().collect())
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
    /// The stored times of `keys`; a key not stored is left out.
    async fn times(&self, keys: &[ThrottleKey]) -> Result<Vec<(ThrottleKey, Timestamp)>, StoreError> {
        let decode = |row: &dyn Row| {
            let bytes: [u8; 32] =
                row.bytes(0)?.try_into().map_err(|_| StoreError::new("a throttle key is not 32 bytes"))?;
            Ok((ThrottleKey::from_bytes(bytes), Timestamp::from_millis(row.int(1)?)))
        };
        Ok(self.pool.fetch_all(&throttles::find(keys), decode).await?)
    }
}
