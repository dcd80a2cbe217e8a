//! `SqlStore`: `TokenRepo` and `UserRepo` over either backend, with statements from `statements.rs`.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::ports::{CreateUserError, StoreError, TokenRepo, UserRepo};
use authtoken_core::session::{ClientInfo, Session, SessionId, SessionWithUser};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{NewUser, PasswordHash, User, UserCredentials, UserId};

use crate::backend::{DbError, Pool};
use crate::options::{Backend, DatabaseOptions};
use crate::row::Row;
use crate::statements::{self, SESSION_COLUMNS, Users};

/// Users and sessions in SQLite or PostgreSQL, chosen by the URL.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: Pool,
}

impl SqlStore {
    /// Connects (creating a missing SQLite file) and applies the migrations that are not applied yet.
    pub async fn open(options: &DatabaseOptions) -> Result<Self, StoreError> {
        Ok(Self { pool: Pool::open(options).await? })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection; every call fails afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl TokenRepo for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        self.pool.execute(&statements::insert_session(session)).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, digest: &TokenDigest) -> Result<Option<SessionWithUser>, StoreError> {
        let decode = |row: &dyn Row| {
            Ok(SessionWithUser {
                session: session_from_row(row)?,
                user: user_from_row(row, SESSION_COLUMNS.len())?.user,
            })
        };
        Ok(self.pool.fetch_optional(&statements::find_session(digest), decode).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&statements::delete_session(digest)).await? > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(self.pool.execute(&statements::purge_expired_sessions(now)).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn sessions_of(&self, user_id: UserId) -> Result<Vec<Session>, StoreError> {
        Ok(self.pool.fetch_all(&statements::sessions_of(user_id), session_from_row).await?)
    }
}

#[async_trait]
impl UserRepo for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn create(&self, user: &NewUser) -> Result<User, CreateUserError> {
        let created = self.pool.fetch_optional(&statements::insert_user(user), |row| user_from_row(row, 0)).await;
        match created {
            Ok(Some(credentials)) => Ok(credentials.user),
            Ok(None) => Err(StoreError("the insert returned no row".to_owned()).into()),
            Err(DbError::UniqueViolation) => Err(CreateUserError::Duplicate),
            Err(DbError::Store(e)) => Err(e.into()),
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
        self.pool.execute(&statements::record_login(id, at)).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn set_active(&self, id: UserId, active: bool) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&statements::set_active(id, active)).await? > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, id: UserId) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&statements::delete_user(id)).await? > 0)
    }
}

impl SqlStore {
    async fn find_user(&self, column: Users, value: &str) -> Result<Option<UserCredentials>, StoreError> {
        Ok(self.pool.fetch_optional(&statements::find_user_by(column, value), |row| user_from_row(row, 0)).await?)
    }
}

/// Decodes [`statements::SESSION_COLUMNS`] from the start of the row.
fn session_from_row(row: &dyn Row) -> Result<Session, StoreError> {
    let digest = TokenDigest::from_slice(&row.bytes(0)?)
        .ok_or_else(|| StoreError("a stored digest has the wrong length".to_owned()))?;
    Ok(Session {
        digest,
        id: SessionId::from_stored(row.text(1)?),
        user_id: UserId(row.int(2)?),
        created_at: Timestamp::from_millis(row.int(3)?),
        expires_at: Timestamp::from_millis(row.int(4)?),
        last_used_at: row.opt_int(5)?.map(Timestamp::from_millis),
        client: ClientInfo { user_agent: row.opt_text(6)?, ip: row.opt_text(7)? },
    })
}

/// Decodes [`statements::USER_COLUMNS`] starting at column `at`.
fn user_from_row(row: &dyn Row, at: usize) -> Result<UserCredentials, StoreError> {
    let user = User {
        id: UserId(row.int(at)?),
        username: row.text(at + 1)?,
        email: row.opt_text(at + 2)?,
        email_confirmed: row.flag(at + 3)?,
        is_active: row.flag(at + 4)?,
        joined_at: Timestamp::from_millis(row.int(at + 5)?),
        last_login_at: row.opt_int(at + 6)?.map(Timestamp::from_millis),
    };
    Ok(UserCredentials { user, password_hash: PasswordHash::new(row.text(at + 7)?) })
}

/// The driver's error, reduced to text for the log; no driver type crosses the port.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    StoreError(e.to_string())
}
