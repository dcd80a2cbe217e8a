//! SQL stores of authtoken: `TokenRepo`, `UserRepo`, `ConfirmationRepo` and `Outbox` over sqlx, for SQLite (the
//! embedded default) and PostgreSQL.
//!
//! Every statement is written once, in sea-query, and rendered by the backend's query builder;
//! rows are decoded once, through the small `row::Row` trait both backends implement.

mod backend;
pub mod django;
mod error;
mod open;
mod options;
mod pg_reads;
mod row;
mod sqlite_reads;
mod statements;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use open::{Migration, OpenError, migrations};
pub use options::{Backend, DatabaseOptions, UnsupportedDatabase};
pub use store::{ImportUser, Imported, OutboxGauges, PoolGauges, SqlStore};
