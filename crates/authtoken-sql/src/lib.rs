//! SQL stores of authtoken: `TokenRepo` and `UserRepo` over sqlx, with statements written once in sea-query.
//!
//! SQLite is the embedded default. The statements in [`statements`] are backend-neutral,
//! so another backend only needs its own pool, query builder and row decoding.

mod sqlite;
mod statements;

pub use sqlite::{SqliteOptions, SqliteStore};
