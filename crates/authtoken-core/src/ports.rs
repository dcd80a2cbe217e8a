//! The ports: what the use cases need from the outside world, as traits that adapters implement.
//!
//! Every port documents its contract in RFC words; `authtoken-testkit` turns each MUST into a contract case
//! that every adapter runs.
//!
//! # Writing an adapter
//!
//! An adapter is a type that implements a port, with `#[async_trait]` on the async ones, and wraps its driver's
//! errors in the port's error. This mailer hands mail to a queue of the host application:
//!
//! ```
//! use std::sync::Mutex;
//!
//! use async_trait::async_trait;
//! use authtoken_core::outbox::Mail;
//! use authtoken_core::ports::{MailError, Mailer};
//!
//! /// Mail for the application's own delivery; `None` once the application has closed it.
//! struct QueueMailer(Mutex<Option<Vec<Mail>>>);
//!
//! #[async_trait]
//! impl Mailer for QueueMailer {
//!     async fn send(&self, mail: &Mail) -> Result<(), MailError> {
//!         let mut queue = self.0.lock().map_err(|_| MailError::new("the queue is poisoned"))?;
//!         // The contract: a mail the transport did not take is an error, never a silent success.
//!         let queue = queue.as_mut().ok_or_else(|| MailError::new("the queue is closed"))?;
//!         queue.push(mail.clone());
//!         Ok(())
//!     }
//! }
//! ```

use std::time::Duration;

use async_trait::async_trait;

use crate::confirmation::{Confirmation, ConfirmationWithUser};
pub use crate::error::{HashError, MailError, StoreError};
use crate::event::{AuditEvent, EventQuery, StoredEvent};
use crate::outbox::{Mail, OutboxEntry, OutboxId, OutboxMail, OutboxState};
use crate::reset::ResetLinkWithUser;
use crate::session::{Revoke, Session, SessionId, SessionWithUser};
use crate::throttle::{Check, ThrottleKey};
use crate::time::Timestamp;
use crate::token::TokenDigest;
use crate::user::{NewUser, Password, PasswordHash, User, UserCredentials, UserId};

/// Sessions, kept under the digest of their token.
///
/// # Example
///
/// A use case holds the port as `Arc<dyn TokenRepo>`, whichever adapter is behind it; here the testkit's fake:
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use authtoken_core::event::EventKind;
/// use authtoken_core::ports::{TokenRepo, UserRepo as _};
/// use authtoken_testkit::{InMemoryStore, fixtures};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = Arc::new(InMemoryStore::default());
/// let registered = fixtures::event(EventKind::Registered);
/// let alice = store.create(&fixtures::new_user("alice", "correct horse"), &registered).await.unwrap();
/// let tokens: Arc<dyn TokenRepo> = store;
/// let (token, session) = fixtures::session(alice.id, fixtures::EPOCH, Duration::from_secs(60));
///
/// tokens.insert(&session).await.unwrap();
///
/// let found = tokens.find(&token.digest()).await.unwrap().expect("stored under its digest");
/// assert_eq!(found.user.username, "alice");
/// assert!(tokens.delete(&token.digest()).await.unwrap());
/// # }
/// ```
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TokenRepo: Send + Sync {
    /// MUST store the session so that [`TokenRepo::find`] returns it by its digest.
    /// MUST keep every other session of the same user untouched.
    async fn insert(&self, session: &Session) -> Result<(), StoreError>;

    /// MUST, in one transaction that locks the user: store the session only while its user exists, is active and
    /// still has exactly `password_hash` (the hash the login verified), so that a login racing a password change, a
    /// reset, a deactivation or a deletion never leaves a session behind it; then, when `max` is given, delete the
    /// user's least recently active sessions (by [`Session::last_active_at`], the earlier login first on a tie) until
    /// at most `max` are left, the new one among them, so that concurrent logins never leave more than `max`; and
    /// record `event` in the same transaction.
    /// Returns how many sessions were deleted, or `None` (storing and recording nothing) when the user failed the check.
    async fn insert_for_login(
        &self,
        session: &Session,
        password_hash: &PasswordHash,
        max: Option<u32>,
        event: &AuditEvent,
    ) -> Result<Option<u64>, StoreError>;

    /// MUST return the session stored under `digest` with its user, or `None`.
    /// MUST return expired sessions too: deciding about expiry is the caller's job.
    /// MUST NOT cache: a find that starts after a delete, revocation or deactivation committed sees it, whichever
    /// server or connection made it. Concurrent finds may share one query, but each gets its own digest's answer.
    async fn find(&self, digest: &TokenDigest) -> Result<Option<SessionWithUser>, StoreError>;

    /// MUST delete the session stored under `digest` and no other; returns whether one was deleted.
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, StoreError>;

    /// MUST delete every session whose expiry is before `now`; returns how many were deleted.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// MUST delete every session last active ([`Session::last_active_at`]) before `before`; returns how many.
    async fn purge_idle(&self, before: Timestamp) -> Result<u64, StoreError>;

    /// MUST set the session's `last_used_at` to `at` when it is unset or before `stale_before`, and leave it alone
    /// otherwise, in one conditional statement (of many requests racing, the writes after the first change nothing);
    /// returns whether it wrote.
    async fn touch(&self, digest: &TokenDigest, at: Timestamp, stale_before: Timestamp) -> Result<bool, StoreError>;

    /// MUST return every session of the user, expired ones included, oldest first.
    async fn sessions_of(&self, user_id: UserId) -> Result<Vec<Session>, StoreError>;

    /// MUST return the session whose public id is `id`, with its user, or `None`; expired sessions too.
    async fn find_by_id(&self, id: &SessionId) -> Result<Option<SessionWithUser>, StoreError>;

    /// MUST delete the session whose public id is `id` when it belongs to `user_id`, and no other, and record `event`
    /// in the same transaction; returns whether one was deleted (`false` for another user's session, exactly as for
    /// none), and records nothing when none was.
    async fn revoke(&self, user_id: UserId, id: &SessionId, event: &AuditEvent) -> Result<bool, StoreError>;

    /// MUST delete the sessions of the user that `which` names, and no other user's, in one statement, so that every
    /// session stored before it began is gone when it returns, and record `event` in the same transaction (also when
    /// there was nothing to delete); returns how many were deleted.
    async fn revoke_sessions(&self, user_id: UserId, which: &Revoke, event: &AuditEvent) -> Result<u64, StoreError>;

    /// MUST delete every session of every user, and record `event` in the same transaction; returns how many were
    /// deleted.
    async fn revoke_everyone(&self, event: &AuditEvent) -> Result<u64, StoreError>;

    /// MUST succeed when the store can answer a query now, and fail otherwise (for readiness checks).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// Another user has the same username or the same username key.
    #[error("a user with that username already exists")]
    Duplicate,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Users.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// MUST create the user and return it with its new id, and record `event` as the new user's (whatever its
    /// `user_id` says) in the same transaction.
    /// MUST never give a new user the id of a deleted one, whose events outlive it.
    /// MUST store `email` and `email_confirmed` as given, so that a user an operator vouches for is confirmed at once.
    /// MUST return [`CreateUserError::Duplicate`] when a user with the same `username` or the same
    /// `username_key` exists, decided by a unique index so that concurrent creations of one name give one user; then
    /// nothing is created or recorded.
    async fn create(&self, user: &NewUser, event: &AuditEvent) -> Result<User, CreateUserError>;

    /// MUST return the user whose username is exactly `username`, or `None`.
    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// MUST return the user whose username key is exactly `key`, with the password hash, or `None`.
    async fn find_by_key(&self, key: &str) -> Result<Option<UserCredentials>, StoreError>;

    /// MUST return the user with the id `id`, with the password hash, or `None`.
    async fn find_credentials(&self, id: UserId) -> Result<Option<UserCredentials>, StoreError>;

    /// MUST return up to `limit` users whose id is greater than `after` (every user when `after` is `None`), in id
    /// order, so that a listing pages through the users by the last id it showed.
    async fn list(&self, after: Option<UserId>, limit: u32) -> Result<Vec<User>, StoreError>;

    /// MUST replace the user's password hash, delete the user's sessions that `revoke` names, put every mail of
    /// `notices` in the outbox for the user, due at `at`, and record `event`, in one transaction; returns how many
    /// sessions were deleted, or `None` (and changes and records nothing) when the user does not exist.
    async fn set_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        revoke: &Revoke,
        notices: &[OutboxMail],
        at: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<u64>, StoreError>;

    /// MUST record `at` as the user's last login.
    async fn record_login(&self, id: UserId, at: Timestamp) -> Result<(), StoreError>;

    /// MUST replace the user's password hash with `new` only while it is still `old`, and change nothing else:
    /// no session is deleted, no mail queued, no event recorded, since the password stays the same. Returns whether
    /// it replaced it. This is how a hash made with older parameters or another algorithm (one imported from Django)
    /// becomes a current one at a successful login.
    async fn upgrade_password_hash(
        &self,
        id: UserId,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, StoreError>;

    /// MUST set the user's active flag and no other user's, and record `event` in the same transaction; returns
    /// whether the user exists (and records nothing when not).
    /// MUST, when `active` is false, delete every session of the user in the same transaction.
    async fn set_active(&self, id: UserId, active: bool, event: &AuditEvent) -> Result<bool, StoreError>;

    /// MUST delete the user together with all of the user's sessions, confirmation links and outbox mail, and record
    /// `event` in the same transaction; returns whether the user existed (and records nothing when not).
    /// MUST keep the user's events: the audit trail outlives the account, until the events are purged.
    async fn delete(&self, id: UserId, event: &AuditEvent) -> Result<bool, StoreError>;
}

/// Email confirmation links, and the outbox mail that asks for them.
///
/// A link is minted when its mail is delivered ([`ConfirmationRepo::add_confirmation`]); until then the outbox holds
/// only what the mail is about, so no plaintext link is ever written.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ConfirmationRepo: Send + Sync {
    /// MUST create the user, put `mail` in the outbox for the new user's id, due at the user's `joined_at`, and record
    /// `event` as the new user's, in one transaction: all or nothing.
    /// MUST return [`CreateUserError::Duplicate`] under the same rules as [`UserRepo::create`].
    async fn create_user_with_confirmation(
        &self,
        user: &NewUser,
        mail: &OutboxMail,
        event: &AuditEvent,
    ) -> Result<User, CreateUserError>;

    /// MUST, in one transaction, delete every confirmation link of the user and the user's mail still pending in the
    /// outbox (its links no longer work), and put `mail` in the outbox, due at `at`.
    /// Returns `false` (and changes nothing) when the user does not exist.
    async fn replace_confirmation(&self, user_id: UserId, mail: &OutboxMail, at: Timestamp)
    -> Result<bool, StoreError>;

    /// MUST store the link, and return its user, only while the user exists, has exactly the link's `email` and has
    /// not confirmed it; otherwise MUST store nothing and return `None`. The check and the write are one
    /// transaction, so a link is never stored for an address the user no longer has.
    async fn add_confirmation(&self, link: &Confirmation) -> Result<Option<User>, StoreError>;

    /// MUST return the link stored under `digest` with its user, or `None`; expired links too.
    async fn find_confirmation(&self, digest: &TokenDigest) -> Result<Option<ConfirmationWithUser>, StoreError>;

    /// MUST, in one transaction, mark the user's email confirmed, delete the link and every other link of the
    /// user, and record `event` as the link's user's; returns `false` (and changes and records nothing) when the link
    /// is gone.
    async fn confirm(&self, digest: &TokenDigest, event: &AuditEvent) -> Result<bool, StoreError>;

    /// MUST delete the link stored under `digest`; returns whether one was deleted.
    async fn delete_confirmation(&self, digest: &TokenDigest) -> Result<bool, StoreError>;

    /// MUST delete every link whose expiry is before `now`; returns how many were deleted.
    async fn purge_expired_confirmations(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// MUST return the users whose email is set and not confirmed, in id order.
    async fn unconfirmed_users(&self) -> Result<Vec<User>, StoreError>;
}

/// Password reset links, and the outbox mail that asks for them.
///
/// A reset request is queued by the address it names, whether or not an account has it, so that the request does the
/// same work either way; the account is looked up when the mail is delivered ([`ResetRepo::add_reset`]).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ResetRepo: Send + Sync {
    /// MUST, in one transaction, delete the pending reset mail to the same address (compared without regard to ASCII
    /// case) and put `mail` in the outbox without a user, due at `at`: a newer request replaces an older one; and
    /// record `event` as the user's that [`ResetRepo::add_reset`] would find for the address now, or without a user
    /// when there is none. The lookup happens either way, so the work does not tell whether an account has the
    /// address.
    async fn request_reset(&self, mail: &OutboxMail, at: Timestamp, event: &AuditEvent) -> Result<(), StoreError>;

    /// MUST, in one transaction, find the active user with the address `email` (without regard to ASCII case, and to
    /// nothing else: no Unicode case folding; the first registered when several have it), delete every reset link of that user, store a link under `digest`
    /// for that user, made at `created_at` and valid until `expires_at`, and return the user; MUST store nothing and
    /// return `None` when no active user has the address.
    async fn add_reset(
        &self,
        email: &str,
        digest: &TokenDigest,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Option<User>, StoreError>;

    /// MUST return the link stored under `digest` with its user, or `None`; expired links too.
    async fn find_reset(&self, digest: &TokenDigest) -> Result<Option<ResetLinkWithUser>, StoreError>;

    /// MUST, in one transaction: delete the link stored under `digest` if it has not expired at `now`; then set its
    /// user's password hash, delete every session and every reset link of the user, and put every mail of `notices` in
    /// the outbox for the user, due at `now`, and record `event` as the link's user's. Returns the user's id, or
    /// `None` (changing and recording nothing) when no unexpired link was stored under `digest`; of concurrent calls
    /// with one digest, at most one succeeds.
    async fn reset_password(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
        hash: &PasswordHash,
        notices: &[OutboxMail],
        event: &AuditEvent,
    ) -> Result<Option<UserId>, StoreError>;

    /// MUST delete every link whose expiry is before `now`; returns how many were deleted.
    async fn purge_expired_resets(&self, now: Timestamp) -> Result<u64, StoreError>;
}

/// The durable outbox: mail waiting to be delivered, written in the same transaction as what it announces.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// MUST return up to `limit` pending entries whose next attempt is due at `now`, oldest first, and lease them
    /// until `lease_until`: until then no other call of `claim_due` returns them (so two workers never send one
    /// mail at once).
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// MUST mark the entry sent at `at`; a sent entry is never claimed again.
    async fn mark_sent(&self, id: OutboxId, at: Timestamp) -> Result<(), StoreError>;

    /// MUST count the attempt and keep `error` (MAY cut it to its first [`crate::outbox::OUTBOX_ERROR_MAX_CHARS`]
    /// characters); the entry stays pending until `retry_at`, or becomes failed for good when `retry_at` is `None`.
    async fn mark_failed(&self, id: OutboxId, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError>;

    /// MUST return the entries in `states`, oldest first.
    async fn entries(&self, states: &[OutboxState]) -> Result<Vec<OutboxEntry>, StoreError>;

    /// MUST make the failed entries pending again (every one, or those of `ids` that failed), due at `at`, their
    /// attempts counted from zero and their last error kept; MUST NOT change any other entry; returns how many.
    async fn retry_failed(&self, ids: Option<Vec<OutboxId>>, at: Timestamp) -> Result<u64, StoreError>;
}

/// Sends mail.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// MUST hand the mail to its transport or return an error; MUST NOT report success for a mail it dropped.
    /// MUST return a [`MailError::permanent`] when trying again cannot deliver the mail (a recipient the
    /// transport cannot address, or that the server refused for good), and a temporary one otherwise.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Throttle keys and their times (see [`crate::throttle`]); shared by every server that shares the store.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Judges `checks` at `now` and answers each, in order: `None` when it admits the attempt, or how long until it
    /// would.
    ///
    /// A check with `count` MUST record the attempt on its key exactly when [`Rate::admit`] admits it, atomically
    /// with every other caller of the store on any server; other checks MUST only be read, with [`Rate::wait`].
    ///
    /// [`Rate::admit`]: crate::throttle::Rate::admit
    /// [`Rate::wait`]: crate::throttle::Rate::wait
    async fn check(&self, checks: &[Check], now: Timestamp) -> Result<Vec<Option<Duration>>, StoreError>;

    /// Records one attempt on every key of `checks` whatever its state, as [`Rate::record`] says, atomically per key.
    ///
    /// [`Rate::record`]: crate::throttle::Rate::record
    async fn record(&self, checks: &[Check], now: Timestamp) -> Result<(), StoreError>;

    /// Forgets `keys`: each admits a full burst again.
    async fn forget(&self, keys: &[ThrottleKey]) -> Result<(), StoreError>;

    /// Forgets the keys whose time is not after `now` (they are the same as new keys); returns how many.
    async fn purge(&self, now: Timestamp) -> Result<u64, StoreError>;
}

/// The audit trail (see [`crate::event`]): events recorded on their own, the listings, and the purge.
///
/// Most events are recorded by the other store ports, in the transaction of what they record; this port records
/// the ones that change nothing else (a failed login, a throttled request) and reads them all back.
///
/// A store MUST refuse, with an error, an event whose user agent is longer than
/// [`USER_AGENT_MAX_CHARS`](crate::session::USER_AGENT_MAX_CHARS) characters (no request's is). Every port method
/// that takes an event MUST then fail and change nothing, as it MUST whenever its event cannot be recorded: the
/// event and its action are one transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait EventRepo: Send + Sync {
    /// MUST store `event` exactly as given (its user too, existing or not).
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError>;

    /// MUST return the `limit` latest events of the user, newest first: by time, and of events at the same time the
    /// later recorded first; with the user's current name.
    async fn events_of(&self, user_id: UserId, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// MUST return up to `limit` of the events that `query` names, in the order they were recorded, with the name of
    /// each event's user when the user still exists.
    async fn list_events(&self, query: &EventQuery, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// MUST delete every event whose time is before `before`, and no other; returns how many were deleted.
    async fn purge_events(&self, before: Timestamp) -> Result<u64, StoreError>;
}

/// The current time.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// MUST return the current time; successive calls MUST NOT go backwards by more than the system clock does.
    fn now(&self) -> Timestamp;
}

/// Password hashing. Implementations MUST NOT run the hash on an async executor's worker threads.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// MUST return a hash that [`PasswordHasher::verify`] accepts for the same password only.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;

    /// MUST return whether `password` matches `hash`, for every kind of hash the adapter reads (the current one,
    /// and older ones such as Django's that users were imported with).
    /// MUST cost the same whatever the hash's kind when the adapter reads several, so that the time of a refused
    /// login tells nothing about the account: see [`PasswordHasher::verify_dummy`].
    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError>;

    /// MUST return whether `hash` should be replaced by a hash of the current kind and parameters, which the login
    /// use case then does once the password it was given matched.
    fn needs_rehash(&self, hash: &PasswordHash) -> bool;

    /// MUST cost as much as a [`PasswordHasher::verify`] of any stored hash,
    /// so that a login for an unknown user takes as long as one with a wrong password.
    async fn verify_dummy(&self, password: &Password) -> Result<(), HashError>;
}

/// The system clock.
#[derive(Clone, Copy, Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}
