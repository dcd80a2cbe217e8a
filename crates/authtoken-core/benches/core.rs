//! Criterion micro-benchmarks of the core's hot paths: token generation and digest, and `Authorization` parsing.
//! (The Argon2id hash is benchmarked in `authtoken-argon2`.)

use std::hint::black_box;

use authtoken_core::header::{Credentials, parse_authorization};
use authtoken_core::{PlainToken, TokenPrefix};
use criterion::{Criterion, criterion_group, criterion_main};

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
        b.iter(|| match parse_authorization(Some(black_box(value.as_bytes())), &TokenPrefix::NONE) {
            Credentials::Token(token) => token,
            _ => unreachable!("the header holds a well-formed token"),
        })
    });
}

criterion_group!(benches, token, header);
criterion_main!(benches);
