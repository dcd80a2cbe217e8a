//! Email confirmation: the links sent to new users, as the store keeps them.

use crate::outbox::Mail;
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
