//! Contract cases of `ThrottleStore`: the arithmetic of `authtoken_core::throttle::Rate`, applied atomically.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use authtoken_core::Timestamp;
use authtoken_core::throttle::{Bucket, Check, Rate, ThrottleKey};

use super::Stores;
use crate::fixtures::EPOCH;

/// Three attempts a minute: one every 20 seconds after a burst of three.
fn three_a_minute() -> Rate {
    Rate::new(NonZeroU32::new(3).expect("three"), Duration::from_secs(60)).expect("a minute")
}

fn key(subject: &str) -> ThrottleKey {
    ThrottleKey::new(Bucket::LoginIp, subject)
}

fn counted(subject: &str) -> Check {
    Check { key: key(subject), rate: three_a_minute(), count: true }
}

fn watched(subject: &str) -> Check {
    Check { key: key(subject), rate: three_a_minute(), count: false }
}

fn at(seconds: u64) -> Timestamp {
    EPOCH.plus(Duration::from_secs(seconds))
}

const SECONDS_20: Option<Duration> = Some(Duration::from_secs(20));

/// The longest wait among a check's answers.
fn longest(answers: Vec<Option<Duration>>) -> Option<Duration> {
    answers.into_iter().flatten().max()
}

pub async fn check_answers_each_check_in_order(stores: &Stores) {
    stores.throttles.record(&[counted("full"); 3], at(0)).await.unwrap();

    let checks = [watched("free"), counted("ip"), watched("full"), counted("full")];

    assert_eq!(stores.throttles.check(&checks, at(0)).await.unwrap(), [None, None, SECONDS_20, SECONDS_20]);
}

pub async fn a_counted_key_admits_a_burst_then_says_how_long_to_wait(stores: &Stores) {
    for _ in 0..3 {
        assert_eq!(longest(stores.throttles.check(&[counted("a")], at(0)).await.unwrap()), None);
    }

    assert_eq!(longest(stores.throttles.check(&[counted("a")], at(0)).await.unwrap()), SECONDS_20);
    assert_eq!(longest(stores.throttles.check(&[counted("a")], at(5)).await.unwrap()), Some(Duration::from_secs(15)));
}

pub async fn a_refused_attempt_is_not_recorded(stores: &Stores) {
    for _ in 0..10 {
        longest(stores.throttles.check(&[counted("a")], at(0)).await.unwrap());
    }

    assert_eq!(longest(stores.throttles.check(&[counted("a")], at(20)).await.unwrap()), None);
    assert_eq!(longest(stores.throttles.check(&[counted("a")], at(20)).await.unwrap()), SECONDS_20);
}

pub async fn a_watched_key_is_read_and_never_counted(stores: &Stores) {
    for _ in 0..10 {
        assert_eq!(longest(stores.throttles.check(&[watched("a")], at(0)).await.unwrap()), None);
    }
    stores.throttles.record(&[counted("a"), counted("a"), counted("a")], at(0)).await.unwrap();

    assert_eq!(longest(stores.throttles.check(&[watched("a")], at(0)).await.unwrap()), SECONDS_20);
    assert_eq!(longest(stores.throttles.check(&[watched("a")], at(20)).await.unwrap()), None);
}

pub async fn one_check_counts_its_counted_keys_and_answers_the_longest_wait(stores: &Stores) {
    stores.throttles.record(&[counted("full"); 3], at(0)).await.unwrap();
    stores.throttles.record(&[counted("half")], at(0)).await.unwrap();

    let checks = [counted("ip"), watched("full"), watched("half")];
    assert_eq!(stores.throttles.check(&checks, at(10)).await.unwrap(), [None, Some(Duration::from_secs(10)), None]);

    // The counted key was admitted, so it was recorded although a watched one refused.
    assert_eq!(longest(stores.throttles.check(&[counted("ip"), counted("ip")], at(10)).await.unwrap()), None);
    assert_eq!(longest(stores.throttles.check(&[counted("ip")], at(10)).await.unwrap()), SECONDS_20);
    // The watched keys did not change.
    assert_eq!(longest(stores.throttles.check(&[watched("half")], at(10)).await.unwrap()), None);
    assert_eq!(longest(stores.throttles.check(&[watched("full")], at(20)).await.unwrap()), None);
}

pub async fn record_counts_whatever_the_state_but_never_beyond_one_period(stores: &Stores) {
    stores.throttles.record(&[counted("a"); 10], at(0)).await.unwrap();

    // Full for a period of 60 seconds, which leaves 20 seconds until the next attempt, not 7 × 20 more.
    assert_eq!(longest(stores.throttles.check(&[watched("a")], at(0)).await.unwrap()), SECONDS_20);
    assert_eq!(longest(stores.throttles.check(&[counted("a")], at(20)).await.unwrap()), None);
}

pub async fn keys_are_independent(stores: &Stores) {
    stores.throttles.record(&[counted("a"); 3], at(0)).await.unwrap();

    assert_eq!(longest(stores.throttles.check(&[counted("b")], at(0)).await.unwrap()), None);
    let other_bucket = Check { key: ThrottleKey::new(Bucket::RegisterIp, "a"), ..counted("a") };
    assert_eq!(longest(stores.throttles.check(&[other_bucket], at(0)).await.unwrap()), None);
}

pub async fn forget_makes_a_key_new(stores: &Stores) {
    stores.throttles.record(&[counted("a"); 3], at(0)).await.unwrap();
    stores.throttles.record(&[counted("b"); 3], at(0)).await.unwrap();

    stores.throttles.forget(&[key("a"), key("never seen")]).await.unwrap();

    assert_eq!(longest(stores.throttles.check(&[watched("a")], at(0)).await.unwrap()), None);
    assert_eq!(longest(stores.throttles.check(&[watched("b")], at(0)).await.unwrap()), SECONDS_20);
}

pub async fn purge_forgets_only_keys_whose_time_has_passed(stores: &Stores) {
    stores.throttles.record(&[counted("one")], at(0)).await.unwrap();
    stores.throttles.record(&[counted("three"); 3], at(0)).await.unwrap();

    assert_eq!(stores.throttles.purge(at(19)).await.unwrap(), 0);
    assert_eq!(stores.throttles.purge(at(20)).await.unwrap(), 1);
    // The full key still holds its last attempts until its time.
    assert_eq!(longest(stores.throttles.check(&[watched("three")], at(21)).await.unwrap()), None);
    assert_eq!(longest(stores.throttles.check(&[counted("three")], at(21)).await.unwrap()), None);
    assert_eq!(
        longest(stores.throttles.check(&[counted("three")], at(21)).await.unwrap()),
        Some(Duration::from_secs(19))
    );
}

pub async fn concurrent_checks_of_one_key_admit_exactly_the_burst(stores: &Stores) {
    let store = Arc::clone(&stores.throttles);
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { longest(store.check(&[counted("a")], at(0)).await.unwrap()) })
        })
        .collect();
    let mut admitted = 0;
    for attempt in attempts {
        if attempt.await.unwrap().is_none() {
            admitted += 1;
        }
    }

    assert_eq!(admitted, 3);
}

/// Seven attempts a minute: the count does not divide the period, so one attempt refills in 8 572 ms (rounded up).
pub async fn a_period_the_count_does_not_divide_admits_exactly_the_burst_and_recording_never_lowers_a_key(
    stores: &Stores,
) {
    let rate = Rate::new(NonZeroU32::new(7).expect("seven"), Duration::from_secs(60)).expect("a minute");
    let check = Check { key: key("seven"), rate, count: true };
    for _ in 0..7 {
        assert_eq!(longest(stores.throttles.check(&[check], at(0)).await.unwrap()), None);
    }

    assert_eq!(longest(stores.throttles.check(&[check], at(0)).await.unwrap()), Some(Duration::from_millis(8_572)));
    // The burst took the key 60 004 ms ahead, beyond a period; recording leaves it there.
    stores.throttles.record(&[check], at(0)).await.unwrap();
    assert_eq!(longest(stores.throttles.check(&[check], at(0)).await.unwrap()), Some(Duration::from_millis(8_572)));
    assert_eq!(
        longest(stores.throttles.check(&[check], EPOCH.plus(Duration::from_millis(8_572))).await.unwrap()),
        None
    );
}
