//! Password reset: the links mailed to users who forgot their password, as the store keeps them.

use crate::time::Timestamp;
use crate::token::TokenDigest;
use crate::user::{User, UserId};

/// A password reset link as the store keeps it: the digest of its token, never the token.
///
/// A link is minted when its mail is delivered (see [`crate::outbox`]), for the account the mail's address belongs to,
/// and it replaces the account's older links. It works once, until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetLink {
    /// The digest of the link's token, under which the store finds the link.
    pub digest: TokenDigest,
    /// The user whose password the link sets.
    pub user_id: UserId,
    /// When the link was made.
    pub created_at: Timestamp,
    /// The last instant at which the link still works.
    pub expires_at: Timestamp,
}

impl ResetLink {
    /// Valid up to and including its expiry instant, like a session.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now > self.expires_at
    }
}

/// A reset link found by its digest, with its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetLinkWithUser {
    /// The link as stored, expired or not.
    pub link: ResetLink,
    /// The user the link belongs to, as stored now.
    pub user: User,
}
