//! The audit trail: what happened to an account, when, and from where, as events the stores keep.
//!
//! An event holds its time, its kind, the user when known, the public id of the session it concerns when there is
//! one, and the client's IP address and user agent; never a token, a link, a password, a digest or a hash, and no
//! field can hold one. A failed login records the user only when the username belongs to one: the name typed for an
//! unknown user is not kept, since people type their password into the username field too.
//!
//! An event is written in the same transaction as what it records, where there is one (the store ports take it as
//! an argument), so that an action that failed leaves no event and one that took effect always leaves one. Failed
//! logins, wrong re-entered passwords and throttled requests change nothing else, and are recorded on their own
//! ([`crate::ports::EventRepo::record`]).

use std::fmt;

use crate::session::{ClientInfo, SessionId};
use crate::time::Timestamp;
use crate::user::UserId;

/// How many events `GET {prefix}/events/` shows: the caller's latest.
pub const EVENTS_SHOWN: u32 = 100;

/// What happened. The text forms ([`EventKind::as_str`]) are what stores keep and clients see; they never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A login issued a session.
    Login,
    /// A login issued nothing: unknown user, wrong password, inactive or unconfirmed user.
    LoginFailed,
    /// A login was throttled before its password was checked.
    LoginThrottled,
    /// The session that made the request was revoked by its own token.
    Logout,
    /// One session was revoked by its public id, by its user.
    SessionRevoked,
    /// Every session of the user but the current one was revoked, the password re-entered.
    OtherSessionsRevoked,
    /// Every session of the user was revoked, the password re-entered.
    AllSessionsRevoked,
    /// A wrong password was re-entered to end sessions, change the password or delete the account.
    WrongPassword,
    /// A request with a re-entered password was throttled before the password was checked.
    ReauthThrottled,
    /// The user changed the password.
    PasswordChanged,
    /// Someone asked for a password reset mail to an address.
    PasswordResetRequested,
    /// A password reset request was throttled.
    PasswordResetRequestThrottled,
    /// A reset link set a new password.
    PasswordReset,
    /// A user registered.
    Registered,
    /// A registration was throttled.
    RegistrationThrottled,
    /// A confirmation link confirmed the user's address.
    EmailConfirmed,
    /// The user deleted the account.
    AccountDeleted,
    /// An operator created the user.
    OperatorCreatedUser,
    /// An operator set the user's password.
    OperatorSetPassword,
    /// An operator revoked one session by its id.
    OperatorRevokedSession,
    /// An operator revoked every session of the user.
    OperatorRevokedSessions,
    /// An operator revoked every session of every user.
    OperatorRevokedEverySession,
    /// An operator deactivated the user, which revoked every session of the user.
    OperatorDeactivatedUser,
    /// An operator activated the user again.
    OperatorActivatedUser,
    /// An operator deleted the user.
    OperatorDeletedUser,
}

impl EventKind {
    /// Every kind, in the order of the enum.
    pub const ALL: [Self; 25] = [
        Self::Login,
        Self::LoginFailed,
        Self::LoginThrottled,
        Self::Logout,
        Self::SessionRevoked,
        Self::OtherSessionsRevoked,
        Self::AllSessionsRevoked,
        Self::WrongPassword,
        Self::ReauthThrottled,
        Self::PasswordChanged,
        Self::PasswordResetRequested,
        Self::PasswordResetRequestThrottled,
        Self::PasswordReset,
        Self::Registered,
        Self::RegistrationThrottled,
        Self::EmailConfirmed,
        Self::AccountDeleted,
        Self::OperatorCreatedUser,
        Self::OperatorSetPassword,
        Self::OperatorRevokedSession,
        Self::OperatorRevokedSessions,
        Self::OperatorRevokedEverySession,
        Self::OperatorDeactivatedUser,
        Self::OperatorActivatedUser,
        Self::OperatorDeletedUser,
    ];

    /// The kind's name, as stores keep it and clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::LoginThrottled => "login_throttled",
            Self::Logout => "logout",
            Self::SessionRevoked => "session_revoked",
            Self::OtherSessionsRevoked => "other_sessions_revoked",
            Self::AllSessionsRevoked => "all_sessions_revoked",
            Self::WrongPassword => "wrong_password",
            Self::ReauthThrottled => "reauth_throttled",
            Self::PasswordChanged => "password_changed",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordResetRequestThrottled => "password_reset_request_throttled",
            Self::PasswordReset => "password_reset",
            Self::Registered => "registered",
            Self::RegistrationThrottled => "registration_throttled",
            Self::EmailConfirmed => "email_confirmed",
            Self::AccountDeleted => "account_deleted",
            Self::OperatorCreatedUser => "operator_created_user",
            Self::OperatorSetPassword => "operator_set_password",
            Self::OperatorRevokedSession => "operator_revoked_session",
            Self::OperatorRevokedSessions => "operator_revoked_sessions",
            Self::OperatorRevokedEverySession => "operator_revoked_every_session",
            Self::OperatorDeactivatedUser => "operator_deactivated_user",
            Self::OperatorActivatedUser => "operator_activated_user",
            Self::OperatorDeletedUser => "operator_deleted_user",
        }
    }

    /// The kind named `name`, as [`EventKind::as_str`] writes it; `None` for any other text.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of the audit trail, as a use case writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// When it happened: the time the use case read from its clock.
    pub at: Timestamp,
    /// What happened.
    pub kind: EventKind,
    /// The user it happened to, when known.
    pub user_id: Option<UserId>,
    /// The public id of the session it concerns: the new one of a login, the revoked one of a revocation by id, the
    /// one that made the request otherwise; `None` when no session is involved.
    pub session_id: Option<SessionId>,
    /// The client's IP address and user agent, as the request had them; empty for an operator's command.
    pub client: ClientInfo,
}

impl AuditEvent {
    /// An event of `kind` at `at`, of `user_id` and `session_id` when known, from `client`.
    pub fn new(
        kind: EventKind,
        at: Timestamp,
        user_id: Option<UserId>,
        session_id: Option<&SessionId>,
        client: &ClientInfo,
    ) -> Self {
        Self { at, kind, user_id, session_id: session_id.cloned(), client: client.clone() }
    }

    /// An operator's event of `kind` at `at`: no client, since it came from the command line.
    pub fn by_operator(
        kind: EventKind,
        at: Timestamp,
        user_id: Option<UserId>,
        session_id: Option<&SessionId>,
    ) -> Self {
        Self::new(kind, at, user_id, session_id, &ClientInfo::default())
    }

    /// The same event, of `user_id`: for stores that find the user in the transaction that records the event.
    pub fn of_user(&self, user_id: Option<UserId>) -> Self {
        Self { user_id, ..self.clone() }
    }
}

/// The number of an event in the order the store recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub i64);

/// An event as a store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its number; later recorded events have greater ones.
    pub id: EventId,
    /// The event as it was written.
    pub event: AuditEvent,
    /// The name of the event's user, when the user still exists (events outlive a deleted user).
    pub username: Option<String>,
}

/// Which events an operator's listing shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only events recorded after this one (for paging); from the first when `None`.
    pub after: Option<EventId>,
    /// Only the events of this user; of everyone when `None`.
    pub user_id: Option<UserId>,
    /// Only events at or after this time; all when `None`.
    pub since: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(kind: EventKind, name: &str) {
        assert_eq!(kind.as_str(), name);
        assert_eq!(EventKind::parse(name), Some(kind));
    }

    #[test]
    fn every_kind_has_a_name_of_its_own_that_reads_back() {
        check(EventKind::Login, "login");
        check(EventKind::LoginFailed, "login_failed");
        check(EventKind::PasswordResetRequestThrottled, "password_reset_request_throttled");
        check(EventKind::OperatorRevokedEverySession, "operator_revoked_every_session");
        let mut names: Vec<&str> = EventKind::ALL.iter().map(|kind| kind.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventKind::ALL.len());
        assert!(EventKind::ALL.iter().all(|kind| EventKind::parse(kind.as_str()) == Some(*kind)));
    }

    #[test]
    fn other_text_is_no_kind() {
        assert_eq!(EventKind::parse(""), None);
        assert_eq!(EventKind::parse("Login"), None);
        assert_eq!(EventKind::parse("login "), None);
    }
}
