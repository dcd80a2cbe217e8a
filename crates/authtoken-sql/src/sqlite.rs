//! The SQLite store: one file (or memory) database, migrated at open, implementing `TokenRepo` and `UserRepo`.

use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::ports::{CreateUserError, StoreError, TokenRepo, UserRepo};
use authtoken_core::session::{Session, SessionWithUser};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{NewUser, PasswordHash, User, UserCredentials, UserId};
use sea_query::SqliteQueryBuilder;
use sea_query_sqlx::SqlxBinder as _;
use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};

use crate::statements::{self, Users};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How to open a SQLite database.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// `sqlite://PATH` (created when missing) or `sqlite::memory:`.
    pub url: String,
    /// Connections in the pool. SQLite allows one writer at a time; readers run in parallel in WAL mode.
    pub max_connections: u32,
    /// How long a statement waits for the write lock before it fails.
    pub busy_timeout: Duration,
}

/// Users and sessions in SQLite.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database and applies the migrations that are not applied yet.
    pub async fn open(options: &SqliteOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(&options.url)
            .map_err(|e| StoreError(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        // An in-memory database exists once per connection, so it must have exactly one.
        let max_connections = if options.url.contains(":memory:") { 1 } else { options.max_connections };
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(connect)
            .await
            .map_err(store_error)?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError(format!("migration failed: {e}")))?;
        Ok(Self { pool })
    }

    /// Closes every connection; the store fails every call afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl TokenRepo for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        let (sql, values) = statements::insert_session(session).build_sqlx(SqliteQueryBuilder);
        sqlx::query_with(sqlx::AssertSqlSafe(sql), values).execute(&self.pool).await.map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, digest: &TokenDigest) -> Result<Option<SessionWithUser>, StoreError> {
        let (sql, values) = statements::find_session(digest).build_sqlx(SqliteQueryBuilder);
        let row =
            sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.map(|row| {
            let digest = TokenDigest::from_slice(row.try_get::<&[u8], _>(0).map_err(store_error)?)
                .ok_or_else(|| StoreError("stored digest has the wrong length".into()))?;
            let session = Session {
                digest,
                user_id: UserId(row.try_get(1).map_err(store_error)?),
                created_at: Timestamp::from_millis(row.try_get(2).map_err(store_error)?),
                expires_at: Timestamp::from_millis(row.try_get(3).map_err(store_error)?),
            };
            let user = user_from_row(&row, 4)?.user;
            Ok(SessionWithUser { session, user })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        let (sql, values) = statements::delete_session(digest).build_sqlx(SqliteQueryBuilder);
        let done = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).execute(&self.pool).await.map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let (sql, values) = statements::purge_expired_sessions(now).build_sqlx(SqliteQueryBuilder);
        let done = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).execute(&self.pool).await.map_err(store_error)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl UserRepo for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn create(&self, user: &NewUser) -> Result<User, CreateUserError> {
        let (sql, values) = statements::insert_user(user).build_sqlx(SqliteQueryBuilder);
        match sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_one(&self.pool).await {
            Ok(row) => Ok(user_from_row(&row, 0)?.user),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(CreateUserError::Duplicate),
            Err(e) => Err(store_error(e).into()),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.find_user(Users::Username, username).await?.map(|c| c.user))
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_key(&self, key: &str) -> Result<Option<UserCredentials>, StoreError> {
        self.find_user(Users::UsernameKey, key).await
    }

    #[tracing::instrument(skip_all)]
    async fn record_login(&self, id: UserId, at: Timestamp) -> Result<(), StoreError> {
        let (sql, values) = statements::record_login(id, at).build_sqlx(SqliteQueryBuilder);
        sqlx::query_with(sqlx::AssertSqlSafe(sql), values).execute(&self.pool).await.map_err(store_error)?;
        Ok(())
    }
}

impl SqliteStore {
    async fn find_user(&self, column: Users, value: &str) -> Result<Option<UserCredentials>, StoreError> {
        let (sql, values) = statements::find_user_by(column, value).build_sqlx(SqliteQueryBuilder);
        let row =
            sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.map(|row| user_from_row(&row, 0)).transpose()
    }
}

/// Decodes [`statements::USER_COLUMNS`] starting at column `at`.
fn user_from_row(row: &SqliteRow, at: usize) -> Result<UserCredentials, StoreError> {
    let user = User {
        id: UserId(row.try_get(at).map_err(store_error)?),
        username: row.try_get(at + 1).map_err(store_error)?,
        email: row.try_get(at + 2).map_err(store_error)?,
        email_confirmed: row.try_get(at + 3).map_err(store_error)?,
        is_active: row.try_get(at + 4).map_err(store_error)?,
        joined_at: Timestamp::from_millis(row.try_get(at + 5).map_err(store_error)?),
        last_login_at: row.try_get::<Option<i64>, _>(at + 6).map_err(store_error)?.map(Timestamp::from_millis),
    };
    let password_hash = PasswordHash::new(row.try_get(at + 7).map_err(store_error)?);
    Ok(UserCredentials { user, password_hash })
}

/// The driver's error, reduced to text for the log; no driver type crosses the port.
fn store_error(e: sqlx::Error) -> StoreError {
    StoreError(e.to_string())
}
