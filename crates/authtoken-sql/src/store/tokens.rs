//! `TokenRepo` for `SqlStore`.

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::event::AuditEvent;
use authtoken_core::ports::{StoreError, TokenRepo};
use authtoken_core::session::{ClientInfo, Revoke, Session, SessionId, SessionWithUser};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{PasswordHash, UserId};

use super::{SqlStore, credentials_from_row, user_from_row};
use crate::row::Row;
use crate::statements::{SESSION_COLUMNS, events, sessions, users};

#[async_trait]
impl TokenRepo for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        self.pool.execute(&sessions::insert(session)).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_for_login(
        &self,
        session: &Session,
        password_hash: &PasswordHash,
        max: Option<u32>,
        event: &AuditEvent,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locked, so logins of one user take turns here (together they never leave more than `max`), and a password
        // change, reset, deactivation or deletion either comes before the check or after the session is stored.
        let current =
            tx.fetch_optional(&users::lock_credentials(session.user_id), |row| credentials_from_row(row, 0)).await?;
        if !current.is_some_and(|c| c.user.is_active && c.password_hash == *password_hash) {
            return Ok(None);
        }
        tx.execute(&sessions::insert(session)).await?;
        let evicted = match max {
            Some(max) => tx.execute(&sessions::evict_least_recent(session.user_id, &session.digest, max)).await?,
            None => 0,
        };
        tx.execute(&events::insert(event)).await?;
        tx.commit().await?;
        Ok(Some(evicted))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find(&self, digest: &TokenDigest) -> Result<Option<SessionWithUser>, StoreError> {
        Ok(self.pool.fetch_by_key(&sessions::FIND, digest.as_bytes(), session_with_user_from_row).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&sessions::delete(digest)).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(self.pool.execute(&sessions::purge_expired(now)).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_idle(&self, before: Timestamp) -> Result<u64, StoreError> {
        Ok(self.pool.execute(&sessions::purge_idle(before)).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn touch(&self, digest: &TokenDigest, at: Timestamp, stale_before: Timestamp) -> Result<bool, StoreError> {
        Ok(self.pool.execute(&sessions::touch(digest, at, stale_before)).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_by_id(&self, id: &SessionId) -> Result<Option<SessionWithUser>, StoreError> {
        Ok(self.pool.fetch_optional(&sessions::find_by_id(id), session_with_user_from_row).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn revoke(&self, user_id: UserId, id: &SessionId, event: &AuditEvent) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if tx.execute(&sessions::revoke(user_id, id)).await? == 0 {
            return Ok(false);
        }
        tx.execute(&events::insert(event)).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn revoke_sessions(&self, user_id: UserId, which: &Revoke, event: &AuditEvent) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let revoked = match sessions::revoke_of_user(user_id, which) {
            Some(delete) => tx.execute(&delete).await?,
            None => 0,
        };
        tx.execute(&events::insert(event)).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn revoke_everyone(&self, event: &AuditEvent) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let revoked = tx.execute(&sessions::revoke_everyone()).await?;
        tx.execute(&events::insert(event)).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn ping(&self) -> Result<(), StoreError> {
        self.pool.fetch_optional(&sessions::ping(), |row| row.int(0)).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn sessions_of(&self, user_id: UserId) -> Result<Vec<Session>, StoreError> {
        Ok(self.pool.fetch_all(&sessions::of_user(user_id), session_from_row).await?)
    }
}

/// Decodes [`SESSION_COLUMNS`] and then the user's columns.
fn session_with_user_from_row(row: &dyn Row) -> Result<SessionWithUser, StoreError> {
    Ok(SessionWithUser { session: session_from_row(row)?, user: user_from_row(row, SESSION_COLUMNS.len())? })
}

/// Decodes [`SESSION_COLUMNS`] from the start of the row.
fn session_from_row(row: &dyn Row) -> Result<Session, StoreError> {
    let digest = TokenDigest::from_slice(&row.bytes(0)?)
        .ok_or_else(|| StoreError::new("a stored digest has the wrong length"))?;
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
