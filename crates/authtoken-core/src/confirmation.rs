//! Email confirmation: the links sent to new users, as the store keeps them.

use crate::time::Timestamp;
use crate::token::TokenDigest;
use crate::user::{User, UserId};

/// A confirmation link as the store keeps it: the digest of its token, never the token.
///
/// Links are minted when their mail is delivered (see [`crate::outbox`]), so a mail retried after a failure
/// carries a new link, and a user may hold several until one of them confirms.
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
