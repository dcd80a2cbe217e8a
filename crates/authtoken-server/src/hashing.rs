//! The `PasswordHasher` port over Argon2id, run on tokio's blocking pool with a bound on concurrent hashes.

use std::sync::Arc;

use async_trait::async_trait;
use authtoken_core::password::Argon2id;
use authtoken_core::ports::{HashError, PasswordHasher};
use authtoken_core::user::{Password, PasswordHash};
use tokio::sync::Semaphore;

/// Runs every hash off the async executor, at most `concurrency` at a time; the rest wait their turn.
#[derive(Debug)]
pub struct PooledArgon2Hasher {
    argon2: Arc<Argon2id>,
    permits: Semaphore,
}

impl PooledArgon2Hasher {
    pub fn new(argon2: Argon2id, concurrency: usize) -> Self {
        Self { argon2: Arc::new(argon2), permits: Semaphore::new(concurrency.max(1)) }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce(&Argon2id) -> T + Send + 'static) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.map_err(|e| HashError(e.to_string()))?;
        let argon2 = Arc::clone(&self.argon2);
        tokio::task::spawn_blocking(move || work(&argon2)).await.map_err(|e| HashError(e.to_string()))
    }
}

#[async_trait]
impl PasswordHasher for PooledArgon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let password = password.clone();
        self.run(move |argon2| argon2.hash(&password)).await?.map_err(HashError)
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        let (password, hash) = (password.clone(), hash.clone());
        self.run(move |argon2| argon2.verify(&password, &hash)).await?.map_err(HashError)
    }

    async fn verify_dummy(&self, password: &Password) -> Result<(), HashError> {
        let password = password.clone();
        self.run(move |argon2| argon2.verify_dummy(&password)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use authtoken_core::password::Argon2Params;

    use super::*;

    fn hasher(concurrency: usize) -> PooledArgon2Hasher {
        let argon2 = Argon2id::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap();
        PooledArgon2Hasher::new(argon2, concurrency)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn hashes_verify_on_the_blocking_pool_even_on_a_single_threaded_runtime() {
        let hasher = hasher(2);
        let password = Password::new("correct horse".into());

        let hash = hasher.hash(&password).await.unwrap();

        assert!(hasher.verify(&password, &hash).await.unwrap());
        assert!(!hasher.verify(&Password::new("wrong".into()), &hash).await.unwrap());
        hasher.verify_dummy(&password).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_configured_number_of_hashes_run_at_once() {
        let hasher = Arc::new(hasher(2));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));

        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (hasher, running, peak) = (hasher.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    hasher
                        .run(move |_| {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }

        let peak = peak.load(Ordering::SeqCst);
        assert!((1..=2).contains(&peak), "{peak} hashes ran at once");
    }
}
