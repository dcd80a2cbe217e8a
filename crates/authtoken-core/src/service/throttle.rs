//! What the throttles count in each use case, and under which keys.
//!
//! A login is judged before its password is verified, so a throttled login costs no hash: its client address counts
//! one attempt, and the failures of the account (from that address, and from anywhere) are read. A failed login, or
//! a wrong password re-entered to end sessions, change the password or delete the account, then counts one failure
//! on both failure keys. A successful login counts no failure and clears none.
//!
//! The account-wide limit is the one an attacker elsewhere can fill, so it never applies to the owner's own
//! address: one that has a live session of the account, or from which the account's password was reset in the last
//! day. That is checked only once a login is refused, so it costs an admitted login nothing. A password reset also
//! forgets the account's failures from anywhere.
//!
//! A throttled request is an event of the audit trail, recorded once a minute per kind, client address and account
//! (see `noted.rs`), so that a flood of refusals is not a flood of writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::noted::{Noted, Subject};
use super::{AuthService, Failure};
use crate::event::{AuditEvent, EventKind};
use crate::ports::ThrottleStore;
use crate::session::{ClientInfo, SessionId};
use crate::throttle::{Bucket, Check, Limits, ThrottleKey, client_subject};
use crate::time::Timestamp;

/// The request was throttled: nothing was done, and the client may try again after `wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("throttled for {} more seconds", self.seconds())]
pub struct Throttled {
    /// How long until the request would be admitted.
    pub wait: Duration,
}

impl Throttled {
    /// The wait in whole seconds, rounded up and at least one, as `Retry-After` has it.
    pub fn seconds(&self) -> u64 {
        let seconds = self.wait.as_secs() + u64::from(self.wait.subsec_nanos() > 0);
        seconds.max(1)
    }
}

/// Why a throttled use case did nothing: the throttle, or the store that keeps its counts.
#[derive(Debug)]
pub(crate) enum Refused {
    Throttled(Throttled),
    Failed(Failure),
}

impl From<Failure> for Refused {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

/// `From<Refused>` for the error of a use case that has a `Throttled` and a `Failed` variant.
macro_rules! from_refused {
    ($($error:ty),*) => {$(
        impl From<Refused> for $error {
            fn from(refused: Refused) -> Self {
                match refused {
                    Refused::Throttled(throttled) => Self::Throttled(throttled),
                    Refused::Failed(failure) => Self::Failed(failure),
                }
            }
        }
    )*};
}

from_refused!(
    super::LoginError,
    super::ReauthError,
    super::ChangePasswordError,
    super::RegisterError,
    super::ResetRequestError
);

/// How a login fares before its password is checked.
#[derive(Debug)]
pub(crate) enum LoginVerdict {
    /// Every limit admits it.
    Admitted,
    /// Only the account's failures from anywhere refuse it: the owner's own address may still go on.
    AccountWide(Throttled),
    /// Another limit refuses it.
    Refused(Throttled),
}

/// The throttles of a service: where the counts are kept, the limits, the password checks under way, and which
/// throttled requests were recorded lately.
pub(crate) struct Throttles {
    pub(crate) store: Arc<dyn ThrottleStore>,
    pub(crate) limits: Limits,
    /// For each failure key, the password checks of this process that passed its limit and whose outcome is not
    /// recorded yet. A check reads the failure keys as if those had failed already, so that many attempts at once
    /// cannot all pass on the same slack while their passwords are being checked.
    under_way: Mutex<HashMap<ThrottleKey, u32>>,
    noted: Noted,
}

/// The password checks one attempt holds under way on failure keys; dropping it lets them go, after the attempt's
/// failure (if any) was recorded.
#[must_use]
pub(crate) struct UnderWay<'a> {
    throttles: &'a Throttles,
    keys: Vec<ThrottleKey>,
}

impl Drop for UnderWay<'_> {
    fn drop(&mut self) {
        let mut under_way = self.throttles.under_way.lock().unwrap_or_else(PoisonError::into_inner);
        for key in &self.keys {
            if let Some(count) = under_way.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    under_way.remove(key);
                }
            }
        }
    }
}

impl Throttles {
    /// The check of `bucket` for `subject`, when its limit is on and the subject is known.
    fn check(&self, bucket: Bucket, subject: Option<&str>, count: bool) -> Option<Check> {
        let rate = self.limits.get(bucket)?;
        Some(Check { key: ThrottleKey::new(bucket, subject?), rate, count })
    }

    /// The store's answer to `checks` (those that are on), in order; `None` for a check that is off.
    async fn answers(&self, checks: &[Option<Check>], now: Timestamp) -> Result<Vec<Option<Duration>>, Failure> {
        let on: Vec<Check> = checks.iter().flatten().copied().collect();
        let mut answers = if on.is_empty() { Vec::new() } else { self.store.check(&on, now).await? }.into_iter();
        Ok(checks.iter().map(|check| check.and_then(|_| answers.next().flatten())).collect())
    }

    async fn judge(&self, checks: &[Option<Check>], now: Timestamp) -> Result<(), Refused> {
        match self.answers(checks, now).await?.into_iter().flatten().max() {
            Some(wait) => Err(Refused::Throttled(Throttled { wait })),
            None => Ok(()),
        }
    }

    /// The failure keys of `account` from the client address `ip` and from anywhere.
    fn failures(&self, ip: Option<&str>, account: &str, count: bool) -> [Option<Check>; 2] {
        let pair = ip.map(|ip| format!("{}\n{account}", client_subject(ip)));
        [
            self.check(Bucket::LoginFailuresIpAccount, pair.as_deref(), count),
            self.check(Bucket::LoginFailuresAccount, Some(account), count),
        ]
    }

    /// Puts one password check under way on the failure keys of `checks`, and returns them as this process's other
    /// checks under way leave them: each failure limit as it stands after those (an `Err` with one interval's wait for
    /// a limit they take whole).
    fn under_way(&self, checks: [Option<Check>; 2]) -> (UnderWay<'_>, [Option<Result<Check, Duration>>; 2]) {
        let mut under_way = self.under_way.lock().unwrap_or_else(PoisonError::into_inner);
        let mut keys = Vec::new();
        let adjusted = checks.map(|check| {
            let check = check?;
            let ahead = under_way.entry(check.key).or_insert(0);
            let left = check.rate.after(*ahead);
            *ahead += 1;
            keys.push(check.key);
            Some(match left {
                Some(rate) => Ok(Check { rate, ..check }),
                None => Err(Duration::from_millis(check.rate.interval_millis().unsigned_abs())),
            })
        });
        (UnderWay { throttles: self, keys }, adjusted)
    }

    /// The answers to `counted` and to the account's failure checks from `ip` and from anywhere, these read as the
    /// checks under way leave them, with this attempt's check put under way until the returned guard is dropped.
    async fn failures_under_way(
        &self,
        ip: Option<&str>,
        account: &str,
        now: Timestamp,
        counted: Option<Check>,
    ) -> Result<(UnderWay<'_>, Vec<Option<Duration>>), Failure> {
        let (under_way, adjusted) = self.under_way(self.failures(ip, account, false));
        let readable = adjusted.map(|check| check.and_then(Result::ok));
        let mut answers = self.answers(&[counted, readable[0], readable[1]], now).await?.into_iter();
        let mut waits = vec![answers.next().flatten()];
        for (check, answer) in adjusted.iter().zip(answers) {
            waits.push(match check {
                Some(Err(wait)) => Some(*wait),
                _ => answer,
            });
        }
        Ok((under_way, waits))
    }

    /// Before a login's password is verified: counts the attempt from `ip` and reads the account's failures, with
    /// this attempt's password check under way until the returned guard is dropped.
    pub(crate) async fn before_login(
        &self,
        ip: Option<&str>,
        account: &str,
        now: Timestamp,
    ) -> Result<(LoginVerdict, UnderWay<'_>), Failure> {
        let subject = ip.map(client_subject);
        let attempt = self.check(Bucket::LoginIp, subject.as_deref(), true);
        let (under_way, answers) = self.failures_under_way(ip, account, now, attempt).await?;
        let Some(wait) = answers.iter().flatten().max().copied() else {
            return Ok((LoginVerdict::Admitted, under_way));
        };
        let throttled = Throttled { wait };
        let verdict = match answers.as_slice() {
            [None, None, Some(_)] => LoginVerdict::AccountWide(throttled),
            _ => LoginVerdict::Refused(throttled),
        };
        Ok((verdict, under_way))
    }

    /// Whether `ip` is the address of the account's owner, as [`LoginVerdict::AccountWide`] asks: an address from which
    /// the account's password was reset in the last day, or, by `has_session`, one with a live session of the account.
    pub(crate) async fn owners_address(
        &self,
        ip: Option<&str>,
        account: &str,
        now: Timestamp,
        has_session: impl AsyncFnOnce(&str) -> Result<bool, Failure>,
    ) -> Result<bool, Failure> {
        let Some(ip) = ip else {
            return Ok(false);
        };
        let subject = client_subject(ip);
        // A mark "refuses" for the day it lasts.
        let mark = self.check(Bucket::ResetFrom, Some(&format!("{subject}\n{account}")), false);
        if self.answers(&[mark], now).await?.iter().any(Option::is_some) {
            return Ok(true);
        }
        has_session(&subject).await
    }

    /// After a password reset from `ip`: the account's failures from anywhere are forgotten, and the address is
    /// marked as the owner's for a day.
    pub(crate) async fn after_reset(&self, ip: Option<&str>, account: &str, now: Timestamp) -> Result<(), Failure> {
        self.store.forget(&[ThrottleKey::new(Bucket::LoginFailuresAccount, account)]).await?;
        if let Some(ip) = ip {
            let subject = format!("{}\n{account}", client_subject(ip));
            let mark = self.check(Bucket::ResetFrom, Some(&subject), true).into_iter().collect::<Vec<_>>();
            self.store.record(&mark, now).await?;
        }
        Ok(())
    }

    /// Before a re-entered password is verified: reads the account's failures.
    pub(crate) async fn before_reauth(
        &self,
        ip: Option<&str>,
        account: &str,
        now: Timestamp,
    ) -> Result<UnderWay<'_>, Refused> {
        let (under_way, answers) = self.failures_under_way(ip, account, now, None).await?;
        match answers.into_iter().flatten().max() {
            Some(wait) => Err(Refused::Throttled(Throttled { wait })),
            None => Ok(under_way),
        }
    }

    /// After a wrong password: counts one failure of the account from `ip` and from anywhere.
    pub(crate) async fn failed(&self, ip: Option<&str>, account: &str, now: Timestamp) -> Result<(), Failure> {
        let checks: Vec<Check> = self.failures(ip, account, true).into_iter().flatten().collect();
        if checks.is_empty() {
            return Ok(());
        }
        Ok(self.store.record(&checks, now).await?)
    }

    /// Before a registration: counts it from `ip`, and, when it mails a confirmation link to `address`, counts a
    /// mail request too.
    pub(crate) async fn registration(
        &self,
        ip: Option<&str>,
        address: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Refused> {
        let subject = ip.map(client_subject);
        let register = self.check(Bucket::RegisterIp, subject.as_deref(), true);
        let [mail_ip, mail_address] =
            address.map(|address| self.mail_checks(subject.as_deref(), address)).unwrap_or_default();
        self.judge(&[register, mail_ip, mail_address], now).await
    }

    /// Before a request that mails a link to `address`: counts it from `ip` and to the address (in lower case).
    pub(crate) async fn mail_request(
        &self,
        ip: Option<&str>,
        address: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Refused> {
        let subject = ip.map(client_subject);
        let checks = match address {
            Some(address) => self.mail_checks(subject.as_deref(), address),
            None => [self.check(Bucket::MailIp, subject.as_deref(), true), None],
        };
        self.judge(&checks, now).await
    }

    /// The counts of a request that mails a link to `address`: one from the client `subject`, one to the address
    /// (in lower case).
    fn mail_checks(&self, subject: Option<&str>, address: &str) -> [Option<Check>; 2] {
        let address = address.to_lowercase();
        [self.check(Bucket::MailIp, subject, true), self.check(Bucket::MailAddress, Some(&address), true)]
    }
}

impl AuthService {
    /// Turns the throttles on, with their counts in `store`.
    pub fn with_throttles(mut self, store: Arc<dyn ThrottleStore>, limits: Limits) -> Self {
        self.throttles =
            Some(Arc::new(Throttles { store, limits, under_way: Mutex::default(), noted: Noted::default() }));
        self
    }

    /// Passes `judged` on; when it is a throttled request, records an event of `kind` first (see [`Self::refuse`]).
    pub(crate) async fn note_throttled<T>(
        &self,
        judged: Result<T, Refused>,
        kind: EventKind,
        now: Timestamp,
        subject: Subject<'_>,
        session: Option<&SessionId>,
        client: &ClientInfo,
    ) -> Result<T, Refused> {
        match judged {
            Err(Refused::Throttled(throttled)) => {
                Err(self.refuse(throttled, kind, now, subject, session, client).await)
            }
            other => other,
        }
    }

    /// The refusal of a throttled request of `kind`, recorded as an event first, unless one of the same kind, client
    /// address and subject was recorded within a minute; a store that fails to record it makes the refusal a failure.
    pub(crate) async fn refuse(
        &self,
        throttled: Throttled,
        kind: EventKind,
        now: Timestamp,
        subject: Subject<'_>,
        session: Option<&SessionId>,
        client: &ClientInfo,
    ) -> Refused {
        let Some(throttles) = &self.throttles else {
            return Refused::Throttled(throttled);
        };
        if !throttles.noted.first_in_a_while(Noted::key(kind, client.ip.as_deref(), subject), now) {
            return Refused::Throttled(throttled);
        }
        let user = match subject {
            Subject::Nobody => Ok(None),
            Subject::User(id) => Ok(Some(id)),
            Subject::Account(key) => self.users.find_by_key(key).await.map(|found| found.map(|c| c.user.id)),
        };
        let recorded = match user {
            Ok(user) => self.record(&AuditEvent::new(kind, now, user, session, client)).await,
            Err(e) => Err(e.into()),
        };
        match recorded {
            Ok(()) => Refused::Throttled(throttled),
            Err(failure) => Refused::Failed(failure),
        }
    }

    /// Forgets the keys whose time has passed; returns how many (none when the throttles are off).
    pub async fn purge_throttles(&self) -> Result<u64, Failure> {
        match &self.throttles {
            Some(throttles) => Ok(throttles.store.purge(self.clock.now()).await?),
            None => Ok(0),
        }
    }
}
