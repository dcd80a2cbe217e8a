//! Criterion micro-benchmarks of password checks with the service's default parameters: one Argon2id hash in reused
//! memory, as the service's hashing threads run it, and the login's checks by the kind of stored hash, without and
//! with imported Django hashes (`Argon2Hasher::with_imported_hashes`), whose times should come out alike.

use std::hint::black_box;
use std::time::Duration;

use authtoken_argon2::{Argon2Hasher, Argon2Params, Argon2id, HashMemory};
use authtoken_core::ports::PasswordHasher as _;
use authtoken_core::user::{Password, PasswordHash};
use criterion::{Criterion, criterion_group, criterion_main};

/// A Django 4.2 hash (PBKDF2-SHA256, 600,000 iterations) of "correct horse battery staple".
const DJANGO: &str = "pbkdf2_sha256$600000$Mu7vLQ1bGM4mSTEmN0EFc8$IDTEeftErDHP81wMw+7iPb9O9OirFEkkb0m8sMlV96I=";

fn password(c: &mut Criterion) {
    let argon2 = Argon2id::new(Argon2Params::RECOMMENDED).expect("the recommended parameters are valid");
    let password = Password::new("correct horse battery staple".to_owned());
    let mut memory = HashMemory::default();
    let mut group = c.benchmark_group("password");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.bench_function("argon2id_hash", |b| {
        b.iter(|| argon2.hash_in(black_box(&password), &mut memory).expect("hashing works"))
    });
    group.finish();
}

/// A refused login's check: against an Argon2id user's hash, an imported Django user's, and an unknown user's dummy.
fn check(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let wrong = Password::new("wrong horse battery staple".to_owned());
    let new_hasher = || Argon2Hasher::new(Argon2id::new(Argon2Params::RECOMMENDED).expect("valid parameters"), 1);
    let django = PasswordHash::new(DJANGO.to_owned());
    let argon2id = runtime.block_on(new_hasher().hash(&wrong)).expect("hashing works");
    let mut group = c.benchmark_group("check");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, hasher) in
        [("", new_hasher()), ("_with_imported", new_hasher().with_imported_hashes(std::slice::from_ref(&django)))]
    {
        group.bench_function(format!("unknown_user{name}"), |b| {
            b.iter(|| runtime.block_on(hasher.verify_dummy(black_box(&wrong))).expect("checking works"))
        });
        group.bench_function(format!("argon2id_user{name}"), |b| {
            b.iter(|| runtime.block_on(hasher.verify(black_box(&wrong), &argon2id)).expect("checking works"))
        });
        group.bench_function(format!("django_pbkdf2_user{name}"), |b| {
            b.iter(|| runtime.block_on(hasher.verify(black_box(&wrong), &django)).expect("checking works"))
        });
    }
    group.finish();
}

criterion_group!(benches, password, check);
criterion_main!(benches);
