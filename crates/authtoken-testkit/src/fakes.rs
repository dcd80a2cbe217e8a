//! In-memory fakes of the ports: a store, a clock that only moves when told, and a cheap password hasher.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use authtoken_core::Timestamp;
use authtoken_core::ports::{Clock, CreateUserError, HashError, PasswordHasher, StoreError, TokenRepo, UserRepo};
use authtoken_core::session::{Session, SessionWithUser};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{NewUser, Password, PasswordHash, User, UserCredentials, UserId};

/// A clock that stands still until [`FakeClock::advance`] moves it.
#[derive(Clone, Debug)]
pub struct FakeClock(Arc<Mutex<Timestamp>>);

impl FakeClock {
    pub fn at(now: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = lock(&self.0);
        *now = now.plus(by);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *lock(&self.0)
    }
}

/// A password hasher that costs nothing and counts what it was asked to do.
///
/// Its "hash" is the password behind a marker, so it is only for tests.
#[derive(Debug, Default)]
pub struct FakePasswordHasher {
    verifications: AtomicUsize,
    dummy_verifications: AtomicUsize,
}

impl FakePasswordHasher {
    /// Real and dummy verifications so far.
    pub fn verifications(&self) -> (usize, usize) {
        (self.verifications.load(Ordering::SeqCst), self.dummy_verifications.load(Ordering::SeqCst))
    }

    /// The hash this fake gives `password`, for seeding stores directly.
    pub fn hash_of(password: &str) -> PasswordHash {
        PasswordHash::new(format!("fake${password}"))
    }
}

#[async_trait]
impl PasswordHasher for FakePasswordHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let text = String::from_utf8(password.as_bytes().to_vec()).map_err(|e| HashError(e.to_string()))?;
        Ok(Self::hash_of(&text))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        Ok(hash.as_str().strip_prefix("fake$").map(str::as_bytes) == Some(password.as_bytes()))
    }

    async fn verify_dummy(&self, _password: &Password) -> Result<(), HashError> {
        self.dummy_verifications.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Users and sessions in memory, implementing [`TokenRepo`] and [`UserRepo`] with the same contract as the SQL stores.
#[derive(Clone, Debug, Default)]
pub struct InMemoryStore(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    users: Vec<StoredUser>,
    sessions: HashMap<[u8; 64], Session>,
}

#[derive(Debug)]
struct StoredUser {
    user: User,
    key: String,
    password_hash: PasswordHash,
}

impl InMemoryStore {
    /// How many sessions are stored, expired or not.
    pub fn session_count(&self) -> usize {
        lock(&self.0).sessions.len()
    }
}

#[async_trait]
impl TokenRepo for InMemoryStore {
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        let mut state = lock(&self.0);
        if !state.users.iter().any(|u| u.user.id == session.user_id) {
            return Err(StoreError(format!("no user {:?}", session.user_id)));
        }
        state.sessions.insert(*session.digest.as_bytes(), session.clone());
        Ok(())
    }

    async fn find(&self, digest: &TokenDigest) -> Result<Option<SessionWithUser>, StoreError> {
        let state = lock(&self.0);
        let Some(session) = state.sessions.get(digest.as_bytes()) else {
            return Ok(None);
        };
        let user = state.users.iter().find(|u| u.user.id == session.user_id).map(|u| u.user.clone());
        Ok(user.map(|user| SessionWithUser { session: session.clone(), user }))
    }

    async fn delete(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(lock(&self.0).sessions.remove(digest.as_bytes()).is_some())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = lock(&self.0);
        let before = state.sessions.len();
        state.sessions.retain(|_, s| s.expires_at >= now);
        Ok((before - state.sessions.len()) as u64)
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
    async fn create(&self, new: &NewUser) -> Result<User, CreateUserError> {
        let mut state = lock(&self.0);
        if state.users.iter().any(|u| u.user.username == new.username.as_str() || u.key == new.username_key) {
            return Err(CreateUserError::Duplicate);
        }
        let id = UserId(state.users.iter().map(|u| u.user.id.0).max().unwrap_or(0) + 1);
        let user = User {
            id,
            username: new.username.as_str().to_owned(),
            email: new.email.clone(),
            email_confirmed: false,
            is_active: new.is_active,
            joined_at: new.joined_at,
            last_login_at: None,
        };
        state.users.push(StoredUser {
            user: user.clone(),
            key: new.username_key.clone(),
            password_hash: new.password_hash.clone(),
        });
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
        if let Some(stored) = lock(&self.0).users.iter_mut().find(|u| u.user.id == id) {
            stored.user.last_login_at = Some(at);
        }
        Ok(())
    }

    async fn set_active(&self, id: UserId, active: bool) -> Result<bool, StoreError> {
        let mut state = lock(&self.0);
        let Some(stored) = state.users.iter_mut().find(|u| u.user.id == id) else {
            return Ok(false);
        };
        stored.user.is_active = active;
        Ok(true)
    }

    async fn delete(&self, id: UserId) -> Result<bool, StoreError> {
        let mut state = lock(&self.0);
        let before = state.users.len();
        state.users.retain(|u| u.user.id != id);
        state.sessions.retain(|_, s| s.user_id != id);
        Ok(state.users.len() < before)
    }
}

/// A poisoned lock only means another test thread panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
