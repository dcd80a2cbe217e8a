//! The `PasswordHasher` port over Argon2id, on a fixed pool of dedicated threads, never on the async executor.
//!
//! The answer comes back on a `futures-channel` oneshot, which needs no runtime: the adapter works under tokio,
//! async-std or any other executor.
//!
//! A fixed pool bounds both CPU and memory: at most `concurrency` hashes run at once, each on a thread of its own
//! that reuses one `HashMemory`, so the 19 MiB of an Argon2id hash exist exactly `concurrency` times and are never
//! freed and allocated again (which fragments the heap). Requests beyond that wait in a queue.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authtoken_core::ports::{HashError, PasswordHasher};
use authtoken_core::user::{Password, PasswordHash};
use futures_channel::oneshot;

use crate::argon2id::{Argon2id, HashMemory};
use crate::check::{self, Floor};

/// A unit of hashing work with the channel its answer goes back on.
type Job = Box<dyn FnOnce(&Argon2id, &mut HashMemory) + Send>;

/// Told how long each check or hash waited in the queue before a thread took it.
pub type QueueWaitObserver = Arc<dyn Fn(Duration) + Send + Sync>;

/// Runs Argon2id on `concurrency` dedicated threads; the threads end when the hasher is dropped.
///
/// ```
/// use std::sync::Arc;
///
/// use authtoken_argon2::{Argon2Hasher, Argon2Params, Argon2id, default_hash_concurrency};
/// use authtoken_core::ports::PasswordHasher;
///
/// let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
/// let argon2 = Argon2id::new(Argon2Params::RECOMMENDED).expect("the recommended parameters are valid");
/// let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2Hasher::new(argon2, default_hash_concurrency(cpus)));
/// ```
pub struct Argon2Hasher {
    jobs: Mutex<mpsc::Sender<Job>>,
    /// The current parameters, for [`PasswordHasher::needs_rehash`], which runs on the caller's thread.
    argon2: Arc<Argon2id>,
    /// The work every check adds while hashes imported from Django remain: see the `check` module.
    floor: Option<Arc<Floor>>,
    queue_wait: Option<QueueWaitObserver>,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher").field("argon2", &self.argon2).field("floor", &self.floor).finish_non_exhaustive()
    }
}

impl Argon2Hasher {
    /// Starts `concurrency` hashing threads (at least one), named `argon2-0`, `argon2-1`, and so on.
    pub fn new(argon2: Argon2id, concurrency: usize) -> Self {
        let argon2 = Arc::new(argon2);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..concurrency.max(1) {
            let (argon2, receiver) = (Arc::clone(&argon2), Arc::clone(&receiver));
            let spawned = std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || {
                let mut memory = HashMemory::default();
                loop {
                    // The lock is held only while waiting for the next job, never while hashing.
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    job(&argon2, &mut memory);
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = &e as &dyn std::error::Error, "cannot start a password hashing thread");
            }
        }
        Self { jobs: Mutex::new(sender), argon2, floor: None, queue_wait: None }
    }

    /// Makes every check cost as much as a check of the costliest Django hash among `stored` (a few hundred of the
    /// stored hashes that are not Argon2id, such as `SqlStore::legacy_password_hashes` returns), so that the time of
    /// a refused login says nothing about the account while imported users keep Django's hashes. Nothing changes
    /// when `stored` holds no Django hash.
    #[must_use]
    pub fn with_imported_hashes(mut self, stored: &[PasswordHash]) -> Self {
        self.floor = Floor::costliest(stored).map(Arc::new);
        self
    }

    /// Tells `observer` how long each job waited for a hashing thread (for a metric of the queue).
    #[must_use]
    pub fn with_queue_wait_observer(mut self, observer: QueueWaitObserver) -> Self {
        self.queue_wait = Some(observer);
        self
    }

    /// Whether checks spend the work of an imported hash (see [`Argon2Hasher::with_imported_hashes`]).
    pub fn checks_imported_hashes(&self) -> bool {
        self.floor.is_some()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2id, &mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (reply, answer) = oneshot::channel();
        let (queued, observer) = (Instant::now(), self.queue_wait.clone());
        let job: Job = Box::new(move |argon2, memory| {
            if let Some(observe) = observer {
                observe(queued.elapsed());
            }
            let _ = reply.send(work(argon2, memory));
        });
        self.jobs
            .lock()
            .map_err(|_| HashError::new("the hashing queue is poisoned"))?
            .send(job)
            .map_err(|_| HashError::new("no hashing thread is running"))?;
        answer.await.map_err(|_| HashError::new("a hashing thread stopped"))
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let password = password.clone();
        self.run(move |argon2, memory| argon2.hash_in(&password, memory)).await?
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        let (password, hash, floor) = (password.clone(), hash.clone(), self.floor.clone());
        self.run(move |argon2, memory| check::verify(argon2, floor.as_deref(), &password, &hash, memory)).await?
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        !self.argon2.is_current(hash)
    }

    async fn verify_dummy(&self, password: &Password) -> Result<(), HashError> {
        let (password, floor) = (password.clone(), self.floor.clone());
        self.run(move |argon2, memory| check::verify_dummy(argon2, floor.as_deref(), &password, memory)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::Argon2Params;

    fn hasher(concurrency: usize) -> Argon2Hasher {
        let argon2 = Argon2id::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap();
        Argon2Hasher::new(argon2, concurrency)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn hashes_verify_off_the_executor_even_on_a_single_threaded_runtime() {
        let hasher = hasher(2);
        let password = Password::new("correct horse".into());

        let hash = hasher.hash(&password).await.unwrap();

        assert!(hasher.verify(&password, &hash).await.unwrap());
        assert!(!hasher.verify(&Password::new("wrong".into()), &hash).await.unwrap());
        hasher.verify_dummy(&password).await.unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_work_runs_on_the_pools_threads_not_the_callers() {
        let hasher = hasher(1);
        let caller = std::thread::current().id();

        let (worker, name) = hasher
            .run(|_, _| (std::thread::current().id(), std::thread::current().name().map(str::to_owned)))
            .await
            .unwrap();

        assert_ne!(worker, caller);
        assert_eq!(name.as_deref(), Some("argon2-0"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_observer_is_told_each_jobs_wait_for_a_thread() {
        let waits = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&waits);
        let hasher = hasher(1).with_queue_wait_observer(Arc::new(move |wait| seen.lock().unwrap().push(wait)));
        let blocker = hasher.run(|_, _| std::thread::sleep(std::time::Duration::from_millis(50)));
        let waiting = hasher.run(|_, _| ());

        let (first, second) = tokio::join!(blocker, waiting);
        first.unwrap();
        second.unwrap();

        let waits = waits.lock().unwrap().clone();
        assert_eq!(waits.len(), 2);
        assert!(waits[1] >= std::time::Duration::from_millis(50), "the second waited for the first: {waits:?}");
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
                        .run(move |_, _| {
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
