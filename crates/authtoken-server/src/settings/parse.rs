//! The parsers of the duration and limit settings, with their bounds.
//!
//! This file depends only on `anyhow`, `humantime` and `authtoken-core`, so that the fuzz target
//! `fuzz/fuzz_targets/settings.rs` compiles this very file without the rest of the server.

use std::num::NonZeroU32;
use std::time::Duration;

use anyhow::bail;
use authtoken_core::throttle::Rate;

/// The longest duration a setting takes: 100 years, as `humantime` counts them. Every deadline and expiry made from a
/// setting then fits the clocks, where `Instant::now() + d` would panic for durations near `u64::MAX` seconds and a
/// timestamp would saturate.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

/// A human duration such as `3s`, `15m`, `24h` or `7d`; zero, and more than [`MAX_DURATION`], are refused.
pub fn duration(name: &str, text: &str) -> anyhow::Result<Duration> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        bail!(
            "invalid setting `{name}`: `{text}` has no unit: write `{text}s` for seconds, or use m, h or d (15m, 24h, 7d)"
        );
    }
    let duration = humantime::parse_duration(text).map_err(|e| {
        anyhow::anyhow!("invalid setting `{name}`: `{text}` is not a duration such as 15m, 24h or 7d ({e})")
    })?;
    if duration.is_zero() {
        bail!("invalid setting `{name}`: must be longer than zero");
    }
    if duration > MAX_DURATION {
        bail!("invalid setting `{name}`: `{text}` is longer than 100 years");
    }
    Ok(duration)
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
    use super::*;

    #[track_caller]
    fn check_refused(text: &str, expected: &str) {
        let error = duration("http_header_timeout", text).unwrap_err().to_string();

        assert!(error.starts_with("invalid setting `http_header_timeout`"), "{text:?}: {error}");
        assert!(error.contains(expected), "{text:?}: {error}");
    }

    #[test]
    fn durations_are_human() {
        assert_eq!(duration("x", "3s").unwrap(), Duration::from_secs(3));
        assert_eq!(duration("x", "15m").unwrap(), Duration::from_secs(900));
        assert_eq!(duration("x", "7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(duration("x", "100y").unwrap(), MAX_DURATION);
    }

    #[test]
    fn a_duration_is_more_than_zero_and_at_most_a_hundred_years() {
        check_refused("0s", "must be longer than zero");
        check_refused("100y 1s", "longer than 100 years");
        check_refused("36525d 1ns", "longer than 100 years");
        // Found by the fuzz target: it parsed, and made a timestamp saturate.
        check_refused("1844674ms737095516150d", "longer than 100 years");
        // It parsed, and `Instant::now() + d` panicked on a connection's first deadline.
        check_refused("10000000000000000000s", "longer than 100 years");
        check_refused("18446744073709551615s", "longer than 100 years");
        check_refused("18446744073709551616s", "is not a duration");
        check_refused("86400", "`86400` has no unit: write `86400s` for seconds");
    }

    #[test]
    fn limits_read_as_count_per_period() {
        let rate = rate("x", " 10/15m ").unwrap().unwrap();

        assert_eq!((rate.count.get(), rate.period), (10, Duration::from_secs(900)));
        assert_eq!(super::rate("x", "100/1d").unwrap().unwrap().period, Duration::from_secs(86_400));
        assert_eq!(super::rate("x", "OFF").unwrap(), None);
    }

    #[test]
    fn a_bad_limit_names_its_setting() {
        for bad in ["", "10", "0/1m", "-1/1m", "ten/1m", "10/", "10/0s", "10/fortnight", "10/1m/2", "1/1us", "1/101y"] {
            let error = rate("throttle_login_ip", bad).unwrap_err().to_string();
            assert!(error.contains("`throttle_login_ip`"), "{bad:?}: {error}");
        }
    }
}
