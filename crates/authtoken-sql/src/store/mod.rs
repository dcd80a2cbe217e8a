//! `SqlStore`: the store ports over either backend, with statements from `statements`.
//!
//! One submodule per port; the row decoders that several ports share live here.

mod confirmations;
mod events;
mod gauges;
mod import;
mod outbox;
mod resets;
mod throttles;
mod tokens;
mod users;

use authtoken_core::Timestamp;
use authtoken_core::ports::StoreError;
use authtoken_core::user::{PasswordHash, User, UserCredentials, UserId};

use crate::backend::Pool;
use crate::options::DatabaseOptions;
use crate::row::Row;
use crate::statements::USER_COLUMNS;

pub use gauges::{OutboxGauges, PoolGauges};
pub use import::{ImportUser, Imported};

/// Users, sessions, confirmation and reset links, the outbox, the throttles and the audit trail in SQLite or
/// PostgreSQL, chosen by the URL.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: Pool,
}

impl SqlStore {
    /// Connects (creating a missing SQLite file) and applies the migrations that are not applied yet.
    pub async fn open(options: &DatabaseOptions) -> Result<Self, crate::OpenError> {
        Ok(Self { pool: Pool::open(options).await? })
    }

    /// Closes every connection; every call fails afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(feature = "testing")]
impl SqlStore {
    /// Whether session lookups run on the calling thread, through read connections of their own (a SQLite file in
    /// WAL mode), rather than through sqlx.
    pub fn looks_up_sessions_on_the_calling_thread(&self) -> bool {
        matches!(self.pool, Pool::Sqlite { reads: Some(_), .. })
    }
}

/// Decodes [`crate::statements::USER_COLUMNS`] starting at column `at`.
fn user_from_row(row: &dyn Row, at: usize) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(row.int(at)?),
        username: row.text(at + 1)?,
        email: row.opt_text(at + 2)?,
        email_confirmed: row.flag(at + 3)?,
        is_active: row.flag(at + 4)?,
        joined_at: Timestamp::from_millis(row.int(at + 5)?),
        last_login_at: row.opt_int(at + 6)?.map(Timestamp::from_millis),
    })
}

/// Decodes [`crate::statements::CREDENTIAL_COLUMNS`] starting at column `at`.
fn credentials_from_row(row: &dyn Row, at: usize) -> Result<UserCredentials, StoreError> {
    let user = user_from_row(row, at)?;
    Ok(UserCredentials { user, password_hash: PasswordHash::new(row.text(at + USER_COLUMNS.len())?) })
}
