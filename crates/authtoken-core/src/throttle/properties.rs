//! Property tests of the GCRA arithmetic: over any attempts at non-decreasing times, a key admits no more than its
//! burst plus what refilled, a refusal's wait is exact, and recording never pushes a key beyond a period.

use std::num::NonZeroU32;
use std::time::Duration;

use proptest::prelude::*;

use super::Rate;
use crate::time::Timestamp;

/// One attempt: how long after the previous one it comes, and whether it is recorded (a failure found out after
/// the fact) instead of asking to be admitted.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    gap_millis: u64,
    record: bool,
}

/// Rates whose period is a multiple of the count, rates whose period is not, periods of a few milliseconds per
/// attempt, and rates finer than a millisecond.
fn rates() -> impl Strategy<Value = Rate> {
    let small = (1u32..=50, 1u64..=2_000).boxed();
    let busy = (1u32..=2_000, 1u64..=2_000).boxed();
    let real = (1u32..=200, 1_000u64..=86_400_000).boxed();
    let tight = (1u32..=60).prop_flat_map(|count| (Just(count), u64::from(count)..=3 * u64::from(count))).boxed();
    prop_oneof![small, busy, real, tight].prop_map(|(count, millis)| {
        Rate::new(NonZeroU32::new(count).expect("counts start at 1"), Duration::from_millis(millis))
            .expect("periods start at 1 ms")
    })
}

/// A rate and attempts whose gaps are around the time one attempt takes to refill, so that refusals are common.
fn runs() -> impl Strategy<Value = (Rate, i64, Vec<Attempt>)> {
    rates().prop_flat_map(|rate| {
        let step = rate.period_millis().unsigned_abs() / u64::from(rate.count.get()) + 1;
        let attempt = (prop_oneof![3 => 0..=2 * step, 1 => 0..=2 * rate.period_millis().unsigned_abs()], 0..5u8)
            .prop_map(|(gap_millis, kind)| Attempt { gap_millis, record: kind == 0 });
        (Just(rate), 0i64..=1 << 45, proptest::collection::vec(attempt, 1..200))
    })
}

/// Plays the attempts on one key; the times at which attempts were admitted.
fn play(rate: Rate, start: i64, attempts: &[Attempt]) -> Vec<i64> {
    let mut tat = None;
    let mut now = start;
    let mut admitted = Vec::new();
    for attempt in attempts {
        now += i64::try_from(attempt.gap_millis).expect("gaps are small");
        let at = Timestamp::from_millis(now);
        if attempt.record {
            let next = rate.record(tat, at);
            check_record(rate, tat, at, next);
            tat = Some(next);
            continue;
        }
        match rate.admit(tat, at) {
            Ok(next) => {
                admitted.push(now);
                tat = Some(next);
            }
            Err(wait) => check_wait(rate, tat, at, wait),
        }
    }
    admitted
}

/// A refused attempt is admitted exactly `wait` later, and not a millisecond sooner; `wait` agrees with `admit`.
#[track_caller]
fn check_wait(rate: Rate, tat: Option<Timestamp>, now: Timestamp, wait: Duration) {
    assert_eq!(rate.wait(tat, now), Some(wait), "wait disagrees with admit");
    assert!(wait >= Duration::from_millis(1), "a refusal waits at least a millisecond");
    assert!(rate.admit(tat, now.plus(wait)).is_ok(), "not admitted after its wait of {wait:?}");
    let sooner = now.plus(wait).minus(Duration::from_millis(1));
    assert!(rate.admit(tat, sooner).is_err(), "admitted a millisecond before its wait of {wait:?} ended");
}

/// Recording never lowers a key's time and never pushes it beyond a period from now.
#[track_caller]
fn check_record(rate: Rate, tat: Option<Timestamp>, now: Timestamp, next: Timestamp) {
    let ceiling = now.plus(rate.period);
    assert!(next > now, "a recorded attempt must count");
    assert!(tat.is_none_or(|tat| next >= tat), "recording lowered a key");
    assert!(next <= ceiling.max(tat.unwrap_or(ceiling)), "recording pushed a key beyond a period");
}

/// The most attempts a key may admit between two instants `span` apart, both included: its burst, `count`, plus
/// what refilled in between at `count` per `period`.
fn allowance(rate: Rate, span: i64) -> i128 {
    let count = i128::from(rate.count.get());
    count + i128::from(span) * count / i128::from(rate.period_millis())
}

proptest! {
    #[test]
    fn no_stretch_of_time_admits_more_than_the_burst_plus_what_refilled((rate, start, attempts) in runs()) {
        let admitted = play(rate, start, &attempts);

        for (first, &from) in admitted.iter().enumerate() {
            for (last, &to) in admitted.iter().enumerate().skip(first) {
                let n = i128::try_from(last - first + 1).unwrap();
                prop_assert!(
                    n <= allowance(rate, to - from),
                    "{rate:?} admitted {n} attempts within {} ms", to - from
                );
            }
        }
    }

    #[test]
    fn a_new_key_admits_its_whole_burst_at_once(rate in rates(), now in 0i64..=1 << 45) {
        let now = Timestamp::from_millis(now);
        let mut tat = None;

        for n in 0..rate.count.get().min(5_000) {
            let admitted = rate.admit(tat, now);
            prop_assert!(admitted.is_ok(), "{rate:?} refused attempt {} of its burst", n + 1);
            tat = admitted.ok();
        }
    }

    #[test]
    fn a_key_recorded_at_any_pace_is_never_more_than_a_period_ahead(
        rate in rates(),
        now in 0i64..=1 << 45,
        gaps in proptest::collection::vec(0u64..=1_000, 1..100),
    ) {
        let mut tat = None;
        let mut now = Timestamp::from_millis(now);

        for gap in gaps {
            now = now.plus(Duration::from_millis(gap));
            let next = rate.record(tat, now);
            check_record(rate, tat, now, next);
            tat = Some(next);
        }

        prop_assert!(tat.unwrap() <= now.plus(rate.period));
    }
}
