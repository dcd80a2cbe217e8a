//! How driver errors become the store's errors: a unique violation is told apart, a busy SQLite read falls back,
//! and every other failure becomes a [`StoreError`] that keeps the driver's error as its cause.

use authtoken_core::ports::StoreError;
use rusqlite::ErrorCode;

/// A statement failed.
#[derive(Debug)]
pub(crate) enum DbError {
    /// A unique index refused the write.
    UniqueViolation,
    Store(StoreError),
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::UniqueViolation => StoreError::new("unexpected unique violation"),
            DbError::Store(e) => e,
        }
    }
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::UniqueViolation,
            _ => Self::Store(StoreError::new(e)),
        }
    }
}

/// Why a read here gave no answer.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// SQLite would have had to wait for a lock; the caller reads through sqlx instead.
    Busy,
    Store(StoreError),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Busy,
            _ => Self::Store(StoreError::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;

    #[test]
    fn a_locked_database_sends_the_read_elsewhere_and_other_errors_fail_it() {
        let busy = rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_BUSY), None);
        let locked = rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_LOCKED), None);
        let corrupt = rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_CORRUPT), None);

        assert!(matches!(ReadError::from(busy), ReadError::Busy));
        assert!(matches!(ReadError::from(locked), ReadError::Busy));
        assert!(matches!(ReadError::from(corrupt), ReadError::Store(_)));
        assert!(matches!(ReadError::from(rusqlite::Error::QueryReturnedNoRows), ReadError::Store(_)));
    }
}
