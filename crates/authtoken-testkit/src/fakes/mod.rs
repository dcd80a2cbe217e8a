//! In-memory fakes of the ports (`store.rs` holds the state, one file a port beside it): a store, a clock that only moves when told, and a cheap password hasher.

mod confirmations;
mod events;
mod outbox;
mod resets;
mod store;
mod throttles;

pub use store::InMemoryStore;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::ports::{Clock, HashError, PasswordHasher};
use authtoken_core::user::{Password, PasswordHash};

/// A clock that stands still until [`FakeClock::advance`] moves it.
#[derive(Clone, Debug)]
pub struct FakeClock(Arc<Mutex<Timestamp>>);

impl FakeClock {
    pub fn at(now: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = lock(&self.0);
        *now = now.plus(by);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *lock(&self.0)
    }
}

/// A password hasher that costs nothing and counts what it was asked to do.
///
/// Its "hash" is the password behind a marker, so it is only for tests.
#[derive(Debug, Default)]
pub struct FakePasswordHasher {
    verifications: AtomicUsize,
    dummy_verifications: AtomicUsize,
}

impl FakePasswordHasher {
    /// Real and dummy verifications so far.
    pub fn verifications(&self) -> (usize, usize) {
        (self.verifications.load(Ordering::SeqCst), self.dummy_verifications.load(Ordering::SeqCst))
    }

    /// The hash this fake gives `password`, for seeding stores directly.
    pub fn hash_of(password: &str) -> PasswordHash {
        PasswordHash::new(format!("fake${password}"))
    }

    /// A hash of `password` that this fake verifies but wants replaced, as the real hasher wants a Django hash
    /// replaced.
    pub fn legacy_hash_of(password: &str) -> PasswordHash {
        PasswordHash::new(format!("fake-legacy${password}"))
    }
}

#[async_trait]
impl PasswordHasher for FakePasswordHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let text = String::from_utf8(password.as_bytes().to_vec()).map_err(HashError::new)?;
        Ok(Self::hash_of(&text))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        let stored = hash.as_str().strip_prefix("fake$").or_else(|| hash.as_str().strip_prefix("fake-legacy$"));
        Ok(stored.map(str::as_bytes) == Some(password.as_bytes()))
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        hash.as_str().starts_with("fake-legacy$")
    }

    async fn verify_dummy(&self, _password: &Password) -> Result<(), HashError> {
        self.dummy_verifications.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A poisoned lock only means another test thread panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
