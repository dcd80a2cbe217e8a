//! The import from Django, on the store side: users with their Django ids, and their sessions and links.

use authtoken_core::Timestamp;
use authtoken_core::confirmation::Confirmation;
use authtoken_core::ports::StoreError;
use authtoken_core::session::Session;
use authtoken_core::user::{NewUser, PasswordHash, UserId};

use super::SqlStore;
use crate::backend::{Pool, Tx};
use crate::statements::{confirmations, import, sessions, users};

/// A user to import, with the sessions and confirmation links that go with it.
#[derive(Debug)]
pub struct ImportUser {
    /// The id the user has in Django, which the user keeps.
    pub id: UserId,
    pub user: NewUser,
    pub last_login_at: Option<Timestamp>,
    pub sessions: Vec<Session>,
    pub links: Vec<Confirmation>,
}

/// What became of one [`ImportUser`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    /// Written, with this many sessions and links.
    New { sessions: u64, links: u64 },
    /// A user of the same id and username is there: an earlier import wrote it. Nothing of it is written again, so
    /// that a second run brings back no session that was logged out since, and no hash that a login replaced.
    AlreadyThere,
    /// Not written: the id or the name belongs to someone else here. The text says whom.
    Clash(String),
}

impl SqlStore {
    /// Writes each user of `batch` that is not there yet, with its sessions and links, in one transaction; with
    /// `dry_run`, decides the same and rolls it all back. On PostgreSQL the id sequence is moved past the ids
    /// written, so that registrations go on after them.
    pub async fn import_users(&self, batch: &[ImportUser], dry_run: bool) -> Result<Vec<Imported>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for user in batch {
            outcomes.push(import_one(&mut tx, user).await?);
        }
        let wrote = outcomes.iter().any(|outcome| matches!(outcome, Imported::New { .. }));
        if dry_run {
            return Ok(outcomes);
        }
        if wrote && matches!(self.pool, Pool::Postgres { .. }) {
            tx.fetch_optional(&import::pg_sequence_past_ids(), |row| row.int(0)).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Up to `limit` stored password hashes that are not Argon2id and not unusable (`!…`), of the newest users: the
    /// hashes imported from Django that no login has replaced yet, for the hasher to cost every check as the
    /// costliest of them (`Argon2Hasher::with_imported_hashes`).
    pub async fn legacy_password_hashes(&self, limit: u32) -> Result<Vec<PasswordHash>, StoreError> {
        let query = users::legacy_hashes(limit);
        Ok(self.pool.fetch_all(&query, |row| Ok(PasswordHash::new(row.text(0)?))).await?)
    }
}

async fn import_one(tx: &mut Tx, import: &ImportUser) -> Result<Imported, StoreError> {
    let clashes =
        tx.fetch_all(&import::clashes(import.id, &import.user), |row| Ok((row.int(0)?, row.text(1)?))).await?;
    let username = import.user.username.as_str();
    if let Some((id, name)) = clashes.first() {
        return Ok(match clashes.as_slice() {
            [(id, name)] if *id == import.id.0 && name == username => Imported::AlreadyThere,
            _ if *id == import.id.0 => Imported::Clash(format!("the id {id} belongs to `{name}` here")),
            _ => Imported::Clash(format!("the name is taken by `{name}` (id {id}) here")),
        });
    }
    if tx.fetch_optional(&import::was_imported(import.id), |row| row.int(0)).await?.is_some() {
        let clash = format!("an earlier import wrote the id {}, and the user was deleted here since", import.id.0);
        return Ok(Imported::Clash(clash));
    }
    if tx.fetch_optional(&import::events_of(import.id), |row| row.int(0)).await?.is_some() {
        let clash = format!("the id {} belonged to a deleted user here, whose events are kept", import.id.0);
        return Ok(Imported::Clash(clash));
    }
    tx.execute(&import::insert_user(import.id, &import.user, import.last_login_at)).await?;
    tx.execute(&import::mark_imported(import.id)).await?;
    let mut written = (0, 0);
    for session in &import.sessions {
        written.0 += tx.execute(&import::unless_there(sessions::insert(session))).await?;
    }
    for link in &import.links {
        written.1 += tx.execute(&import::unless_there(confirmations::insert(link))).await?;
    }
    Ok(Imported::New { sessions: written.0, links: written.1 })
}
