//! `UserRepo` for `SqlStore`.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::event::AuditEvent;
use authtoken_core::outbox::OutboxMail;
use authtoken_core::ports::{CreateUserError, StoreError, UserRepo};
use authtoken_core::session::Revoke;
use authtoken_core::user::{NewUser, PasswordHash, User, UserCredentials, UserId};

use super::{SqlStore, credentials_from_row, user_from_row};
use crate::error::DbError;
use crate::statements::{Users, events, outbox, sessions, users};

#[async_trait]
impl UserRepo for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create(&self, user: &NewUser, event: &AuditEvent) -> Result<User, CreateUserError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        // A duplicate returns here, and dropping the transaction rolls it back: nothing is written.
        let created = created(tx.fetch_optional(&users::insert(user), |row| user_from_row(row, 0)).await)?;
        tx.execute(&events::insert(&event.of_user(Some(created.id)))).await.map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(created)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.find_user(Users::Username, username).await?.map(|c| c.user))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_by_key(&self, key: &str) -> Result<Option<UserCredentials>, StoreError> {
        self.find_user(Users::UsernameKey, key).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn record_login(&self, id: UserId, at: Timestamp) -> Result<(), StoreError> {
        self.pool.execute(&users::record_login(id, at)).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn upgrade_password_hash(
        &self,
        id: UserId,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&users::upgrade_password_hash(id, old, new)).await? == 1)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_credentials(&self, id: UserId) -> Result<Option<UserCredentials>, StoreError> {
        Ok(self.pool.fetch_optional(&users::find_credentials(id), |row| credentials_from_row(row, 0)).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list(&self, after: Option<UserId>, limit: u32) -> Result<Vec<User>, StoreError> {
        Ok(self.pool.fetch_all(&users::list(after, limit), |row| user_from_row(row, 0)).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn set_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        revoke: &Revoke,
        notices: &[OutboxMail],
        at: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if tx.execute(&users::set_password(id, hash)).await? == 0 {
            return Ok(None);
        }
        let revoked = match sessions::revoke_of_user(id, revoke) {
            Some(delete) => tx.execute(&delete).await?,
            None => 0,
        };
        for notice in notices {
            tx.execute(&outbox::insert(id, notice, at)).await?;
        }
        tx.execute(&events::insert(event)).await?;
        tx.commit().await?;
        Ok(Some(revoked))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn set_active(&self, id: UserId, active: bool, event: &AuditEvent) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if tx.execute(&users::set_active(id, active)).await? == 0 {
            return Ok(false);
        }
        if !active && let Some(delete) = sessions::revoke_of_user(id, &Revoke::All) {
            tx.execute(&delete).await?;
        }
        tx.execute(&events::insert(event)).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete(&self, id: UserId, event: &AuditEvent) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The sessions, links and mail of the user go by cascade; the events have no foreign key and stay.
        if tx.execute(&users::delete(id)).await? == 0 {
            return Ok(false);
        }
        tx.execute(&events::insert(event)).await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl SqlStore {
    /// How many users there are, for a listing's progress.
    pub async fn count_users(&self) -> Result<u64, StoreError> {
        let count = self.pool.fetch_optional(&users::count(), |row| row.int(0)).await?;
        Ok(count.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    async fn find_user(&self, column: Users, value: &str) -> Result<Option<UserCredentials>, StoreError> {
        Ok(self.pool.fetch_optional(&users::find_by(column, value), |row| credentials_from_row(row, 0)).await?)
    }
}

/// The outcome of [`users::insert`], wherever it ran: a unique index's refusal is a duplicate name.
pub(super) fn created(inserted: Result<Option<User>, DbError>) -> Result<User, CreateUserError> {
    match inserted {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(StoreError::new("the insert returned no row").into()),
        Err(DbError::UniqueViolation) => Err(CreateUserError::Duplicate),
        Err(DbError::Store(e)) => Err(e.into()),
    }
}
