//! Sessions: one per login, each kept under the digest of its own token.

use std::fmt;
use std::time::Duration;

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
    /// When the token was last used, to within [`Config::last_used_resolution`](crate::Config::last_used_resolution);
    /// `None` until the first request after the login.
    pub last_used_at: Option<Timestamp>,
    /// Where the login came from.
    pub client: ClientInfo,
}

impl Session {
    /// A session is valid up to and including its expiry instant (upstream: age not greater than validity).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now > self.expires_at
    }

    /// When the session was last active: its last recorded use, or its login.
    pub fn last_active_at(&self) -> Timestamp {
        self.last_used_at.unwrap_or(self.created_at)
    }

    /// Whether the session has been idle for longer than `timeout`.
    ///
    /// The recorded use lags the real one by up to `resolution`, so the session counts as idle only once `timeout`
    /// plus `resolution` has passed since it: a session in use is never taken for an idle one.
    pub fn is_idle(&self, now: Timestamp, timeout: Duration, resolution: Duration) -> bool {
        now > self.last_active_at().plus(timeout).plus(resolution)
    }

    /// Whether a use at `now` should be written: the recorded one is missing or older than `resolution`.
    pub fn use_is_stale(&self, now: Timestamp, resolution: Duration) -> bool {
        self.last_used_at.is_none_or(|used| used < now.minus(resolution))
    }
}

/// Which of a user's sessions an operation revokes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoke {
    /// None of them.
    Nothing,
    /// Every session but the one stored under this digest (the caller's own).
    AllBut(TokenDigest),
    /// Every session, the caller's own included.
    All,
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

    /// Reads an id a client or an operator gave: `None` unless it is 22 characters of URL-safe base64, the only
    /// form [`SessionId::generate`] makes, so no other text reaches a store.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == 22 && text.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
        valid.then(|| Self(text.to_owned()))
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

    fn logged_in_at(login: Timestamp) -> Session {
        Session {
            id: SessionId::generate().unwrap(),
            digest: crate::PlainToken::generate().unwrap().digest(),
            user_id: UserId(1),
            created_at: login,
            expires_at: login.plus(Duration::from_secs(86_400)),
            last_used_at: None,
            client: ClientInfo::default(),
        }
    }

    #[test]
    fn parse_takes_only_the_form_generate_makes() {
        let id = SessionId::generate().unwrap();

        assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(SessionId::parse(&id.as_str()[1..]), None);
        assert_eq!(SessionId::parse(&format!("{}=", &id.as_str()[1..])), None);
        assert_eq!(SessionId::parse("/../../../../../etc/pas"), None);
    }

    #[test]
    fn a_session_is_idle_only_after_the_timeout_and_the_resolution() {
        let login = Timestamp::from_millis(0);
        let minute = Duration::from_secs(60);
        let mut session = logged_in_at(login);

        assert!(!session.is_idle(login.plus(minute * 11), minute * 10, minute));
        assert!(session.is_idle(login.plus(minute * 11).plus(Duration::from_millis(1)), minute * 10, minute));
        session.last_used_at = Some(login.plus(minute * 5));
        assert!(!session.is_idle(login.plus(minute * 16), minute * 10, minute));
        assert!(session.is_idle(login.plus(minute * 17), minute * 10, minute));
    }

    #[test]
    fn a_use_is_written_when_none_is_recorded_or_the_recorded_one_is_older_than_the_resolution() {
        let login = Timestamp::from_millis(0);
        let minute = Duration::from_secs(60);
        let mut session = logged_in_at(login);

        assert!(session.use_is_stale(login, minute));
        session.last_used_at = Some(login);
        assert!(!session.use_is_stale(login.plus(minute), minute));
        assert!(session.use_is_stale(login.plus(minute).plus(Duration::from_millis(1)), minute));
    }

    #[test]
    fn the_user_agent_is_cut_to_its_limit() {
        let long = "é".repeat(300);

        let client = ClientInfo::new(Some(&long), Some("127.0.0.1".into()));

        assert_eq!(client.user_agent.unwrap().chars().count(), USER_AGENT_MAX_CHARS);
        assert_eq!(client.ip.as_deref(), Some("127.0.0.1"));
    }
}
