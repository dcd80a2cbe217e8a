//! The one place that knows there are two backends: connecting, migrating, transactions, and running a sea-query
//! statement.

use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;

use authtoken_core::ports::StoreError;
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{DbError, ReadError};
use crate::open::{OpenError, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, first_postgres_connection, sqlite_failure};
use crate::options::{Backend, DatabaseOptions};
use crate::pg_reads::PgReads;
use crate::row::Row;
use crate::sqlite_reads::SqliteReads;
use crate::statements::KeyQuery;

/// Renders `$statement` with the backend's query builder, binds its values and runs `$method` on `$executor`
/// (a pool or a transaction's connection); `?` turns a driver error into a [`DbError`].
macro_rules! run {
    ($method:ident, $statement:expr, $builder:expr, $executor:expr) => {{
        let (sql, values) = $statement.build_sqlx($builder);
        sqlx::query_with(sqlx::AssertSqlSafe(sql), values).$method($executor).await?
    }};
}

/// A connection pool of either backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    /// `reads` serves [`Pool::fetch_by_key`] on a database file; an in-memory database has none, since it lives
    /// in its one connection.
    Sqlite { pool: sqlx::SqlitePool, reads: Option<Arc<SqliteReads>> },
    /// `reads` serves [`Pool::fetch_by_key`], coalescing the lookups that arrive together.
    Postgres { pool: sqlx::PgPool, reads: Arc<PgReads> },
}

impl Pool {
    /// Connects lazily-checked pools and applies the migrations that are missing.
    ///
    /// On PostgreSQL the migrator holds an advisory lock, so servers starting together migrate one at a time.
    pub(crate) async fn open(options: &DatabaseOptions) -> Result<Self, OpenError> {
        let backend = options.backend().map_err(|e| OpenError::new(e.to_string(), e))?;
        let pool = match backend {
            Backend::Sqlite => {
                let (pool, reads) = sqlite(options).await?;
                Self::Sqlite { pool, reads }
            }
            Backend::Postgres => {
                let (pool, reads) = postgres(options).await?;
                Self::Postgres { pool, reads: Arc::new(reads) }
            }
        };
        let migrated = match &pool {
            Self::Sqlite { pool, .. } => migrate_sqlite(pool).await,
            Self::Postgres { pool, .. } => POSTGRES_MIGRATIONS.run(pool).await,
        };
        migrated.map_err(|e| OpenError::new(format!("cannot apply the migrations: {e}"), e))?;
        // Render the lookups now, so that a mistake in one stops the start-up rather than a request.
        KeyQuery::render_all();
        Ok(pool)
    }

    pub(crate) async fn close(&self) {
        match self {
            Self::Sqlite { pool, reads } => {
                if let Some(reads) = reads {
                    reads.close();
                }
                pool.close().await;
            }
            Self::Postgres { pool, reads } => {
                reads.close().await;
                pool.close().await;
            }
        }
    }

    /// Begins a transaction; dropping it without [`Tx::commit`] rolls it back.
    ///
    /// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a transaction that read first and wrote
    /// later could not upgrade its lock while another one writes, and would fail instead of waiting its turn.
    /// Waiting for the lock is bounded by the busy timeout.
    pub(crate) async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Self::Sqlite { pool, .. } => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Self::Postgres { pool, .. } => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&self, statement: &impl SqlxBinder) -> Result<u64, DbError> {
        Ok(match self {
            Self::Sqlite { pool, .. } => run!(execute, statement, SqliteQueryBuilder, pool).rows_affected(),
            Self::Postgres { pool, .. } => run!(execute, statement, PostgresQueryBuilder, pool).rows_affected(),
        })
    }

    /// Runs a query and decodes every row it returns.
    pub(crate) async fn fetch_all<T>(
        &self,
        statement: &impl SqlxBinder,
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, DbError> {
        Ok(match self {
            Self::Sqlite { pool, .. } => decode_all(&run!(fetch_all, statement, SqliteQueryBuilder, pool), decode)?,
            Self::Postgres { pool, .. } => decode_all(&run!(fetch_all, statement, PostgresQueryBuilder, pool), decode)?,
        })
    }

    /// Runs a query by one key, rendered once, and decodes the row it returns, if any.
    ///
    /// On a SQLite file in WAL mode it runs on the calling thread (see [`SqliteReads`]), unless SQLite would have to
    /// wait for a lock. On PostgreSQL it joins the lookups that arrive together in one query (see [`PgReads`]).
    pub(crate) async fn fetch_by_key<T>(
        &self,
        query: &'static KeyQuery,
        key: &[u8],
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, DbError> {
        Ok(match self {
            Self::Sqlite { pool, reads } => {
                if let Some(reads) = reads {
                    match reads.fetch_by_key(&query.sqlite, key, &decode) {
                        Ok(found) => return Ok(found),
                        Err(ReadError::Store(e)) => return Err(e.into()),
                        Err(ReadError::Busy) => {}
                    }
                }
                decode_one(sqlx::query(query.sqlite.as_str()).bind(key).fetch_optional(pool).await?, decode)?
            }
            Self::Postgres { reads, .. } => decode_one(reads.fetch_by_key(query, key).await?, decode)?,
        })
    }

    /// Runs a query that returns at most one row and decodes it.
    pub(crate) async fn fetch_optional<T>(
        &self,
        statement: &impl SqlxBinder,
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, DbError> {
        Ok(match self {
            Self::Sqlite { pool, .. } => decode_one(run!(fetch_optional, statement, SqliteQueryBuilder, pool), decode)?,
            Self::Postgres { pool, .. } => {
                decode_one(run!(fetch_optional, statement, PostgresQueryBuilder, pool), decode)?
            }
        })
    }
}

/// A transaction of either backend, with the same helpers as [`Pool`].
///
/// Dropping it without [`Tx::commit`] rolls it back, so an early return with `?` leaves nothing behind.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, statement: &impl SqlxBinder) -> Result<u64, DbError> {
        Ok(match self {
            Self::Sqlite(tx) => run!(execute, statement, SqliteQueryBuilder, &mut **tx).rows_affected(),
            Self::Postgres(tx) => run!(execute, statement, PostgresQueryBuilder, &mut **tx).rows_affected(),
        })
    }

    /// Runs a query that returns at most one row and decodes it.
    pub(crate) async fn fetch_optional<T>(
        &mut self,
        statement: &impl SqlxBinder,
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, DbError> {
        Ok(match self {
            Self::Sqlite(tx) => decode_one(run!(fetch_optional, statement, SqliteQueryBuilder, &mut **tx), decode)?,
            Self::Postgres(tx) => decode_one(run!(fetch_optional, statement, PostgresQueryBuilder, &mut **tx), decode)?,
        })
    }

    /// Runs a query and decodes every row.
    pub(crate) async fn fetch_all<T>(
        &mut self,
        statement: &impl SqlxBinder,
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, DbError> {
        Ok(match self {
            Self::Sqlite(tx) => decode_all(&run!(fetch_all, statement, SqliteQueryBuilder, &mut **tx), decode)?,
            Self::Postgres(tx) => decode_all(&run!(fetch_all, statement, PostgresQueryBuilder, &mut **tx), decode)?,
        })
    }

    pub(crate) async fn commit(self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(tx) => tx.commit().await?,
            Self::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

fn decode_all<R: Row, T>(rows: &[R], decode: impl Fn(&dyn Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|row| decode(row)).collect()
}

fn decode_one<R: Row, T>(
    row: Option<R>,
    decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    row.as_ref().map(|row| decode(row)).transpose()
}

async fn sqlite(options: &DatabaseOptions) -> Result<(sqlx::SqlitePool, Option<Arc<SqliteReads>>), OpenError> {
    let connect = SqliteConnectOptions::from_str(&options.url)
        .map_err(|e| OpenError::new(format!("invalid SQLite URL: {e}"), e))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(options.statement_timeout);
    // An in-memory database exists once per connection, so it must have exactly one.
    let in_memory = options.url.contains(":memory:") || options.url.contains("mode=memory");
    let max_connections = if in_memory { 1 } else { options.max_connections };
    // A SQLite connection is a file handle in this process: it cannot go away like a network connection, so
    // the ping before each use (a round trip to the connection's worker thread) buys nothing on the hot path.
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(options.connect_timeout)
        .test_before_acquire(false)
        .connect_with(connect.clone())
        .await
        .map_err(|e| sqlite_failure(connect.get_filename(), e))?;
    // The file sqlx opened, as SQLite names it: empty for an in-memory database, which has no file to share.
    let file: String = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .fetch_one(&pool)
        .await
        .map_err(|e| OpenError::new(format!("cannot read which file SQLite opened: {e}"), e))?;
    if file.is_empty() {
        return Ok((pool, None));
    }
    // One read connection per CPU: as many as there are threads that run requests at once, by default.
    let count = std::thread::available_parallelism().map_or(2, usize::from);
    let reads = SqliteReads::open(Path::new(&file), count)
        .map_err(|e| OpenError::new(format!("cannot open the read connections to `{file}`: {e:#}"), e))?;
    if reads.is_none() {
        tracing::warn!(
            "the SQLite database is not in WAL mode, so session lookups wait for writers; keep it on a local disk"
        );
    }
    Ok((pool, reads.map(Arc::new)))
}

/// The migration that stops the outbox from keeping mail text; the text older versions wrote held plaintext links.
const OUTBOX_WITHOUT_TEXT: i64 = 20_261_201_000_001;

/// Applies the missing migrations. When this upgrades a database whose outbox kept mail text, it then rebuilds the
/// file and empties the write-ahead log, so the blanked links do not survive in free pages or old log frames.
async fn migrate_sqlite(pool: &sqlx::SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(pool)
        .await
        .unwrap_or_default();
    SQLITE_MIGRATIONS.run(pool).await?;
    if !applied.is_empty() && !applied.contains(&OUTBOX_WITHOUT_TEXT) {
        tracing::info!("compacting the SQLite database once, so that no mail text of the old outbox stays in the file");
        sqlx::raw_sql("VACUUM").execute(pool).await?;
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    }
    Ok(())
}

/// The pool, and the coalesced session lookups on connections of their own (see [`PgReads`]), all within
/// `max_connections`; with a budget of one connection, the lookups share it.
async fn postgres(options: &DatabaseOptions) -> Result<(sqlx::PgPool, PgReads), OpenError> {
    let timeout = format!("{}ms", options.statement_timeout.as_millis());
    let mut connect = PgConnectOptions::from_str(&options.url)
        .map_err(|e| OpenError::new(format!("invalid PostgreSQL URL: {e}"), e))?
        .options([("statement_timeout", timeout.as_str())]);
    // Name the connections for `pg_stat_activity`, unless the URL names them itself.
    if connect.get_application_name().is_none() {
        connect = connect.application_name("authtoken");
    }
    let workers = read_workers(options);
    let own = options.max_connections >= 2;
    let others = if own { options.max_connections.saturating_sub(workers) } else { options.max_connections };
    // Alone first, so that a failure says why: the pool would only say that it timed out.
    let _ = sqlx::Connection::close(first_postgres_connection(&connect, options.connect_timeout).await?).await;
    let pool = PgPoolOptions::new()
        .max_connections(others)
        .acquire_timeout(options.connect_timeout)
        .connect_with(connect.clone())
        .await
        .map_err(|e| {
            OpenError::new(
                format!("cannot connect to PostgreSQL at {}:{}: {e}", connect.get_host(), connect.get_port()),
                e,
            )
        })?;
    let reads = if own {
        // No ping before each batch, a round trip that cost a fifth of the lookups' rate: a connection that broke
        // while idle fails its batch, which is then tried once more (see `PgReads`).
        PgPoolOptions::new()
            .max_connections(workers)
            .acquire_timeout(options.connect_timeout)
            .test_before_acquire(false)
            .connect_lazy_with(connect)
    } else {
        pool.clone()
    };
    Ok((pool, PgReads::start(reads, workers)))
}

/// How many workers answer the coalesced session lookups on PostgreSQL: half the CPUs, at least one, and at most
/// half of `max_connections`, so that the other statements keep at least as many. On 2 CPUs one worker made larger
/// batches and more requests a second than two, and four far fewer (`docs/performance.md`).
fn read_workers(options: &DatabaseOptions) -> u32 {
    read_workers_of(std::thread::available_parallelism().map_or(2, usize::from), options.max_connections)
}

fn read_workers_of(cpus: usize, max_connections: u32) -> u32 {
    let half = u32::try_from(cpus / 2).unwrap_or(u32::MAX);
    half.min(max_connections / 2).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_workers_are_half_the_cpus_and_take_at_most_half_the_connections() {
        let cases = [(1, 8, 1), (2, 8, 1), (4, 8, 2), (16, 8, 4), (64, 100, 32), (16, 3, 1), (16, 2, 1), (16, 1, 1)];
        for (cpus, max_connections, workers) in cases {
            assert_eq!(read_workers_of(cpus, max_connections), workers, "{cpus} CPUs, {max_connections} connections");
        }
    }
}
