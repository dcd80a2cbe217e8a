//! Reading columns out of a row, written once for both backends' row types.

use authtoken_core::ports::StoreError;
use sqlx::Row as _;

/// The column reads the stores need, by position.
pub(crate) trait Row {
    fn int(&self, at: usize) -> Result<i64, StoreError>;
    /// A 32-bit column (PostgreSQL `integer`); every integer on SQLite.
    fn int32(&self, at: usize) -> Result<i32, StoreError>;
    fn opt_int(&self, at: usize) -> Result<Option<i64>, StoreError>;
    fn flag(&self, at: usize) -> Result<bool, StoreError>;
    fn text(&self, at: usize) -> Result<String, StoreError>;
    fn opt_text(&self, at: usize) -> Result<Option<String>, StoreError>;
    fn bytes(&self, at: usize) -> Result<Vec<u8>, StoreError>;
}

/// Implements [`Row`] for a driver's row type, whose `$get` reads a column and whose errors `$error` converts.
macro_rules! impl_row {
    ($row:ty, $get:ident, $error:path) => {
        impl Row for $row {
            fn int(&self, at: usize) -> Result<i64, StoreError> {
                self.$get(at).map_err($error)
            }
            fn int32(&self, at: usize) -> Result<i32, StoreError> {
                self.$get(at).map_err($error)
            }
            fn opt_int(&self, at: usize) -> Result<Option<i64>, StoreError> {
                self.$get(at).map_err($error)
            }
            fn flag(&self, at: usize) -> Result<bool, StoreError> {
                self.$get(at).map_err($error)
            }
            fn text(&self, at: usize) -> Result<String, StoreError> {
                self.$get(at).map_err($error)
            }
            fn opt_text(&self, at: usize) -> Result<Option<String>, StoreError> {
                self.$get(at).map_err($error)
            }
            fn bytes(&self, at: usize) -> Result<Vec<u8>, StoreError> {
                self.$get(at).map_err($error)
            }
        }
    };
}

impl_row!(sqlx::sqlite::SqliteRow, try_get, StoreError::new);
impl_row!(sqlx::postgres::PgRow, try_get, StoreError::new);
impl_row!(rusqlite::Row<'_>, get, StoreError::new);
