//! The raw Argon2id rate of this machine: the ceiling that logins are compared with.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Argon2id cost parameters, as the server's `password_hash_*` settings give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// Hashes computed by `threads` threads in `elapsed`.
#[derive(Debug, Clone, Copy)]
pub struct RawHashRate {
    pub params: HashParams,
    pub threads: usize,
    pub hashes: u64,
    pub elapsed: Duration,
}

impl RawHashRate {
    /// Hashes a second over all threads.
    pub fn rate(&self) -> f64 {
        self.hashes as f64 / self.elapsed.as_secs_f64()
    }

    /// The time one hash takes on one thread.
    pub fn per_hash(&self) -> Duration {
        self.elapsed.mul_f64(self.threads as f64 / self.hashes.max(1) as f64)
    }
}

/// Hashes on `threads` threads for about `duration`, each hash a fresh computation with a 32-byte output
/// (what the PHC string holds), each thread reusing its working memory as the service's hashing threads do.
pub fn measure(params: HashParams, threads: usize, duration: Duration) -> anyhow::Result<RawHashRate> {
    let argon2_params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
        .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
    let blocks = argon2_params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params);
    let hashes = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let workers: Vec<_> =
            (0..threads).map(|_| scope.spawn(|| hash_until(&argon2, blocks, &stop, &hashes))).collect();
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
fn hash_until(argon2: &Argon2<'_>, blocks: usize, stop: &AtomicBool, hashes: &AtomicU64) -> anyhow::Result<()> {
    let salt = *b"authtoken bench!";
    let mut output = [0u8; 32];
    let mut memory = vec![Block::default(); blocks];
    while !stop.load(Ordering::Relaxed) {
        argon2
            .hash_password_into_with_memory(b"correct horse battery staple", &salt, &mut output, &mut memory)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("argon2id failed")?;
        hashes.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}
