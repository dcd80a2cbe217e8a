//! The raw Argon2id rate of this machine: the ceiling that logins are compared with.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use authtoken_argon2::{Argon2id, HashMemory};
use authtoken_core::user::Password;

/// Argon2id cost parameters, as the server's `password_hash_*` settings give them.
pub(super) use authtoken_argon2::Argon2Params as HashParams;

/// Hashes computed by `threads` threads in `elapsed`.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawHashRate {
    pub params: HashParams,
    pub threads: usize,
    pub hashes: u64,
    pub elapsed: Duration,
}

impl RawHashRate {
    /// Hashes a second over all threads.
    pub(super) fn rate(&self) -> f64 {
        self.hashes as f64 / self.elapsed.as_secs_f64()
    }

    /// The time one hash takes on one thread.
    pub(super) fn per_hash(&self) -> Duration {
        self.elapsed.mul_f64(self.threads as f64 / self.hashes.max(1) as f64)
    }
}

/// Hashes on `threads` threads for about `duration`, each thread reusing its working memory and each hash
/// drawing its salt and writing its PHC string, exactly as the service's hashing threads do (`authtoken-argon2`).
pub(super) fn measure(params: HashParams, threads: usize, duration: Duration) -> anyhow::Result<RawHashRate> {
    let argon2 = Argon2id::new(params).context("invalid argon2 parameters")?;
    let hashes = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(|| hash_until(&argon2, &stop, &hashes))).collect();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a hashing thread panicked"))))
            .collect()
    });
    let elapsed = started.elapsed();
    results.into_iter().collect::<anyhow::Result<()>>()?;
    Ok(RawHashRate { params, threads, hashes: hashes.into_inner(), elapsed })
}

/// Hashes until `stop`. The caller's clock runs until the last thread has finished its last hash, so every
/// counted hash lies inside the measured time.
fn hash_until(argon2: &Argon2id, stop: &AtomicBool, hashes: &AtomicU64) -> anyhow::Result<()> {
    let password = Password::new("correct horse battery staple".to_owned());
    let mut memory = HashMemory::default();
    while !stop.load(Ordering::Relaxed) {
        argon2.hash_in(&password, &mut memory).context("argon2id failed")?;
        hashes.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}
