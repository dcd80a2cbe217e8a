//! The one place that knows there are two backends: connecting, migrating, and running a sea-query statement.

use std::str::FromStr as _;

use authtoken_core::ports::StoreError;
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::options::{Backend, DatabaseOptions};
use crate::row::Row;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// A connection pool of either backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

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
            DbError::UniqueViolation => StoreError("unexpected unique violation".to_owned()),
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
            _ => Self::Store(crate::store::store_error(e)),
        }
    }
}

impl Pool {
    /// Connects lazily-checked pools and applies the migrations that are missing.
    ///
    /// On PostgreSQL the migrator holds an advisory lock, so servers starting together migrate one at a time.
    pub(crate) async fn open(options: &DatabaseOptions) -> Result<Self, StoreError> {
        let backend = options.backend().map_err(|e| StoreError(e.to_string()))?;
        let pool = match backend {
            Backend::Sqlite => Self::Sqlite(sqlite(options).await?),
            Backend::Postgres => Self::Postgres(postgres(options).await?),
        };
        let migrated = match &pool {
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        migrated.map_err(|e| StoreError(format!("migration failed: {e}")))?;
        Ok(pool)
    }

    pub(crate) async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&self, statement: &impl SqlxBinder) -> Result<u64, DbError> {
        Ok(match self {
            Self::Sqlite(pool) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(sqlx::AssertSqlSafe(sql), values).execute(pool).await?.rows_affected()
            }
            Self::Postgres(pool) => {
                let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(sqlx::AssertSqlSafe(sql), values).execute(pool).await?.rows_affected()
            }
        })
    }

    /// Runs a query and decodes every row it returns.
    pub(crate) async fn fetch_all<T>(
        &self,
        statement: &impl SqlxBinder,
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, DbError> {
        let decoded = match self {
            Self::Sqlite(pool) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_all(pool).await?;
                rows.iter().map(|row| decode(row)).collect::<Result<_, _>>()
            }
            Self::Postgres(pool) => {
                let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
                let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_all(pool).await?;
                rows.iter().map(|row| decode(row)).collect::<Result<_, _>>()
            }
        };
        Ok(decoded?)
    }

    /// Runs a query that returns at most one row and decodes it.
    pub(crate) async fn fetch_optional<T>(
        &self,
        statement: &impl SqlxBinder,
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, DbError> {
        let decoded = match self {
            Self::Sqlite(pool) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                let row = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_optional(pool).await?;
                row.as_ref().map(|row| decode(row)).transpose()
            }
            Self::Postgres(pool) => {
                let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
                let row = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_optional(pool).await?;
                row.as_ref().map(|row| decode(row)).transpose()
            }
        };
        Ok(decoded?)
    }
}

async fn sqlite(options: &DatabaseOptions) -> Result<sqlx::SqlitePool, StoreError> {
    let connect = SqliteConnectOptions::from_str(&options.url)
        .map_err(|e| StoreError(format!("invalid SQLite URL: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(options.statement_timeout);
    // An in-memory database exists once per connection, so it must have exactly one.
    let max_connections = if options.url.contains(":memory:") { 1 } else { options.max_connections };
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(options.connect_timeout)
        .connect_with(connect)
        .await
        .map_err(crate::store::store_error)
}

async fn postgres(options: &DatabaseOptions) -> Result<sqlx::PgPool, StoreError> {
    let timeout = format!("{}ms", options.statement_timeout.as_millis());
    let mut connect = PgConnectOptions::from_str(&options.url)
        .map_err(|e| StoreError(format!("invalid PostgreSQL URL: {e}")))?
        .options([("statement_timeout", timeout.as_str())]);
    // Name the connections for `pg_stat_activity`, unless the URL names them itself.
    if connect.get_application_name().is_none() {
        connect = connect.application_name("authtoken");
    }
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.connect_timeout)
        .connect_with(connect)
        .await
        .map_err(crate::store::store_error)
}
