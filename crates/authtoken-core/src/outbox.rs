//! The outbox: mail waiting to be delivered, written in the same transaction as what it announces.
//!
//! The store keeps it through the [`crate::ports::Outbox`] port, and [`crate::delivery::Delivery`] delivers it.

use crate::time::Timestamp;
use crate::user::UserId;

/// A mail to send: plain text UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The message; a confirmation mail carries its link, token included, here.
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
    /// The store's identifier of the entry.
    pub id: OutboxId,
    /// The user the mail is about, or `None` for mail about no user; deleting the user deletes the entry.
    pub user_id: Option<UserId>,
    /// The mail; after delivery only the recipient and subject are kept.
    pub mail: Mail,
    /// Whether the mail waits, was delivered, or was given up.
    pub state: OutboxState,
    /// When the mail was put in the outbox.
    pub created_at: Timestamp,
    /// How many delivery attempts have failed so far.
    pub attempts: u32,
    /// From when a pending entry is due for its next attempt.
    pub next_attempt_at: Timestamp,
    /// The last delivery error, for the operator (at most [`OUTBOX_ERROR_MAX_CHARS`] characters);
    /// `None` while no attempt has failed.
    pub last_error: Option<String>,
    /// When the mail was delivered; `None` until then.
    pub sent_at: Option<Timestamp>,
}
