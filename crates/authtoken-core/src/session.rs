//! Sessions: one per login, each kept under the digest of its own token.

use crate::time::Timestamp;
use crate::token::TokenDigest;
use crate::user::{User, UserId};

/// What a store keeps for one login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub digest: TokenDigest,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Session {
    /// A session is valid up to and including its expiry instant (upstream: age not greater than validity).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now > self.expires_at
    }
}

/// A session found by its digest, with its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionWithUser {
    pub session: Session,
    pub user: User,
}
