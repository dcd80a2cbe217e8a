//! Throttles: how many attempts of one kind a client address or an account may make in a period.
//!
//! Each limit is a [`Rate`] such as 10 per 15 minutes, kept per key as one point in time, the theoretical arrival
//! time of the generic cell rate algorithm (GCRA): a key admits a burst of `count` attempts, then one attempt every
//! `period / count` (rounded up to a whole millisecond, so that no key refills faster than its rate). A key whose
//! time has passed is the same as a key never seen, so stores forget it. The
//! arithmetic lives here, in [`Rate::admit`], [`Rate::wait`] and [`Rate::record`]; every store applies it, the
//! database stores in SQL.
//!
//! What is counted under which key is the use cases' business ([`Limits`]); the keys are SHA-256 digests, so a store
//! holds no address, username or email.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::time::Timestamp;

/// At most `count` attempts per `period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// How many attempts a key admits at once.
    pub count: NonZeroU32,
    /// How long a key takes to admit `count` attempts again.
    pub period: Duration,
}

impl Rate {
    /// `count` attempts per `period`; `None` when the period is shorter than a millisecond.
    pub fn new(count: NonZeroU32, period: Duration) -> Option<Self> {
        (period.as_millis() > 0).then_some(Self { count, period })
    }

    /// The period in milliseconds.
    pub fn period_millis(self) -> i64 {
        i64::try_from(self.period.as_millis()).unwrap_or(i64::MAX)
    }

    /// The time one attempt takes to refill, in milliseconds: the period divided by the count, rounded up, so that
    /// no key refills faster than its rate (at least one; a rate finer than one attempt a millisecond refills one a
    /// millisecond).
    pub fn interval_millis(self) -> i64 {
        let interval = self.period_millis().unsigned_abs().div_ceil(u64::from(self.count.get()));
        i64::try_from(interval).unwrap_or(i64::MAX).max(1)
    }

    /// How far ahead of now a key's time may get through admitted attempts: `count` intervals, so that a new key
    /// admits a burst of exactly `count`. It is the period when the count divides it, and less than a millisecond
    /// per attempt more otherwise.
    pub fn burst_millis(self) -> i64 {
        self.interval_millis().saturating_mul(i64::from(self.count.get()))
    }

    /// One more attempt at `now` on a key whose time is `tat` (`None` for a key never seen): the key's new time
    /// when the attempt is admitted, otherwise how long until it would be.
    pub fn admit(self, tat: Option<Timestamp>, now: Timestamp) -> Result<Timestamp, Duration> {
        match self.wait(tat, now) {
            None => Ok(Timestamp::from_millis(start(tat, now).saturating_add(self.interval_millis()))),
            Some(wait) => Err(wait),
        }
    }

    /// How long a key whose time is `tat` makes the next attempt wait at `now`; `None` when it is admitted now.
    pub fn wait(self, tat: Option<Timestamp>, now: Timestamp) -> Option<Duration> {
        let after = start(tat, now).saturating_add(self.interval_millis()).saturating_sub(now.as_millis());
        let wait = after.saturating_sub(self.burst_millis());
        (wait > 0).then(|| Duration::from_millis(wait.unsigned_abs()))
    }

    /// The limit left for one more attempt while `ahead` attempts on the key are under way and not recorded yet:
    /// `count - ahead` per `(count - ahead)` intervals, so that [`Rate::wait`] with it says whether the key admits
    /// the attempt after those. `None` when `ahead` already takes the whole burst.
    pub fn after(self, ahead: u32) -> Option<Self> {
        let count = NonZeroU32::new(self.count.get().checked_sub(ahead)?)?;
        let millis = self.interval_millis().saturating_mul(i64::from(count.get()));
        Some(Self { count, period: Duration::from_millis(millis.unsigned_abs()) })
    }

    /// Counts one attempt at `now` whatever the key's state (a failure found out after the fact); the key's new time,
    /// never more than a full period ahead, and never earlier than it was.
    pub fn record(self, tat: Option<Timestamp>, now: Timestamp) -> Timestamp {
        let start = start(tat, now);
        let next = start.saturating_add(self.interval_millis());
        Timestamp::from_millis(next.min(now.as_millis().saturating_add(self.period_millis())).max(start))
    }
}

/// Where the algorithm starts from: the key's time, or now when that has passed.
fn start(tat: Option<Timestamp>, now: Timestamp) -> i64 {
    tat.map_or(now, |tat| tat.max(now)).as_millis()
}

/// What one limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Every login attempt from one client address.
    LoginIp,
    /// Failed logins of one account from one client address.
    LoginFailuresIpAccount,
    /// Failed logins of one account from anywhere.
    LoginFailuresAccount,
    /// Registrations from one client address.
    RegisterIp,
    /// Requests that mail a link (password reset, confirmation) from one client address.
    MailIp,
    /// Requests that mail a link to one address.
    MailAddress,
    /// A client address from which the account's password was reset: not a limit, but a mark that lasts a day.
    ResetFrom,
}

impl Bucket {
    /// The name of the bucket, as its setting has it after `throttle_`.
    pub fn name(self) -> &'static str {
        match self {
            Self::LoginIp => "login_ip",
            Self::LoginFailuresIpAccount => "login_failures_ip_account",
            Self::LoginFailuresAccount => "login_failures_account",
            Self::RegisterIp => "register_ip",
            Self::MailIp => "mail_ip",
            Self::MailAddress => "mail_address",
            Self::ResetFrom => "reset_from",
        }
    }
}

/// The limits, one per [`Bucket`]; `None` turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Every login attempt from one client address (default 100 per minute).
    pub login_ip: Option<Rate>,
    /// Failed logins of one account from one client address (default 10 per 15 minutes).
    pub login_failures_ip_account: Option<Rate>,
    /// Failed logins of one account from anywhere (default 100 per day), so that a guess spread over many
    /// addresses is bounded too.
    pub login_failures_account: Option<Rate>,
    /// Registrations from one client address (default 20 per hour).
    pub register_ip: Option<Rate>,
    /// Requests that mail a link, from one client address (default 10 per hour).
    pub mail_ip: Option<Rate>,
    /// Requests that mail a link to one address (default 3 per hour).
    pub mail_address: Option<Rate>,
}

impl Default for Limits {
    fn default() -> Self {
        let rate = |count: u32, seconds: u64| {
            NonZeroU32::new(count).and_then(|count| Rate::new(count, Duration::from_secs(seconds)))
        };
        Self {
            login_ip: rate(100, 60),
            login_failures_ip_account: rate(10, 15 * 60),
            login_failures_account: rate(100, 86_400),
            register_ip: rate(20, 3_600),
            mail_ip: rate(10, 3_600),
            mail_address: rate(3, 3_600),
        }
    }
}

impl Limits {
    /// The limit of `bucket`.
    pub fn get(&self, bucket: Bucket) -> Option<Rate> {
        match bucket {
            Bucket::LoginIp => self.login_ip,
            Bucket::LoginFailuresIpAccount => self.login_failures_ip_account,
            Bucket::LoginFailuresAccount => self.login_failures_account,
            Bucket::RegisterIp => self.register_ip,
            Bucket::MailIp => self.mail_ip,
            Bucket::MailAddress => self.mail_address,
            Bucket::ResetFrom => RESET_MARK,
        }
    }
}

/// How a [`Bucket::ResetFrom`] mark is kept: one attempt a day, recorded once, so the key's time is a day ahead
/// and reading it says "wait" for exactly the day the mark lasts.
const RESET_MARK: Option<Rate> = Some(Rate { count: NonZeroU32::MIN, period: Duration::from_secs(86_400) });

/// The key of one bucket and subject: a SHA-256 digest, so stores hold no address, username or email.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThrottleKey([u8; 32]);

impl ThrottleKey {
    /// The key of `subject` in `bucket`.
    pub fn new(bucket: Bucket, subject: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(bucket.name().as_bytes());
        hasher.update([0]);
        hasher.update(subject.as_bytes());
        Self(hasher.finalize().into())
    }

    /// A key as a store keeps it.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest, as stores keep it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for ThrottleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.0[..4].iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "ThrottleKey({head}…)")
    }
}

/// One limit to apply to one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    /// The key.
    pub key: ThrottleKey,
    /// Its limit.
    pub rate: Rate,
    /// Whether this attempt counts on the key; otherwise the key is only read.
    pub count: bool,
}

/// The subject that stands for a client address: the address itself for IPv4, and the /64 network for IPv6, since
/// one host commonly holds a whole /64. An IPv4 address mapped into IPv6 is the IPv4 address. Text that is not an
/// address is its own subject.
pub fn client_subject(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(count: u32, seconds: u64) -> Rate {
        Rate::new(NonZeroU32::new(count).unwrap(), Duration::from_secs(seconds)).unwrap()
    }

    const NOW: Timestamp = Timestamp::from_millis(1_000_000_000);

    #[test]
    fn a_new_key_admits_a_burst_of_count_then_one_per_interval() {
        let rate = rate(10, 900);
        let mut tat = None;
        for _ in 0..10 {
            tat = Some(rate.admit(tat, NOW).unwrap());
        }

        assert_eq!(rate.admit(tat, NOW), Err(Duration::from_secs(90)));
        assert_eq!(rate.wait(tat, NOW.plus(Duration::from_secs(89))), Some(Duration::from_secs(1)));
        let later = NOW.plus(Duration::from_secs(90));
        assert!(rate.wait(tat, later).is_none());
        let tat = Some(rate.admit(tat, later).unwrap());
        assert_eq!(rate.admit(tat, later), Err(Duration::from_secs(90)));
    }

    #[test]
    fn a_key_whose_time_passed_is_a_new_key() {
        let rate = rate(3, 60);
        let old = Some(NOW.minus(Duration::from_secs(1)));

        assert_eq!(rate.admit(old, NOW), rate.admit(None, NOW));
    }

    #[test]
    fn over_any_long_run_a_key_admits_at_most_its_rate_plus_the_burst() {
        let rate = rate(10, 900);
        let mut tat = None;
        let mut admitted = 0;
        // One attempt a second for a day.
        for second in 0..86_400 {
            if let Ok(next) = rate.admit(tat, NOW.plus(Duration::from_secs(second))) {
                tat = Some(next);
                admitted += 1;
            }
        }

        assert_eq!(admitted, 10 + 86_400 / 90 - 1);
    }

    #[test]
    fn a_count_of_one_admits_one_per_period() {
        let rate = rate(1, 60);
        let tat = Some(rate.admit(None, NOW).unwrap());

        assert_eq!(rate.admit(tat, NOW.plus(Duration::from_secs(59))), Err(Duration::from_secs(1)));
        assert!(rate.admit(tat, NOW.plus(Duration::from_secs(60))).is_ok());
    }

    #[track_caller]
    fn check_burst(rate: Rate, burst: u32) {
        let mut tat = None;
        for n in 0..burst {
            tat = Some(rate.admit(tat, NOW).unwrap_or_else(|wait| panic!("{rate:?}: attempt {n} waits {wait:?}")));
        }

        assert!(rate.admit(tat, NOW).is_err(), "{rate:?} admitted more than {burst} at once");
    }

    #[test]
    fn a_burst_is_the_count_when_each_attempt_takes_a_few_milliseconds() {
        let millis = |count, millis| Rate::new(NonZeroU32::new(count).unwrap(), Duration::from_millis(millis)).unwrap();
        check_burst(millis(2, 3), 2);
        check_burst(millis(7, 10), 7);
        check_burst(millis(600, 1_000), 600);
        check_burst(millis(7, 60_000), 7);
        check_burst(millis(16, 1), 16);
        check_burst(rate(10, 900), 10);
    }

    #[test]
    fn a_period_the_count_does_not_divide_never_refills_faster_than_the_rate() {
        let rate = rate(7, 60);
        let end = NOW.plus(Duration::from_secs(3 * 86_400));
        let (mut now, mut tat, mut admitted) = (NOW, None, 0);
        // Every attempt comes the moment it would be admitted, for three days.
        while now <= end {
            match rate.admit(tat, now) {
                Ok(next) => {
                    tat = Some(next);
                    admitted += 1;
                }
                Err(wait) => now = now.plus(wait),
            }
        }

        assert_eq!(admitted, 7 + 3 * 86_400 * 1_000 / 8_572);
        assert!(admitted <= 7 + 3 * 86_400 / 60 * 7);
    }

    #[test]
    fn recording_never_lowers_a_key_that_admitted_attempts_reached() {
        let rate = rate(7, 60);
        let mut tat = None;
        for _ in 0..7 {
            tat = Some(rate.admit(tat, NOW).unwrap());
        }

        assert_eq!(tat, Some(NOW.plus(Duration::from_millis(7 * 8_572))));
        assert_eq!(rate.record(tat, NOW), tat.unwrap());
    }

    #[test]
    fn recording_fills_a_key_but_never_beyond_one_period() {
        let rate = rate(2, 60);
        let mut tat = None;
        for _ in 0..5 {
            tat = Some(rate.record(tat, NOW));
        }

        assert_eq!(tat, Some(NOW.plus(Duration::from_secs(60))));
        assert_eq!(rate.wait(tat, NOW), Some(Duration::from_secs(30)));
    }

    #[test]
    fn the_rate_after_attempts_under_way_waits_as_if_they_were_recorded() {
        let rate = rate(10, 900);
        let mut tat = None;
        for _ in 0..6 {
            tat = Some(rate.record(tat, NOW));
        }

        for ahead in 0..4 {
            let left = rate.after(ahead).unwrap();
            let recorded = (0..ahead).fold(tat, |tat, _| Some(rate.record(tat, NOW)));
            assert_eq!(left.wait(tat, NOW), rate.wait(recorded, NOW), "{ahead} under way");
        }
        assert_eq!(rate.after(4).unwrap().wait(tat, NOW), Some(Duration::from_secs(90)));
        assert_eq!(rate.after(10), None);
    }

    #[test]
    fn keys_differ_by_bucket_and_subject() {
        let key = ThrottleKey::new(Bucket::LoginIp, "192.0.2.1");

        assert_eq!(key, ThrottleKey::new(Bucket::LoginIp, "192.0.2.1"));
        assert_ne!(key, ThrottleKey::new(Bucket::RegisterIp, "192.0.2.1"));
        assert_ne!(key, ThrottleKey::new(Bucket::LoginIp, "192.0.2.2"));
    }

    #[test]
    fn an_ipv6_client_is_its_64_network() {
        assert_eq!(client_subject("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(client_subject("2001:db8:1:2::ffff"), client_subject("2001:db8:1:2:aaaa::1"));
        assert_eq!(client_subject("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(client_subject("192.0.2.1"), "192.0.2.1");
        assert_eq!(client_subject("not an address"), "not an address");
    }

    #[test]
    fn the_defaults_are_the_contracts() {
        let limits = Limits::default();

        assert_eq!(limits.login_ip, Some(rate(100, 60)));
        assert_eq!(limits.login_failures_ip_account, Some(rate(10, 900)));
        assert_eq!(limits.login_failures_account, Some(rate(100, 86_400)));
        assert_eq!(limits.register_ip, Some(rate(20, 3_600)));
        assert_eq!(limits.mail_ip, Some(rate(10, 3_600)));
        assert_eq!(limits.mail_address, Some(rate(3, 3_600)));
    }
}
