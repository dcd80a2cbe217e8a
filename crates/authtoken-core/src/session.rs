//! Sessions: one per login, each kept under the digest of its own token.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;

use crate::time::Timestamp;
use crate::token::{RandomnessUnavailable, TokenDigest};
use crate::user::{User, UserId};

/// The most characters of a `User-Agent` a session keeps.
pub const USER_AGENT_MAX_CHARS: usize = 256;

/// What a store keeps for one login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// A public, random name of the session: safe to show and log, unlike the token.
    pub id: SessionId,
    /// The digest of the session's token, under which the store keeps the session.
    pub digest: TokenDigest,
    /// The user who logged in.
    pub user_id: UserId,
    /// When the login happened.
    pub created_at: Timestamp,
    /// The last instant at which the token is valid: `created_at` plus
    /// [`Config::auth_token_validity`](crate::Config::auth_token_validity) (see [`Session::is_expired`]).
    pub expires_at: Timestamp,
    /// When the token was last used; login stores `None`, and no use case records a use yet.
    pub last_used_at: Option<Timestamp>,
    /// Where the login came from.
    pub client: ClientInfo,
}

impl Session {
    /// A session is valid up to and including its expiry instant (upstream: age not greater than validity).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now > self.expires_at
    }
}

/// Where a login came from, as the client told it; kept to help people recognise their sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The `User-Agent` of the login request, cut to [`USER_AGENT_MAX_CHARS`] characters;
    /// `None` when the request had none that reads as text.
    pub user_agent: Option<String>,
    /// The client's IP address: the connection's peer, or behind a trusted proxy the address it forwarded;
    /// `None` when unknown.
    pub ip: Option<String>,
}

impl ClientInfo {
    /// Keeps at most [`USER_AGENT_MAX_CHARS`] characters of the user agent.
    pub fn new(user_agent: Option<&str>, ip: Option<String>) -> Self {
        let user_agent = user_agent.map(|ua| ua.chars().take(USER_AGENT_MAX_CHARS).collect());
        Self { user_agent, ip }
    }
}

/// The public name of a session: 16 random bytes as 22 characters of URL-safe base64.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// Draws a new id from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut bytes = [0u8; 16];
        rand::rngs::SysRng.try_fill_bytes(&mut bytes).map_err(|e| RandomnessUnavailable(e.into()))?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Rebuilds an id read back from a store.
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }

    /// The id's text form, to show, log or store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0)
    }
}

/// A session found by its digest, with its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionWithUser {
    /// The session as stored, expired or not.
    pub session: Session,
    /// The user the session belongs to.
    pub user: User,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_22_url_safe_characters_and_differ() {
        let a = SessionId::generate().unwrap();
        let b = SessionId::generate().unwrap();

        assert_eq!(a.as_str().len(), 22);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn the_user_agent_is_cut_to_its_limit() {
        let long = "é".repeat(300);

        let client = ClientInfo::new(Some(&long), Some("127.0.0.1".into()));

        assert_eq!(client.user_agent.unwrap().chars().count(), USER_AGENT_MAX_CHARS);
        assert_eq!(client.ip.as_deref(), Some("127.0.0.1"));
    }
}
