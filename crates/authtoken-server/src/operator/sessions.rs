//! `authtoken sessions …`: listing a user's sessions and revoking sessions by user, by id, or of every user
//! (ASVS 7.4.5: an administrator can end any active session).

use std::io::Write as _;

use anyhow::bail;
use authtoken_core::event::{AuditEvent, EventKind};
use authtoken_core::ports::{Clock as _, SystemClock, TokenRepo as _};
use authtoken_core::session::{Revoke, Session, SessionId};

use super::{find_user, sessions, write_table};
use crate::admin::rfc3339;
use crate::startup::Wired;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum SessionsCommand {
    /// List every stored session of a user, oldest first (never a token: only the public session id).
    List {
        /// The user whose sessions to show.
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// Revoke sessions: every session of one user, one session by its id, or every session of every user.
    #[command(group = clap::ArgGroup::new("which").required(true).args(["user", "id", "all_users"]))]
    Revoke {
        /// Every session of this user.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// The session with this id, as `authtoken sessions list` shows it.
        // An id may start with `-` or `--` (base64url), and must not be read as an option.
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        id: Option<String>,
        /// Every session of every user: everyone has to log in again.
        #[arg(long)]
        all_users: bool,
    },
}

impl SessionsCommand {
    pub(crate) async fn run(self, wired: &Wired) -> anyhow::Result<()> {
        match self {
            Self::List { user } => list(wired, &user).await,
            Self::Revoke { user: Some(name), .. } => {
                let user = find_user(wired, &name).await?;
                let event = AuditEvent::by_operator(EventKind::OperatorRevokedSessions, now(), Some(user.id), None);
                let revoked = wired.store.revoke_sessions(user.id, &Revoke::All, &event).await?;
                Ok(writeln!(std::io::stdout(), "revoked {} of {}", sessions(revoked), user.username)?)
            }
            Self::Revoke { id: Some(id), .. } => revoke_one(wired, &id).await,
            Self::Revoke { .. } => {
                let event = AuditEvent::by_operator(EventKind::OperatorRevokedEverySession, now(), None, None);
                let revoked = wired.store.revoke_everyone(&event).await?;
                Ok(writeln!(std::io::stdout(), "revoked {} of every user", sessions(revoked))?)
            }
        }
    }
}

async fn list(wired: &Wired, name: &str) -> anyhow::Result<()> {
    let user = find_user(wired, name).await?;
    let stored = wired.store.sessions_of(user.id).await?;
    let mut out = std::io::stdout().lock();
    if stored.is_empty() {
        return Ok(writeln!(out, "{} has no sessions", user.username)?);
    }
    let now = now();
    let config = wired.service.config();
    let state = |session: &Session| match config.auth_token_idle_timeout {
        _ if session.is_expired(now) => "expired",
        Some(timeout) if session.is_idle(now, timeout, config.last_used_resolution) => "idle",
        _ => "live",
    };
    let rows: Vec<Vec<String>> = stored
        .iter()
        .map(|session| {
            vec![
                session.id.as_str().to_owned(),
                rfc3339(session.created_at.as_millis()),
                session.last_used_at.map_or_else(|| "never".to_owned(), |at| rfc3339(at.as_millis())),
                rfc3339(session.expires_at.as_millis()),
                state(session).to_owned(),
                session.client.ip.clone().unwrap_or_else(|| "-".to_owned()),
                session.client.user_agent.clone().unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    let headers = ["id", "created", "last used", "expires", "state", "ip", "user agent"];
    Ok(write_table(&mut out, &headers, &rows)?)
}

async fn revoke_one(wired: &Wired, text: &str) -> anyhow::Result<()> {
    let Some(id) = SessionId::parse(text) else {
        bail!(
            "`{text}` is not a session id: one is 22 letters, digits, `-` or `_`, as `authtoken sessions list` shows"
        );
    };
    // The owner is needed to revoke, and to say whose session it was.
    let Some(found) = wired.store.find_by_id(&id).await? else {
        bail!("no session with the id `{text}`");
    };
    let event = AuditEvent::by_operator(EventKind::OperatorRevokedSession, now(), Some(found.user.id), Some(&id));
    if !wired.store.revoke(found.user.id, &id, &event).await? {
        bail!("no session with the id `{text}`");
    }
    Ok(writeln!(std::io::stdout(), "revoked the session {} of {}", id.as_str(), found.user.username)?)
}

/// The time of an operator's command, read once for each event it records.
fn now() -> authtoken_core::Timestamp {
    SystemClock.now()
}
