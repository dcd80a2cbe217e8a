//! Test support for authtoken: fakes of every port, fixtures, and the contract suites adapters must pass.
//!
//! # Testing an application against fakes and mocks
//!
//! A host application tests its own code over an [`AuthService`](authtoken_core::AuthService) built from
//! fakes: [`InMemoryStore`] for every store port, [`FakePasswordHasher`] (instant, and it counts its
//! verifications) and [`FakeClock`] (time moves only when the test says so). To see how the application
//! copes when a port fails, swap one adapter for a mock: the ports' mockall mocks (`MockTokenRepo`,
//! `MockUserRepo`, `MockPasswordHasher`, …) come with this crate, which turns on `authtoken-core`'s `mock`
//! feature. Everything else stays the fake.
//!
//! ```
//! use std::sync::Arc;
//!
//! use authtoken_core::AuthService;
//! use authtoken_core::event::EventKind;
//! use authtoken_core::ports::{MockTokenRepo, StoreError, UserRepo as _};
//! use authtoken_core::service::{Failure, LoginError, Ports};
//! use authtoken_core::session::ClientInfo;
//! use authtoken_core::user::Password;
//! use authtoken_testkit::{FakeClock, FakePasswordHasher, InMemoryStore, fixtures};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let store = Arc::new(InMemoryStore::default());
//! store.create(&fixtures::new_user("alice", "correct horse"), &fixtures::event(EventKind::Registered)).await.unwrap();
//! // The session store is down: storing a session fails.
//! let mut tokens = MockTokenRepo::new();
//! tokens.expect_insert_for_login().times(1).returning(|_, _, _, _| Err(StoreError::new("connection refused")));
//! let ports = Ports {
//!     tokens: Arc::new(tokens),
//!     users: store.clone(),
//!     events: store,
//!     hasher: Arc::new(FakePasswordHasher::default()),
//!     clock: Arc::new(FakeClock::at(fixtures::EPOCH)),
//! };
//! let service = AuthService::new(ports, fixtures::config());
//!
//! let login = service.login("alice", &Password::new("correct horse".into()), ClientInfo::new(None, None)).await;
//!
//! assert!(matches!(login, Err(LoginError::Failed(Failure::Store(_)))));
//! # }
//! ```
//!
//! # Testing an adapter
//!
//! An adapter of a store port runs the contract suite: `store_contract_suite!(make)` in [`contract`] generates one
//! test per MUST of the ports' documentation, and the in-memory fakes and every SQL store run the same cases.

pub mod contract;
mod fakes;
pub mod fixtures;
mod smtp;

pub use fakes::{FakeClock, FakePasswordHasher, InMemoryStore};
pub use smtp::{Received, SinkTls, SmtpSink};
