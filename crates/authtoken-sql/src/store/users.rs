//! `UserRepo` for `SqlStore`.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::ports::{CreateUserError, StoreError, UserRepo};
use authtoken_core::user::{NewUser, User, UserCredentials, UserId};

use super::{SqlStore, credentials_from_row, user_from_row};
use crate::error::DbError;
use crate::statements::{Users, users};

#[async_trait]
impl UserRepo for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create(&self, user: &NewUser) -> Result<User, CreateUserError> {
        created(self.pool.fetch_optional(&users::insert(user), |row| user_from_row(row, 0)).await)
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
    async fn set_active(&self, id: UserId, active: bool) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&users::set_active(id, active)).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete(&self, id: UserId) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&users::delete(id)).await? > 0)
    }
}

impl SqlStore {
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
