//! Email confirmation: the links sent to new users, as the store keeps them.

use crate::outbox::Mail;
use crate::time::Timestamp;
use crate::token::TokenDigest;
use crate::user::{User, UserId};

/// A confirmation link as the store keeps it: the digest of its token, never the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmation {
    /// The digest of the link's token, under which the store finds the link.
    pub digest: TokenDigest,
    /// The user whose address the link confirms.
    pub user_id: UserId,
    /// The address the link was sent to; the link is void once the user's email differs.
    pub email: String,
    /// When the link was made.
    pub created_at: Timestamp,
    /// The last instant at which the link still confirms (see [`Confirmation::is_expired`]).
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
    /// The link as stored, expired or not.
    pub confirmation: Confirmation,
    /// The user the link belongs to, as stored now, so that its `email` can be compared with the link's.
    pub user: User,
}

/// A new link and the mail that carries it, stored together (the user id is filled in by the store when the
/// user is created in the same transaction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingConfirmation {
    /// The digest of the new link's token; the token itself goes into the mail only.
    pub digest: TokenDigest,
    /// The address the link is sent to; the link is void once the user's email differs.
    pub email: String,
    /// When the link was made.
    pub created_at: Timestamp,
    /// The last instant at which the link still confirms: `created_at` plus the configured validity.
    pub expires_at: Timestamp,
    /// The mail that carries the link, put in the outbox in the same transaction as the link.
    pub mail: Mail,
}
