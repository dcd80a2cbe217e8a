//! Fuzzes the parsers of the duration and limit settings: no panic, every refusal names its setting, and every
//! accepted value is within the documented bounds, usable as a deadline, and reads back from its own rendering.
//!
//! An input starting with `r` is a limit (`rate`); any other input is a duration after its first byte.

#![no_main]

use std::time::{Duration, Instant};

use authtoken_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;
use parse::{MAX_DURATION, duration, rate};

/// The server's parsers, compiled from their own file, which needs nothing of the server besides.
#[path = "../../crates/authtoken-server/src/settings/parse.rs"]
mod parse;

const NAME: &str = "fuzzed_setting";

fuzz_target!(|data: &[u8]| {
    let Some((&kind, text)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(text) else { return };
    if kind == b'r' {
        check_rate(text);
    } else {
        check_duration(text);
    }
});

fn check_duration(text: &str) {
    let parsed = match duration(NAME, text) {
        Ok(parsed) => parsed,
        Err(e) => return check_refusal(&e),
    };
    check_bounds(parsed);
    let rendered = humantime::format_duration(parsed).to_string();
    assert_eq!(duration(NAME, &rendered).ok(), Some(parsed), "{text:?} renders as {rendered:?}, which reads otherwise");
}

fn check_rate(text: &str) {
    let parsed = match rate(NAME, text) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return assert!(text.trim().eq_ignore_ascii_case("off"), "{text:?} turned a limit off"),
        Err(e) => return check_refusal(&e),
    };
    assert!(parsed.period >= Duration::from_millis(1), "{text:?}: a period under a millisecond");
    check_bounds(parsed.period);
    let rendered = format!("{}/{}", parsed.count, humantime::format_duration(parsed.period));
    assert_eq!(
        rate(NAME, &rendered).ok(),
        Some(Some(parsed)),
        "{text:?} renders as {rendered:?}, which reads otherwise"
    );

    // The arithmetic takes any accepted rate without overflowing, at the start of a key and a period later.
    let now = Timestamp::from_millis(1_800_000_000_000);
    let tat = parsed.admit(None, now).expect("a new key admits an attempt");
    assert!(tat > now && tat <= now.plus(parsed.period), "{text:?}: one attempt takes more than the period");
    let full = parsed.record(Some(tat), now);
    if let Some(wait) = parsed.wait(Some(full), now) {
        assert!(wait <= parsed.period, "{text:?}: a wait longer than the period");
        assert!(parsed.admit(Some(full), now.plus(wait)).is_ok(), "{text:?}: refused after its wait");
    }
}

/// A duration setting is more than zero, at most [`MAX_DURATION`], and fits the clocks that deadlines are read on.
fn check_bounds(parsed: Duration) {
    assert!(!parsed.is_zero() && parsed <= MAX_DURATION, "{parsed:?} is out of bounds");
    assert!(Instant::now().checked_add(parsed).is_some(), "{parsed:?} overflows a deadline");
    let now = Timestamp::from_millis(1_800_000_000_000);
    assert!(now.plus(parsed) < Timestamp::from_millis(i64::MAX), "{parsed:?} saturates a timestamp");
}

/// A refusal names the setting, as every bad value does.
fn check_refusal(error: &anyhow::Error) {
    let message = error.to_string();
    assert!(message.starts_with(&format!("invalid setting `{NAME}`")), "{message:?}");
}
