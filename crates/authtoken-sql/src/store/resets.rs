//! `ResetRepo` for `SqlStore`: reset links, each step one transaction.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::event::AuditEvent;
use authtoken_core::outbox::OutboxMail;
use authtoken_core::ports::{ResetRepo, StoreError};
use authtoken_core::reset::{ResetLink, ResetLinkWithUser};
use authtoken_core::session::Revoke;
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{PasswordHash, User, UserId};

use super::{SqlStore, user_from_row};
use crate::row::Row;
use crate::statements::{RESET_COLUMNS, events, outbox, resets, sessions, users};

#[async_trait]
impl ResetRepo for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn request_reset(&self, mail: &OutboxMail, at: Timestamp, event: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let candidates = |row: &dyn Row| Ok((row.int(0)?, row.text(1)?));
        let pending = tx.fetch_all(&resets::pending_mail_candidates(&mail.to), candidates).await?;
        let same: Vec<i64> =
            pending.into_iter().filter(|(_, to)| to.eq_ignore_ascii_case(&mail.to)).map(|(id, _)| id).collect();
        if !same.is_empty() {
            tx.execute(&resets::delete_mail(same)).await?;
        }
        tx.execute(&outbox::insert(None, mail, at)).await?;
        // The account the mail will go to, for the audit trail; looked up whether or not there is one.
        let owners = tx.fetch_all(&resets::owners(&mail.to), |row| user_from_row(row, 0)).await?;
        let owner = owners.into_iter().find(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&mail.to)));
        tx.execute(&events::insert(&event.of_user(owner.map(|user| user.id)))).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn add_reset(
        &self,
        email: &str,
        digest: &TokenDigest,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locked, so the account cannot be deactivated or deleted between the lookup and the write.
        let candidates = tx.fetch_all(&resets::owner_candidates(email), |row| user_from_row(row, 0)).await?;
        let owner = candidates.into_iter().find(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)));
        let Some(user) = owner else {
            return Ok(None);
        };
        tx.execute(&resets::delete_of_user(user.id)).await?;
        tx.execute(&resets::insert(digest, user.id, created_at, expires_at)).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_reset(&self, digest: &TokenDigest) -> Result<Option<ResetLinkWithUser>, StoreError> {
        let decode = |row: &dyn Row| {
            Ok(ResetLinkWithUser { link: link_from_row(row)?, user: user_from_row(row, RESET_COLUMNS.len())? })
        };
        Ok(self.pool.fetch_optional(&resets::find(digest), decode).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn reset_password(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
        hash: &PasswordHash,
        notices: &[OutboxMail],
        event: &AuditEvent,
    ) -> Result<Option<UserId>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(user_id) = tx.fetch_optional(&resets::take_unexpired(digest, now), |row| row.int(0)).await? else {
            return Ok(None);
        };
        let user_id = UserId(user_id);
        tx.execute(&users::set_password(user_id, hash)).await?;
        if let Some(delete) = sessions::revoke_of_user(user_id, &Revoke::All) {
            tx.execute(&delete).await?;
        }
        tx.execute(&resets::delete_of_user(user_id)).await?;
        for notice in notices {
            tx.execute(&outbox::insert(user_id, notice, now)).await?;
        }
        tx.execute(&events::insert(&event.of_user(Some(user_id)))).await?;
        tx.commit().await?;
        Ok(Some(user_id))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_expired_resets(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(self.pool.execute(&resets::purge_expired(now)).await?)
    }
}

/// Decodes [`RESET_COLUMNS`] from the start of the row.
fn link_from_row(row: &dyn Row) -> Result<ResetLink, StoreError> {
    let digest = TokenDigest::from_slice(&row.bytes(0)?)
        .ok_or_else(|| StoreError::new("a stored digest has the wrong length"))?;
    Ok(ResetLink {
        digest,
        user_id: UserId(row.int(1)?),
        created_at: Timestamp::from_millis(row.int(2)?),
        expires_at: Timestamp::from_millis(row.int(3)?),
    })
}
