//! The outbox: mail waiting to be delivered, written in the same transaction as what it announces.
//!
//! The store keeps it through the [`crate::ports::Outbox`] port, and [`crate::delivery::Delivery`] delivers it.

use crate::time::Timestamp;
use crate::user::UserId;

/// A mail to send: plain text UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
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
