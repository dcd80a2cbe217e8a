//! The outbox: mail waiting to be delivered, written in the same transaction as what it announces.
//!
//! The store keeps it through the [`crate::ports::Outbox`] port, and [`crate::delivery::Delivery`] delivers it.
//! An entry says what the mail is about (its kind, its recipient, its language), never its text: a confirmation
//! link is minted when the mail is delivered, so only the link's digest is ever written, and no plaintext link
//! can be carved from a database file, its free pages or its write-ahead log.

use crate::time::Timestamp;
use crate::user::UserId;

/// A mail to send: plain text UTF-8. It exists only in memory, between composing and sending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The message; a confirmation or reset mail carries its link, token included, here.
    pub body: String,
}

/// The kinds of mail the outbox sends; each is written when it is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MailKind {
    /// A link that confirms the user's address, minted at delivery.
    Confirmation,
    /// A link that sets a new password, minted at delivery for the account the address belongs to.
    PasswordReset,
    /// A notice that the account's password was changed or reset; it holds no link and no secret.
    PasswordChanged,
}

impl MailKind {
    /// The kind as a store spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
        }
    }

    /// The kind a store spelled with [`MailKind::as_str`], or `None` for a spelling this version does not know.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "confirmation" => Some(Self::Confirmation),
            "password_reset" => Some(Self::PasswordReset),
            "password_changed" => Some(Self::PasswordChanged),
            _ => None,
        }
    }
}

/// What an outbox entry asks to send: never the mail's text, which is written at delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMail {
    /// The recipient's address.
    pub to: String,
    /// What the mail is.
    pub kind: MailKind,
    /// The configured language tag of the mail's template (picked from the client's `Accept-Language`), or `None`
    /// for the default template.
    pub language: Option<String>,
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
    /// Delivered.
    Sent,
    /// Given up: refused for good, tried too often, or no longer worth sending.
    Failed,
}

/// A mail in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The store's identifier of the entry.
    pub id: OutboxId,
    /// The user the mail is about, or `None` for mail about no user; deleting the user deletes the entry.
    pub user_id: Option<UserId>,
    /// What to send, and to whom.
    pub mail: OutboxMail,
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
