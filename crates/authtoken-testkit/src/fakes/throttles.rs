//! `ThrottleStore` for the in-memory store: the core's [`MemoryThrottleStore`], which a server uses too.

use std::time::Duration;

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::ports::{StoreError, ThrottleStore};
use authtoken_core::throttle::{Check, ThrottleKey};

use super::InMemoryStore;

#[async_trait]
impl ThrottleStore for InMemoryStore {
    async fn check(&self, checks: &[Check], now: Timestamp) -> Result<Vec<Option<Duration>>, StoreError> {
        self.1.check(checks, now).await
    }

    async fn record(&self, checks: &[Check], now: Timestamp) -> Result<(), StoreError> {
        self.1.record(checks, now).await
    }

    async fn forget(&self, keys: &[ThrottleKey]) -> Result<(), StoreError> {
        self.1.forget(keys).await
    }

    async fn purge(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.1.purge(now).await
    }
}
