//! Criterion micro-benchmarks of the core's hot paths: token generation and digest, `Authorization` parsing, and
//! one Argon2id hash with the service's default parameters.

use std::hint::black_box;
use std::time::Duration;

use authtoken_core::PlainToken;
use authtoken_core::header::{Credentials, parse_authorization};
use authtoken_core::password::{Argon2Params, Argon2id};
use authtoken_core::user::Password;
use criterion::{Criterion, criterion_group, criterion_main};

/// The server's default `password_hash_*` settings.
const DEFAULT_ARGON2: Argon2Params = Argon2Params { memory_kib: 19_456, iterations: 2, parallelism: 1 };

fn token(c: &mut Criterion) {
    let mut group = c.benchmark_group("token");
    group.bench_function("generate", |b| b.iter(|| PlainToken::generate().expect("the OS CSPRNG works")));
    let token = PlainToken::generate().expect("the OS CSPRNG works");
    group.bench_function("digest", |b| b.iter(|| black_box(&token).digest()));
    group.finish();
}

fn header(c: &mut Criterion) {
    let value = format!("Token {}", PlainToken::generate().expect("the OS CSPRNG works").expose());
    c.benchmark_group("header").bench_function("parse_authorization", |b| {
        b.iter(|| match parse_authorization(Some(black_box(value.as_bytes()))) {
            Credentials::Token(token) => token,
            _ => unreachable!("the header holds a well-formed token"),
        })
    });
}

fn password(c: &mut Criterion) {
    let argon2 = Argon2id::new(DEFAULT_ARGON2).expect("the default parameters are valid");
    let password = Password::new("correct horse battery staple".to_owned());
    let mut group = c.benchmark_group("password");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.bench_function("argon2id_hash", |b| b.iter(|| argon2.hash(black_box(&password)).expect("hashing works")));
    group.finish();
}

criterion_group!(benches, token, header, password);
criterion_main!(benches);
