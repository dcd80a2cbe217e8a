//! `MemoryThrottleStore`: the throttle store of one process, the `memory` choice of `throttle_store`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::ports::ThrottleStore;
use crate::throttle::{Check, ThrottleKey};
use crate::time::Timestamp;

/// The throttle store of one process: a map from key to time under one lock.
///
/// Keys whose time has passed are dropped by [`ThrottleStore::purge`] and, once the map holds more than
/// [`MemoryThrottleStore::SWEEP_AT`] keys, by the next write.
#[derive(Debug, Default)]
pub struct MemoryThrottleStore {
    keys: Mutex<HashMap<ThrottleKey, Timestamp>>,
}

impl MemoryThrottleStore {
    /// How many keys the map holds before a write sweeps out the ones whose time has passed.
    pub const SWEEP_AT: usize = 100_000;

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<ThrottleKey, Timestamp>>, StoreError> {
        self.keys.lock().map_err(|_| StoreError::new("the throttle map is poisoned"))
    }

    fn sweep(keys: &mut HashMap<ThrottleKey, Timestamp>, now: Timestamp) -> u64 {
        let before = keys.len();
        keys.retain(|_, tat| *tat > now);
        (before - keys.len()) as u64
    }
}

#[async_trait]
impl ThrottleStore for MemoryThrottleStore {
    async fn check(&self, checks: &[Check], now: Timestamp) -> Result<Vec<Option<Duration>>, StoreError> {
        let mut keys = self.lock()?;
        if keys.len() > Self::SWEEP_AT {
            Self::sweep(&mut keys, now);
        }
        let mut answers = Vec::with_capacity(checks.len());
        for check in checks {
            let tat = keys.get(&check.key).copied();
            let wait = if check.count {
                match check.rate.admit(tat, now) {
                    Ok(next) => {
                        keys.insert(check.key, next);
                        None
                    }
                    Err(wait) => Some(wait),
                }
            } else {
                check.rate.wait(tat, now)
            };
            answers.push(wait);
        }
        Ok(answers)
    }

    async fn record(&self, checks: &[Check], now: Timestamp) -> Result<(), StoreError> {
        let mut keys = self.lock()?;
        for check in checks {
            let tat = keys.get(&check.key).copied();
            keys.insert(check.key, check.rate.record(tat, now));
        }
        Ok(())
    }

    async fn forget(&self, forgotten: &[ThrottleKey]) -> Result<(), StoreError> {
        let mut keys = self.lock()?;
        for key in forgotten {
            keys.remove(key);
        }
        Ok(())
    }

    async fn purge(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(Self::sweep(&mut *self.lock()?, now))
    }
}
