//! `ConfirmationRepo` for `SqlStore`: links, written in one transaction with their user and their mail.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::confirmation::{Confirmation, ConfirmationWithUser};
use authtoken_core::event::AuditEvent;
use authtoken_core::outbox::{MailKind, OutboxMail};
use authtoken_core::ports::{ConfirmationRepo, CreateUserError, StoreError};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{NewUser, User, UserId};

use super::users::created;
use super::{SqlStore, user_from_row};
use crate::row::Row;
use crate::statements::{CONFIRMATION_COLUMNS, confirmations, events, outbox, users};

#[async_trait]
impl ConfirmationRepo for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_user_with_confirmation(
        &self,
        user: &NewUser,
        mail: &OutboxMail,
        event: &AuditEvent,
    ) -> Result<User, CreateUserError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        // A duplicate returns here, and dropping the transaction rolls it back: nothing is written.
        let created = created(tx.fetch_optional(&users::insert(user), |row| user_from_row(row, 0)).await)?;
        tx.execute(&outbox::insert(created.id, mail, user.joined_at)).await.map_err(StoreError::from)?;
        tx.execute(&events::insert(&event.of_user(Some(created.id)))).await.map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(created)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn replace_confirmation(
        &self,
        user_id: UserId,
        mail: &OutboxMail,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if tx.fetch_optional(&users::lock(user_id), |row| row.int(0)).await?.is_none() {
            return Ok(false);
        }
        tx.execute(&confirmations::delete_of_user(user_id)).await?;
        tx.execute(&outbox::delete_pending_of_user(user_id, MailKind::Confirmation)).await?;
        tx.execute(&outbox::insert(user_id, mail, at)).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn add_confirmation(&self, link: &Confirmation) -> Result<Option<User>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locked, so the address cannot change or be confirmed between the check and the write.
        let user = tx.fetch_optional(&users::lock(link.user_id), |row| user_from_row(row, 0)).await?;
        let Some(user) = user.filter(|u| u.email.as_deref() == Some(link.email.as_str()) && !u.email_confirmed) else {
            return Ok(None);
        };
        tx.execute(&confirmations::insert(link)).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_confirmation(&self, digest: &TokenDigest) -> Result<Option<ConfirmationWithUser>, StoreError> {
        let decode = |row: &dyn Row| {
            Ok(ConfirmationWithUser {
                confirmation: confirmation_from_row(row)?,
                user: user_from_row(row, CONFIRMATION_COLUMNS.len())?,
            })
        };
        Ok(self.pool.fetch_optional(&confirmations::find(digest), decode).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn confirm(&self, digest: &TokenDigest, event: &AuditEvent) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Deleting first locks the link, so of two concurrent confirmations only one finds it.
        let Some(user_id) = tx.fetch_optional(&confirmations::take(digest), |row| row.int(0)).await? else {
            return Ok(false);
        };
        tx.execute(&users::confirm_email(UserId(user_id))).await?;
        // Links minted by earlier attempts to deliver the mail have nothing left to confirm.
        tx.execute(&confirmations::delete_of_user(UserId(user_id))).await?;
        tx.execute(&events::insert(&event.of_user(Some(UserId(user_id))))).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_confirmation(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&confirmations::delete(digest)).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_expired_confirmations(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(self.pool.execute(&confirmations::purge_expired(now)).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn unconfirmed_users(&self) -> Result<Vec<User>, StoreError> {
        Ok(self.pool.fetch_all(&users::unconfirmed(), |row| user_from_row(row, 0)).await?)
    }
}

/// Decodes [`CONFIRMATION_COLUMNS`] from the start of the row.
fn confirmation_from_row(row: &dyn Row) -> Result<Confirmation, StoreError> {
    let digest = TokenDigest::from_slice(&row.bytes(0)?)
        .ok_or_else(|| StoreError::new("a stored digest has the wrong length"))?;
    Ok(Confirmation {
        digest,
        user_id: UserId(row.int(1)?),
        email: row.text(2)?,
        created_at: Timestamp::from_millis(row.int(3)?),
        expires_at: Timestamp::from_millis(row.int(4)?),
    })
}
