//! The settings of the throttles: one limit per bucket, the master switch, and where the counts are kept.

use std::num::NonZeroU32;

use anyhow::bail;
use authtoken_core::throttle::{Limits, Rate};
use authtoken_sql::Backend;

use super::{Settings, duration};

/// Where the throttles keep their counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleStoreKind {
    /// In the server's memory: each server counts on its own.
    Memory,
    /// In the database: every server on one database counts together.
    Database,
}

/// The throttles, when `throttle_enabled` is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttles {
    /// The limits; each may be off.
    pub limits: Limits,
    /// Where the counts are kept.
    pub store: ThrottleStoreKind,
}

impl Settings {
    /// Every limit is checked even when the throttles are off, so that turning them on reveals no mistake.
    pub(super) fn throttles(&self, backend: Backend) -> anyhow::Result<Option<Throttles>> {
        let limits = Limits {
            login_ip: rate("throttle_login_ip", &self.throttle_login_ip)?,
            login_failures_ip_account: rate(
                "throttle_login_failures_ip_account",
                &self.throttle_login_failures_ip_account,
            )?,
            login_failures_account: rate("throttle_login_failures_account", &self.throttle_login_failures_account)?,
            register_ip: rate("throttle_register_ip", &self.throttle_register_ip)?,
            mail_ip: rate("throttle_mail_ip", &self.throttle_mail_ip)?,
            mail_address: rate("throttle_mail_address", &self.throttle_mail_address)?,
        };
        let store = match self.throttle_store.as_deref().map(str::trim) {
            None | Some("") => match backend {
                Backend::Postgres => ThrottleStoreKind::Database,
                Backend::Sqlite => ThrottleStoreKind::Memory,
            },
            Some("memory") => ThrottleStoreKind::Memory,
            Some("database") => ThrottleStoreKind::Database,
            Some(other) => bail!("invalid setting `throttle_store`: `{other}` is neither `memory` nor `database`"),
        };
        Ok(self.throttle_enabled.then_some(Throttles { limits, store }))
    }
}

/// A limit such as `10/15m` (at most 10 per 15 minutes) or `100/1d`, or `off`.
pub fn rate(name: &str, text: &str) -> anyhow::Result<Option<Rate>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let expected = "a limit such as 10/15m (10 per 15 minutes) or `off`";
    let Some((count, period)) = text.split_once('/') else {
        bail!("invalid setting `{name}`: `{text}` is not {expected}");
    };
    let count = match count.trim().parse::<u32>().ok().and_then(NonZeroU32::new) {
        Some(count) => count,
        None => bail!("invalid setting `{name}`: `{count}` in `{text}` is not a count from 1 to {}", u32::MAX),
    };
    let period = duration(name, period.trim())?;
    match Rate::new(count, period) {
        Some(rate) => Ok(Some(rate)),
        None => bail!("invalid setting `{name}`: the period of `{text}` is shorter than a millisecond"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn limits_read_as_count_per_period() {
        let rate = rate("x", " 10/15m ").unwrap().unwrap();

        assert_eq!((rate.count.get(), rate.period), (10, Duration::from_secs(900)));
        assert_eq!(super::rate("x", "100/1d").unwrap().unwrap().period, Duration::from_secs(86_400));
        assert_eq!(super::rate("x", "OFF").unwrap(), None);
    }

    #[test]
    fn a_bad_limit_names_its_setting() {
        for bad in ["", "10", "0/1m", "-1/1m", "ten/1m", "10/", "10/0s", "10/fortnight", "10/1m/2", "1/1us"] {
            let error = rate("throttle_login_ip", bad).unwrap_err().to_string();
            assert!(error.contains("`throttle_login_ip`"), "{bad:?}: {error}");
        }
    }
}
