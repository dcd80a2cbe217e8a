//! Ready-made values for tests: a configuration, users, sessions and confirmation links.

use std::num::NonZeroU32;
use std::time::Duration;

use authtoken_core::Timestamp;
use authtoken_core::confirmation::Confirmation;
use authtoken_core::event::{AuditEvent, EventKind};
use authtoken_core::outbox::{MailKind, OutboxMail};
use authtoken_core::session::{ClientInfo, Session, SessionId};
use authtoken_core::throttle::{Limits, Rate};
use authtoken_core::token::PlainToken;
use authtoken_core::user::{NewUser, UserId, Username};
use authtoken_core::{Config, TokenPrefix};

use crate::FakePasswordHasher;

/// 2026-11-28T00:00:00Z, a fixed start for fake clocks.
pub const EPOCH: Timestamp = Timestamp::from_millis(1_795_824_000_000);

/// The contract's defaults: tokens valid for a day, case-sensitive names, passwords of at least 8 characters.
pub fn config() -> Config {
    Config {
        auth_token_validity: Duration::from_secs(24 * 60 * 60),
        username_case_insensitive: false,
        password_min_length: 8,
        require_confirmed_email_for_login: false,
        auth_token_idle_timeout: None,
        last_used_resolution: Duration::from_secs(60),
        max_sessions_per_user: None,
        auth_event_retention: Duration::from_secs(90 * 24 * 60 * 60),
        token_prefix: TokenPrefix::NONE,
    }
}

/// A new active user whose password, for [`FakePasswordHasher`], is `password`.
pub fn new_user(username: &str, password: &str) -> NewUser {
    let username = Username::parse(username).expect("fixture usernames are valid");
    NewUser {
        username_key: username.key(false),
        username,
        password_hash: FakePasswordHasher::hash_of(password),
        email: None,
        email_confirmed: false,
        is_active: true,
        joined_at: EPOCH,
    }
}

/// An event of `kind` at [`EPOCH`], without user or session, from the client of [`session`]'s sessions: what a
/// store records with an action when the case is not about the event.
pub fn event(kind: EventKind) -> AuditEvent {
    AuditEvent::new(kind, EPOCH, None, None, &client())
}

/// The client of the fixtures' sessions and events.
pub fn client() -> ClientInfo {
    ClientInfo::new(Some("curl/8.5.0"), Some("192.0.2.7".to_owned()))
}

/// A fresh token and a session for it, created at `created_at`, valid for `validity`.
pub fn session(user_id: UserId, created_at: Timestamp, validity: Duration) -> (PlainToken, Session) {
    let token = PlainToken::generate().expect("the OS random number generator works");
    let session = Session {
        id: SessionId::generate().expect("the OS random number generator works"),
        digest: token.digest(),
        user_id,
        created_at,
        expires_at: created_at.plus(validity),
        last_used_at: None,
        client: client(),
    };
    (token, session)
}

/// A fresh confirmation link of `user_id` for `email`, created at `created_at`, valid for `validity`.
pub fn confirmation(
    user_id: UserId,
    email: &str,
    created_at: Timestamp,
    validity: Duration,
) -> (PlainToken, Confirmation) {
    let token = PlainToken::generate().expect("the OS random number generator works");
    let link = Confirmation {
        digest: token.digest(),
        user_id,
        email: email.to_owned(),
        created_at,
        expires_at: created_at.plus(validity),
    };
    (token, link)
}

/// The outbox mail that asks for a confirmation link to `email`, in the German template (`de`).
pub fn confirmation_mail(email: &str) -> OutboxMail {
    OutboxMail { to: email.to_owned(), kind: MailKind::Confirmation, language: Some("de".to_owned()) }
}

/// A throttle rate of `count` requests per `seconds`; `count` must be above zero.
pub fn rate(count: u32, seconds: u64) -> Option<Rate> {
    Rate::new(NonZeroU32::new(count).expect("a count above zero"), Duration::from_secs(seconds))
}

/// Every throttle limit off, for a test to turn on the ones it looks at.
pub fn limits_off() -> Limits {
    Limits {
        login_ip: None,
        login_failures_ip_account: None,
        login_failures_account: None,
        register_ip: None,
        mail_ip: None,
        mail_address: None,
    }
}
