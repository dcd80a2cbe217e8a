//! `InMemoryStore`: its state, and `TokenRepo` and `UserRepo` over it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::confirmation::Confirmation;
use authtoken_core::event::{AuditEvent, EventId};
use authtoken_core::outbox::{OutboxEntry, OutboxMail};
use authtoken_core::ports::{CreateUserError, StoreError, TokenRepo, UserRepo};
use authtoken_core::session::{Revoke, Session, SessionId, SessionWithUser};
use authtoken_core::throttle_memory::MemoryThrottleStore;
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{NewUser, PasswordHash, User, UserCredentials, UserId};

use super::lock;

/// Users, sessions, confirmation and reset links, the outbox and the audit trail in memory, implementing
/// [`TokenRepo`], [`UserRepo`], [`authtoken_core::ports::ConfirmationRepo`], [`authtoken_core::ports::ResetRepo`],
/// [`authtoken_core::ports::Outbox`] and [`authtoken_core::ports::EventRepo`] with the same contract as the SQL
/// stores.
///
/// One mutex guards everything, so every call is atomic, as a transaction is in the SQL stores. The throttles are
/// the core's own [`MemoryThrottleStore`] beside it.
#[derive(Clone, Debug, Default)]
pub struct InMemoryStore(pub(super) Arc<Mutex<State>>, pub(super) Arc<MemoryThrottleStore>);

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) users: Vec<StoredUser>,
    pub(super) sessions: HashMap<[u8; 64], Session>,
    pub(super) confirmations: HashMap<[u8; 64], Confirmation>,
    pub(super) resets: HashMap<[u8; 64], authtoken_core::reset::ResetLink>,
    pub(super) outbox: Vec<StoredEntry>,
    /// The last outbox id handed out; ids are never reused, as with `AUTOINCREMENT`.
    pub(super) last_outbox_id: i64,
    /// The audit trail, in the order recorded.
    pub(super) events: Vec<(EventId, AuditEvent)>,
    /// The last event id handed out.
    pub(super) last_event_id: i64,
    /// The last user id handed out; ids are never reused, as with `AUTOINCREMENT`, so no new user inherits the
    /// events of a deleted one.
    pub(super) last_user_id: i64,
}

#[derive(Debug)]
pub(super) struct StoredUser {
    pub(super) user: User,
    key: String,
    password_hash: PasswordHash,
}

/// An outbox entry and the lease the port does not show.
#[derive(Debug)]
pub(super) struct StoredEntry {
    pub(super) entry: OutboxEntry,
    pub(super) leased_until: Option<Timestamp>,
}

impl InMemoryStore {
    /// How many sessions are stored, expired or not.
    pub fn session_count(&self) -> usize {
        lock(&self.0).sessions.len()
    }

    /// How many confirmation links of the user are stored, expired or not.
    pub fn confirmation_count(&self, user_id: UserId) -> usize {
        lock(&self.0).confirmations.values().filter(|link| link.user_id == user_id).count()
    }

    /// Stores a link as it is, without the checks of `ConfirmationRepo::add_confirmation`: for states a store
    /// reaches only over time, such as a link to an address the user has changed since.
    pub fn insert_confirmation(&self, link: Confirmation) {
        lock(&self.0).confirmations.insert(*link.digest.as_bytes(), link);
    }
}

impl State {
    /// Creates the user, or refuses a duplicate name as a unique index would.
    pub(super) fn create_user(&mut self, new: &NewUser) -> Result<User, CreateUserError> {
        if self.users.iter().any(|u| u.user.username == new.username.as_str() || u.key == new.username_key) {
            return Err(CreateUserError::Duplicate);
        }
        self.last_user_id += 1;
        let id = UserId(self.last_user_id);
        let user = User {
            id,
            username: new.username.as_str().to_owned(),
            email: new.email.clone(),
            email_confirmed: new.email_confirmed,
            is_active: new.is_active,
            joined_at: new.joined_at,
            last_login_at: None,
        };
        self.users.push(StoredUser {
            user: user.clone(),
            key: new.username_key.clone(),
            password_hash: new.password_hash.clone(),
        });
        Ok(user)
    }

    pub(super) fn user_mut(&mut self, id: UserId) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.user.id == id).map(|u| &mut u.user)
    }

    pub(super) fn user(&self, id: UserId) -> Option<&User> {
        self.users.iter().find(|u| u.user.id == id).map(|u| &u.user)
    }

    /// Replaces the user's password hash; `false` when there is no such user.
    pub(super) fn set_password_hash(&mut self, id: UserId, hash: &PasswordHash) -> bool {
        let Some(stored) = self.users.iter_mut().find(|u| u.user.id == id) else {
            return false;
        };
        stored.password_hash = hash.clone();
        true
    }

    /// Deletes the user's sessions that `which` names; returns how many.
    pub(super) fn revoke_sessions(&mut self, user_id: UserId, which: &Revoke) -> u64 {
        match which {
            Revoke::Nothing => 0,
            Revoke::AllBut(keep) => remove_sessions(self, |s| s.user_id == user_id && s.digest != *keep),
            Revoke::All => remove_sessions(self, |s| s.user_id == user_id),
        }
    }
}

/// Deletes the sessions that `doomed` picks; returns how many.
fn remove_sessions(state: &mut State, doomed: impl Fn(&Session) -> bool) -> u64 {
    let before = state.sessions.len();
    state.sessions.retain(|_, s| !doomed(s));
    (before - state.sessions.len()) as u64
}

#[async_trait]
impl TokenRepo for InMemoryStore {
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        let mut state = lock(&self.0);
        if state.user(session.user_id).is_none() {
            return Err(StoreError::new(format!("no user {:?}", session.user_id)));
        }
        state.sessions.insert(*session.digest.as_bytes(), session.clone());
        Ok(())
    }

    async fn insert_for_login(
        &self,
        session: &Session,
        password_hash: &PasswordHash,
        max: Option<u32>,
        event: &AuditEvent,
    ) -> Result<Option<u64>, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        let current = state.users.iter().find(|u| u.user.id == session.user_id);
        if !current.is_some_and(|u| u.user.is_active && u.password_hash == *password_hash) {
            return Ok(None);
        }
        state.sessions.insert(*session.digest.as_bytes(), session.clone());
        state.record(event);
        let Some(max) = max else {
            return Ok(Some(0));
        };
        let mut own: Vec<&Session> = state.sessions.values().filter(|s| s.user_id == session.user_id).collect();
        // Most recently active first; on a tie, the later login first.
        own.sort_by_key(|s| std::cmp::Reverse((s.last_active_at(), s.created_at)));
        let doomed: Vec<[u8; 64]> = own.iter().skip(max as usize).map(|s| *s.digest.as_bytes()).collect();
        for digest in &doomed {
            state.sessions.remove(digest);
        }
        Ok(Some(doomed.len() as u64))
    }

    async fn find(&self, digest: &TokenDigest) -> Result<Option<SessionWithUser>, StoreError> {
        let state = lock(&self.0);
        let Some(session) = state.sessions.get(digest.as_bytes()) else {
            return Ok(None);
        };
        let user = state.user(session.user_id).cloned();
        Ok(user.map(|user| SessionWithUser { session: session.clone(), user }))
    }

    async fn delete(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(lock(&self.0).sessions.remove(digest.as_bytes()).is_some())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(remove_sessions(&mut lock(&self.0), |s| s.expires_at < now))
    }

    async fn purge_idle(&self, before: Timestamp) -> Result<u64, StoreError> {
        Ok(remove_sessions(&mut lock(&self.0), |s| s.last_active_at() < before))
    }

    async fn touch(&self, digest: &TokenDigest, at: Timestamp, stale_before: Timestamp) -> Result<bool, StoreError> {
        let mut state = lock(&self.0);
        let Some(session) = state.sessions.get_mut(digest.as_bytes()) else {
            return Ok(false);
        };
        if session.last_used_at.is_some_and(|used| used >= stale_before) {
            return Ok(false);
        }
        session.last_used_at = Some(at);
        Ok(true)
    }

    async fn find_by_id(&self, id: &SessionId) -> Result<Option<SessionWithUser>, StoreError> {
        let state = lock(&self.0);
        let Some(session) = state.sessions.values().find(|s| s.id == *id) else {
            return Ok(None);
        };
        let user = state.user(session.user_id).cloned();
        Ok(user.map(|user| SessionWithUser { session: session.clone(), user }))
    }

    async fn revoke(&self, user_id: UserId, id: &SessionId, event: &AuditEvent) -> Result<bool, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        let revoked = remove_sessions(&mut state, |s| s.user_id == user_id && s.id == *id) > 0;
        if revoked {
            state.record(event);
        }
        Ok(revoked)
    }

    async fn revoke_sessions(&self, user_id: UserId, which: &Revoke, event: &AuditEvent) -> Result<u64, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        state.record(event);
        Ok(state.revoke_sessions(user_id, which))
    }

    async fn revoke_everyone(&self, event: &AuditEvent) -> Result<u64, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        state.record(event);
        Ok(remove_sessions(&mut state, |_| true))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn sessions_of(&self, user_id: UserId) -> Result<Vec<Session>, StoreError> {
        let mut sessions: Vec<Session> =
            lock(&self.0).sessions.values().filter(|s| s.user_id == user_id).cloned().collect();
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }
}

#[async_trait]
impl UserRepo for InMemoryStore {
    async fn create(&self, new: &NewUser, event: &AuditEvent) -> Result<User, CreateUserError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        let user = state.create_user(new)?;
        state.record_of(Some(user.id), event);
        Ok(user)
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.0).users.iter().find(|u| u.user.username == username).map(|u| u.user.clone()))
    }

    async fn find_by_key(&self, key: &str) -> Result<Option<UserCredentials>, StoreError> {
        Ok(lock(&self.0)
            .users
            .iter()
            .find(|u| u.key == key)
            .map(|u| UserCredentials { user: u.user.clone(), password_hash: u.password_hash.clone() }))
    }

    async fn record_login(&self, id: UserId, at: Timestamp) -> Result<(), StoreError> {
        if let Some(user) = lock(&self.0).user_mut(id) {
            user.last_login_at = Some(at);
        }
        Ok(())
    }

    async fn upgrade_password_hash(
        &self,
        id: UserId,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, StoreError> {
        let mut state = lock(&self.0);
        let Some(stored) = state.users.iter_mut().find(|u| u.user.id == id && u.password_hash == *old) else {
            return Ok(false);
        };
        stored.password_hash = new.clone();
        Ok(true)
    }

    async fn find_credentials(&self, id: UserId) -> Result<Option<UserCredentials>, StoreError> {
        Ok(lock(&self.0)
            .users
            .iter()
            .find(|u| u.user.id == id)
            .map(|u| UserCredentials { user: u.user.clone(), password_hash: u.password_hash.clone() }))
    }

    async fn list(&self, after: Option<UserId>, limit: u32) -> Result<Vec<User>, StoreError> {
        let state = lock(&self.0);
        let mut users: Vec<User> =
            state.users.iter().map(|u| u.user.clone()).filter(|u| after.is_none_or(|after| u.id > after)).collect();
        users.sort_by_key(|u| u.id);
        users.truncate(limit as usize);
        Ok(users)
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        revoke: &Revoke,
        notices: &[OutboxMail],
        at: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<u64>, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        if !state.set_password_hash(id, hash) {
            return Ok(None);
        }
        for notice in notices {
            state.queue(id, notice, at);
        }
        state.record(event);
        Ok(Some(state.revoke_sessions(id, revoke)))
    }

    async fn set_active(&self, id: UserId, active: bool, event: &AuditEvent) -> Result<bool, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        let Some(user) = state.user_mut(id) else {
            return Ok(false);
        };
        user.is_active = active;
        if !active {
            state.revoke_sessions(id, &Revoke::All);
        }
        state.record(event);
        Ok(true)
    }

    /// Cascades like the SQL foreign keys: the user's sessions, links and mail go too; the events stay.
    async fn delete(&self, id: UserId, event: &AuditEvent) -> Result<bool, StoreError> {
        super::events::check(event)?;
        let mut state = lock(&self.0);
        let before = state.users.len();
        state.users.retain(|u| u.user.id != id);
        if state.users.len() == before {
            return Ok(false);
        }
        state.sessions.retain(|_, s| s.user_id != id);
        state.confirmations.retain(|_, c| c.user_id != id);
        state.resets.retain(|_, r| r.user_id != id);
        state.outbox.retain(|e| e.entry.user_id != Some(id));
        state.record(event);
        Ok(true)
    }
}
