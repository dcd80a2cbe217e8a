//! Test support for authtoken: fakes of every port, fixtures, and the contract suites adapters must pass.

pub mod contract;
mod fakes;
pub mod fixtures;
mod smtp;

pub use fakes::{FakeClock, FakePasswordHasher, InMemoryStore};
pub use smtp::{Received, SinkTls, SmtpSink};
