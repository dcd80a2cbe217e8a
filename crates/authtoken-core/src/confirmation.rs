//! Email confirmation: the links sent to new users, and the mail waiting in the outbox to carry them.

use crate::ports::Mail;
use crate::time::Timestamp;
use crate::token::TokenDigest;
use crate::user::{User, UserId};

/// A confirmation link as the store keeps it: the digest of its token, never the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmation {
    pub digest: TokenDigest,
    pub user_id: UserId,
    /// The address the link was sent to; the link is void once the user's email differs.
    pub email: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Confirmation {
    /// Valid up to and including its expiry instant, like a session.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now > self.expires_at
    }
}

/// A confirmation link found by its digest, with its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmationWithUser {
    pub confirmation: Confirmation,
    pub user: User,
}

/// A new link and the mail that carries it, stored together (the user id is filled in by the store when the
/// user is created in the same transaction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingConfirmation {
    pub digest: TokenDigest,
    pub email: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub mail: Mail,
}

/// The most characters of a delivery error an outbox keeps (see [`crate::ports::Outbox::mark_failed`]).
pub const OUTBOX_ERROR_MAX_CHARS: usize = 1000;

/// The store's identifier of an outbox entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutboxId(pub i64);

/// Where an outbox entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Delivered; its body has been erased.
    Sent,
    /// Given up after too many attempts.
    Failed,
}

/// A mail in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: OutboxId,
    pub user_id: Option<UserId>,
    /// The mail; after delivery only the recipient and subject are kept.
    pub mail: Mail,
    pub state: OutboxState,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
}
