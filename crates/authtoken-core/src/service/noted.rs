//! Which throttled requests were recorded lately: a throttled request is an event of the audit trail, but a flood of
//! them must not become a flood of writes. Of the throttled requests of one kind from one client address for one
//! account, one a minute ([`NOTED_FOR`]) is recorded, and a server remembers at most [`NOTED_MAX`] such keys at once
//! (beyond them, further ones go unrecorded until a minute has passed).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::event::EventKind;
use crate::time::Timestamp;
use crate::user::UserId;

/// How long after recording a throttled request the same client's further ones of that kind go unrecorded.
pub(crate) const NOTED_FOR: Duration = Duration::from_secs(60);

/// The most keys of recently recorded throttled requests a server remembers.
pub(crate) const NOTED_MAX: usize = 10_000;

/// Whose throttled request it was, for its event.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Subject<'a> {
    /// No account is named (a registration, a reset request).
    Nobody,
    /// The account a login names by its username key; its user is looked up only when the event is recorded.
    Account(&'a str),
    /// This user.
    User(UserId),
}

/// When each recently recorded throttled request was recorded, by the digest of its kind, client and account (the
/// digest, so that memory holds no name a client typed).
#[derive(Debug, Default)]
pub(crate) struct Noted(Mutex<HashMap<[u8; 32], Timestamp>>);

impl Noted {
    /// Whether a throttled request under `key` is to be recorded at `now`: none was within [`NOTED_FOR`] before, and
    /// fewer than [`NOTED_MAX`] keys are remembered; remembers it when so.
    pub(crate) fn first_in_a_while(&self, key: [u8; 32], now: Timestamp) -> bool {
        let recent = now.minus(NOTED_FOR);
        let mut noted = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if noted.get(&key).is_some_and(|at| *at >= recent) {
            return false;
        }
        if noted.len() >= NOTED_MAX {
            noted.retain(|_, at| *at >= recent);
            if noted.len() >= NOTED_MAX {
                return false;
            }
        }
        noted.insert(key, now);
        true
    }

    /// The key of a throttled request of `kind` from `ip` for `subject`.
    pub(crate) fn key(kind: EventKind, ip: Option<&str>, subject: Subject<'_>) -> [u8; 32] {
        let subject = match subject {
            Subject::Nobody => String::new(),
            Subject::Account(key) => format!("account {key}"),
            Subject::User(id) => format!("user {}", id.0),
        };
        let mut hasher = Sha256::new();
        for part in [kind.as_str(), ip.unwrap_or(""), &subject] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: Timestamp = Timestamp::from_millis(1_000_000);

    fn key(ip: &str) -> [u8; 32] {
        Noted::key(EventKind::LoginThrottled, Some(ip), Subject::Account("alice"))
    }

    #[test]
    fn a_key_is_noted_once_a_minute() {
        let noted = Noted::default();

        assert!(noted.first_in_a_while(key("192.0.2.1"), START));
        assert!(!noted.first_in_a_while(key("192.0.2.1"), START.plus(NOTED_FOR)));
        assert!(noted.first_in_a_while(key("192.0.2.2"), START), "another client");
        assert!(noted.first_in_a_while(key("192.0.2.1"), START.plus(NOTED_FOR).plus(Duration::from_millis(1))));
    }

    #[test]
    fn kinds_clients_and_subjects_make_different_keys() {
        let keys = [
            key("192.0.2.1"),
            Noted::key(EventKind::LoginThrottled, None, Subject::Account("alice")),
            Noted::key(EventKind::LoginThrottled, Some("192.0.2.1"), Subject::Account("bob")),
            Noted::key(EventKind::LoginThrottled, Some("192.0.2.1"), Subject::Nobody),
            Noted::key(EventKind::ReauthThrottled, Some("192.0.2.1"), Subject::User(UserId(1))),
            Noted::key(EventKind::ReauthThrottled, Some("192.0.2.1"), Subject::User(UserId(2))),
            Noted::key(EventKind::RegistrationThrottled, Some("192.0.2.1"), Subject::Nobody),
        ];

        let distinct: std::collections::HashSet<[u8; 32]> = keys.into_iter().collect();
        assert_eq!(distinct.len(), keys.len());
    }

    #[test]
    fn beyond_the_most_keys_nothing_more_is_noted_until_old_keys_expire() {
        let noted = Noted::default();
        for i in 0..NOTED_MAX {
            assert!(noted.first_in_a_while(key(&i.to_string()), START));
        }

        assert!(!noted.first_in_a_while(key("one too many"), START.plus(NOTED_FOR)));
        assert!(noted.first_in_a_while(key("one too many"), START.plus(NOTED_FOR).plus(Duration::from_millis(1))));
        assert_eq!(noted.0.lock().unwrap().len(), 1, "the expired keys are forgotten");
    }
}
