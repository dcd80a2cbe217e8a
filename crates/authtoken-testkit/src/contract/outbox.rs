//! Contract cases of `Outbox`.

use std::time::Duration;

use authtoken_core::outbox::{OutboxEntry, OutboxId, OutboxState};
use authtoken_core::{Timestamp, UserId};

use super::{Stores, register};
use crate::fixtures::EPOCH;

const DAY: Duration = Duration::from_secs(86_400);
const MINUTE: Duration = Duration::from_secs(60);
const LEASE: Duration = Duration::from_secs(30);
const ALL_STATES: [OutboxState; 3] = [OutboxState::Pending, OutboxState::Sent, OutboxState::Failed];

/// Registers `name` at `at`, which queues the user's confirmation mail, due at `at`.
async fn queued(stores: &Stores, name: &str, at: Timestamp) -> UserId {
    register(stores, name, at, DAY).await.0.id
}

/// The one entry `claim_due` returns at `now`.
async fn claim_one(stores: &Stores, now: Timestamp) -> OutboxEntry {
    let mut claimed = stores.outbox.claim_due(now, now.plus(LEASE), 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    claimed.remove(0)
}

fn users_of(entries: &[OutboxEntry]) -> Vec<Option<UserId>> {
    entries.iter().map(|e| e.user_id).collect()
}

fn before(at: Timestamp) -> Timestamp {
    Timestamp::from_millis(at.as_millis() - 1)
}

pub async fn claim_due_leases_the_due_pending_entries_oldest_first(stores: &Stores) {
    queued(stores, "later", EPOCH.plus(2 * MINUTE)).await;
    let second = queued(stores, "second", EPOCH.plus(MINUTE)).await;
    let first = queued(stores, "first", EPOCH).await;
    let now = EPOCH.plus(MINUTE);

    let claimed = stores.outbox.claim_due(now, now.plus(LEASE), 10).await.unwrap();
    let claimed_again = stores.outbox.claim_due(now, now.plus(LEASE), 10).await.unwrap();

    assert_eq!(users_of(&claimed), vec![Some(first), Some(second)]);
    let pending = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    assert_eq!(claimed, pending[..2], "claiming changes nothing the port shows");
    assert_eq!(claimed_again, vec![], "leased entries are not claimed again");
}

pub async fn claim_due_returns_at_most_limit_entries(stores: &Stores) {
    let first = queued(stores, "first", EPOCH).await;
    let second = queued(stores, "second", EPOCH.plus(MINUTE)).await;
    let third = queued(stores, "third", EPOCH.plus(2 * MINUTE)).await;
    let now = EPOCH.plus(DAY);

    let claimed = stores.outbox.claim_due(now, now.plus(LEASE), 2).await.unwrap();
    let rest = stores.outbox.claim_due(now, now.plus(LEASE), 2).await.unwrap();

    assert_eq!(users_of(&claimed), vec![Some(first), Some(second)]);
    assert_eq!(users_of(&rest), vec![Some(third)]);
}

pub async fn a_leased_entry_is_claimed_again_only_after_its_lease_has_expired(stores: &Stores) {
    let alice = queued(stores, "alice", EPOCH).await;
    let lease_until = EPOCH.plus(LEASE);
    stores.outbox.claim_due(EPOCH, lease_until, 10).await.unwrap();

    let at_lease_end = stores.outbox.claim_due(lease_until, lease_until.plus(LEASE), 10).await.unwrap();
    let after_lease_end = stores.outbox.claim_due(lease_until.plus(Duration::from_millis(1)), EPOCH.plus(DAY), 10);
    let after_lease_end = after_lease_end.await.unwrap();

    assert_eq!(at_lease_end, vec![], "the lease holds up to and including its last instant");
    assert_eq!(users_of(&after_lease_end), vec![Some(alice)]);
}

pub async fn concurrent_claims_never_return_the_same_entry(stores: &Stores) {
    for i in 0..10 {
        queued(stores, &format!("user{i}"), EPOCH.plus(Duration::from_millis(i))).await;
    }
    let mut all: Vec<OutboxId> =
        stores.outbox.entries(&[OutboxState::Pending]).await.unwrap().iter().map(|e| e.id).collect();
    all.sort();
    let now = EPOCH.plus(MINUTE);
    let claims = (0..5).map(|_| {
        let outbox = stores.outbox.clone();
        tokio::spawn(async move { outbox.claim_due(now, now.plus(LEASE), 10).await })
    });

    let results = futures::future::join_all(claims).await;

    let mut claimed: Vec<OutboxId> = Vec::new();
    for result in results {
        claimed.extend(result.unwrap().unwrap().iter().map(|e| e.id));
    }
    claimed.sort();
    assert_eq!(claimed, all, "every entry is claimed exactly once");
}

pub async fn mark_sent_marks_the_entry_sent_and_it_is_never_claimed_again(stores: &Stores) {
    queued(stores, "alice", EPOCH).await;
    let claimed = claim_one(stores, EPOCH).await;
    let at = EPOCH.plus(Duration::from_secs(1));

    stores.outbox.mark_sent(claimed.id, at).await.unwrap();

    let sent = stores.outbox.entries(&[OutboxState::Sent]).await.unwrap();
    let mut expected = claimed.clone();
    expected.state = OutboxState::Sent;
    expected.sent_at = Some(at);
    assert_eq!(sent, vec![expected]);
    assert_eq!(stores.outbox.entries(&[OutboxState::Pending]).await.unwrap(), vec![]);
    let far_future = EPOCH.plus(365 * DAY);
    assert_eq!(stores.outbox.claim_due(far_future, far_future.plus(LEASE), 10).await.unwrap(), vec![]);
}

pub async fn mark_failed_with_a_retry_time_counts_the_attempt_and_keeps_the_entry_pending(stores: &Stores) {
    queued(stores, "alice", EPOCH).await;
    let claimed = stores.outbox.claim_due(EPOCH, EPOCH.plus(DAY), 10).await.unwrap().remove(0);
    let retry_at = EPOCH.plus(5 * MINUTE);

    stores.outbox.mark_failed(claimed.id, "connection refused", Some(retry_at)).await.unwrap();

    let pending = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    let mut expected = claimed.clone();
    expected.attempts = 1;
    expected.last_error = Some("connection refused".to_owned());
    expected.next_attempt_at = retry_at;
    assert_eq!(pending, vec![expected]);
    let too_early = stores.outbox.claim_due(before(retry_at), EPOCH.plus(DAY), 10).await.unwrap();
    assert_eq!(too_early, vec![], "not due before the retry time");
    let retried = claim_one(stores, retry_at).await;
    assert_eq!(retried.id, claimed.id, "the lease is released: the entry is due at the retry time");
    stores.outbox.mark_failed(claimed.id, "timed out", Some(retry_at.plus(MINUTE))).await.unwrap();
    let pending = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    assert_eq!((pending[0].attempts, pending[0].last_error.as_deref()), (2, Some("timed out")));
}

pub async fn mark_failed_without_a_retry_time_fails_the_entry_for_good(stores: &Stores) {
    queued(stores, "alice", EPOCH).await;
    let claimed = claim_one(stores, EPOCH).await;

    stores.outbox.mark_failed(claimed.id, "550 mailbox unavailable", None).await.unwrap();

    let failed = stores.outbox.entries(&[OutboxState::Failed]).await.unwrap();
    let mut expected = claimed.clone();
    expected.state = OutboxState::Failed;
    expected.attempts = 1;
    expected.last_error = Some("550 mailbox unavailable".to_owned());
    assert_eq!(failed, vec![expected]);
    assert_eq!(stores.outbox.entries(&[OutboxState::Pending]).await.unwrap(), vec![]);
    let far_future = EPOCH.plus(365 * DAY);
    assert_eq!(stores.outbox.claim_due(far_future, far_future.plus(LEASE), 10).await.unwrap(), vec![]);
}

pub async fn mark_failed_keeps_the_first_1000_characters_of_the_error(stores: &Stores) {
    queued(stores, "alice", EPOCH).await;
    let claimed = claim_one(stores, EPOCH).await;
    let error = format!("{}{}", "é".repeat(999), "\u{1F4E7}".repeat(501));

    stores.outbox.mark_failed(claimed.id, &error, None).await.unwrap();

    let failed = stores.outbox.entries(&[OutboxState::Failed]).await.unwrap();
    let kept = failed[0].last_error.clone().unwrap();
    assert_eq!(kept, format!("{}\u{1F4E7}", "é".repeat(999)), "cut by characters, not bytes");
}

pub async fn entries_lists_the_entries_in_the_given_states_oldest_first(stores: &Stores) {
    let sent = queued(stores, "sent", EPOCH.plus(2 * MINUTE)).await;
    let oldest = queued(stores, "oldest", EPOCH).await;
    let failed = queued(stores, "failed", EPOCH.plus(MINUTE)).await;
    let newest = queued(stores, "newest", EPOCH.plus(3 * MINUTE)).await;
    let now = EPOCH.plus(DAY);
    for entry in stores.outbox.claim_due(now, now.plus(LEASE), 10).await.unwrap() {
        if entry.user_id == Some(sent) {
            stores.outbox.mark_sent(entry.id, now).await.unwrap();
        } else if entry.user_id == Some(failed) {
            stores.outbox.mark_failed(entry.id, "refused", None).await.unwrap();
        }
    }

    let pending = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    let failed_or_pending = stores.outbox.entries(&[OutboxState::Failed, OutboxState::Pending]).await.unwrap();
    let every = stores.outbox.entries(&ALL_STATES).await.unwrap();
    let none = stores.outbox.entries(&[]).await.unwrap();

    assert_eq!(users_of(&pending), vec![Some(oldest), Some(newest)]);
    assert_eq!(users_of(&failed_or_pending), vec![Some(oldest), Some(failed), Some(newest)]);
    assert_eq!(users_of(&every), vec![Some(oldest), Some(failed), Some(sent), Some(newest)]);
    assert_eq!(none, vec![]);
}

/// Fails the one due entry of `name`, queued at `at`, for good; returns its id.
async fn failed_for_good(stores: &Stores, name: &str, at: Timestamp) -> OutboxId {
    queued(stores, name, at).await;
    let claimed = claim_one(stores, at).await;
    stores.outbox.mark_failed(claimed.id, "550 mailbox unavailable", None).await.unwrap();
    claimed.id
}

pub async fn retry_failed_makes_every_failed_entry_pending_again_from_its_first_attempt(stores: &Stores) {
    let first = failed_for_good(stores, "alice", EPOCH).await;
    let second = failed_for_good(stores, "bob", EPOCH.plus(MINUTE)).await;
    queued(stores, "carol", EPOCH.plus(2 * MINUTE)).await;
    let now = EPOCH.plus(DAY);

    let retried = stores.outbox.retry_failed(None, now).await.unwrap();

    assert_eq!(retried, 2);
    assert_eq!(stores.outbox.entries(&[OutboxState::Failed]).await.unwrap(), vec![]);
    let pending = stores.outbox.entries(&[OutboxState::Pending]).await.unwrap();
    let requeued: Vec<_> = pending.iter().filter(|e| [first, second].contains(&e.id)).collect();
    assert_eq!(requeued.len(), 2, "{pending:?}");
    for entry in requeued {
        assert_eq!(entry.attempts, 0, "counted from the first attempt again: {entry:?}");
        assert_eq!(entry.next_attempt_at, now, "due at once: {entry:?}");
        assert_eq!(entry.last_error.as_deref(), Some("550 mailbox unavailable"), "the last error stays: {entry:?}");
    }
    let claimed = stores.outbox.claim_due(now, now.plus(LEASE), 10).await.unwrap();
    assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>()[..2], [first, second], "claimed again");
    assert_eq!(stores.outbox.retry_failed(None, now).await.unwrap(), 0, "nothing is failed any more");
}

pub async fn retry_failed_of_some_ids_requeues_only_those_that_failed(stores: &Stores) {
    let first = failed_for_good(stores, "alice", EPOCH).await;
    let second = failed_for_good(stores, "bob", EPOCH.plus(MINUTE)).await;
    queued(stores, "carol", EPOCH.plus(2 * MINUTE)).await;
    let sent = claim_one(stores, EPOCH.plus(2 * MINUTE)).await;
    stores.outbox.mark_sent(sent.id, EPOCH.plus(3 * MINUTE)).await.unwrap();
    let before_retry = stores.outbox.entries(&ALL_STATES).await.unwrap();

    let retried = stores.outbox.retry_failed(Some(vec![second, sent.id, OutboxId(i64::MAX)]), EPOCH.plus(DAY)).await;

    assert_eq!(retried.unwrap(), 1, "only the failed one of the three ids");
    let after = stores.outbox.entries(&ALL_STATES).await.unwrap();
    let state_of = |entries: &[OutboxEntry], id| entries.iter().find(|e| e.id == id).map(|e| e.state);
    assert_eq!(state_of(&after, first), Some(OutboxState::Failed), "not named: left alone");
    assert_eq!(state_of(&after, second), Some(OutboxState::Pending));
    let unchanged = |id| before_retry.iter().find(|e| e.id == id) == after.iter().find(|e| e.id == id);
    assert!(unchanged(sent.id) && unchanged(first), "{before_retry:?}\n{after:?}");
    assert_eq!(stores.outbox.retry_failed(Some(Vec::new()), EPOCH.plus(DAY)).await.unwrap(), 0, "no id, nothing");
}
