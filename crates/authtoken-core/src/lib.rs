//! Domain logic of authtoken: tokens, users, and the login, logout, authentication and registration use cases.
//!
//! This crate does no I/O of its own and depends on no runtime, database, HTTP or mail crate.
//! Everything it needs from the outside world comes through the port traits in [`ports`].

#![deny(missing_docs)]

pub mod config;
pub mod confirmation;
pub mod delivery;
pub mod error;
pub mod event;
pub mod header;
pub mod outbox;
pub mod ports;
pub mod reset;
pub mod service;
pub mod session;
pub mod template;
pub mod throttle;
pub mod throttle_memory;
pub mod time;
pub mod token;
pub mod user;

pub use config::Config;
pub use service::AuthService;
pub use time::Timestamp;
pub use token::{IssuedToken, PlainToken, TokenDigest, TokenPrefix};
pub use user::{User, UserId, Username};
