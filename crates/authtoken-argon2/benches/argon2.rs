//! Criterion micro-benchmark of one Argon2id hash with the service's default parameters, in reused memory as the
//! service's hashing threads run it.

use std::hint::black_box;
use std::time::Duration;

use authtoken_argon2::{Argon2Params, Argon2id, HashMemory};
use authtoken_core::user::Password;
use criterion::{Criterion, criterion_group, criterion_main};

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

criterion_group!(benches, password);
criterion_main!(benches);
