//! Delivering the outbox: claim what is due, write each mail, hand it to the mailer, record the outcome, retry with
//! backoff.

use std::sync::Arc;
use std::time::Duration;

use crate::AuthService;
use crate::error::chain;
use crate::outbox::{OutboxEntry, OutboxId};
use crate::ports::{Mailer, Outbox, StoreError};
use crate::service::{Composed, Failure};
use crate::time::Timestamp;

/// When to try again, and when to give up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; it doubles with each further failure.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// Attempts after which a mail is given up as failed.
    pub max_attempts: u32,
    /// How long a claimed entry is reserved for this worker: no other worker claims it meanwhile.
    pub lease: Duration,
    /// The longest one delivery can take: writing the mail, sending it and recording that it was sent. A round
    /// starts no delivery that could end after its lease, so no other worker can claim a mail still being sent.
    pub delivery_time: Duration,
    /// The most entries claimed at once.
    pub batch: u32,
}

impl RetryPolicy {
    /// When to try again after `attempts` failed attempts, or `None` to give up.
    pub fn retry_at(&self, attempts: u32, now: Timestamp) -> Option<Timestamp> {
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        let delay = self.first_delay.saturating_mul(factor).min(self.max_delay);
        Some(now.plus(delay))
    }
}

/// What one round of delivery did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// How many mails were handed to the mailer and recorded as sent.
    pub sent: usize,
    /// Entries that failed this round: their id, their attempts so far, and whether they were given up.
    /// The errors themselves are kept in the outbox (`authtoken outbox` shows them); they may name addresses.
    pub failures: Vec<(OutboxId, u32, bool)>,
    /// Entries no longer worth sending (the user has confirmed, say); the outbox keeps them as failed, with why.
    pub void: Vec<OutboxId>,
    /// Entries claimed but not started, for want of time left in their lease; a later round sends them.
    pub left: usize,
}

/// Delivers outbox mail through a mailer; the service writes each mail ([`AuthService::compose`]).
#[derive(Clone)]
pub struct Delivery {
    service: AuthService,
    outbox: Arc<dyn Outbox>,
    mailer: Arc<dyn Mailer>,
    policy: RetryPolicy,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl Delivery {
    /// A delivery that claims mail from `outbox`, has `service` write it (and reads the time from the service's
    /// clock), sends it through `mailer`, and retries as `policy` says.
    pub fn new(service: AuthService, outbox: Arc<dyn Outbox>, mailer: Arc<dyn Mailer>, policy: RetryPolicy) -> Self {
        Self { service, outbox, mailer, policy }
    }

    /// Sends what is due now. A mail that fails is retried later; a store failure stops the round.
    ///
    /// A send that succeeded is recorded before the next one starts, so a recorded delivery is never repeated.
    /// Once too little of the lease is left for one more delivery ([`RetryPolicy::delivery_time`]), the round
    /// stops: the entries it did not start keep their lease until it runs out, and are claimed again after it.
    pub async fn run_once(&self) -> Result<DeliveryReport, StoreError> {
        let now = self.service.now();
        let lease_until = now.plus(self.policy.lease);
        let due = self.outbox.claim_due(now, lease_until, self.policy.batch).await?;
        let mut report = DeliveryReport::default();
        for entry in due {
            if self.service.now().plus(self.policy.delivery_time) > lease_until {
                report.left += 1;
                continue;
            }
            self.deliver(entry, &mut report).await?;
        }
        Ok(report)
    }

    async fn deliver(&self, entry: OutboxEntry, report: &mut DeliveryReport) -> Result<(), StoreError> {
        let sent = match self.service.compose(&entry).await {
            Ok(Composed::Mail(mail)) => self.mailer.send(&mail).await,
            Ok(Composed::Void(reason)) => {
                self.outbox.mark_failed(entry.id, reason, None).await?;
                report.void.push(entry.id);
                return Ok(());
            }
            Err(Failure::Store(e)) => return Err(e),
            // The random number generator failed: nothing was stored, so the mail is tried again later.
            Err(e) => Err(crate::ports::MailError::context("the mail could not be written", e)),
        };
        match sent {
            Ok(()) => {
                self.outbox.mark_sent(entry.id, self.service.now()).await?;
                report.sent += 1;
            }
            Err(e) => {
                let attempts = entry.attempts.saturating_add(1);
                let retry_at = if e.is_permanent() { None } else { self.policy.retry_at(attempts, self.service.now()) };
                self.outbox.mark_failed(entry.id, &chain(&e), retry_at).await?;
                report.failures.push((entry.id, attempts, retry_at.is_none()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            first_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(60),
            max_attempts: 5,
            lease: Duration::from_secs(30),
            delivery_time: Duration::from_secs(10),
            batch: 10,
        }
    }

    #[track_caller]
    fn check(attempts: u32, expected: Option<i64>) {
        let now = Timestamp::from_millis(0);
        assert_eq!(policy().retry_at(attempts, now).map(Timestamp::as_millis), expected, "after {attempts} attempts");
    }

    #[test]
    fn waits_double_up_to_the_maximum_then_give_up() {
        check(1, Some(10_000));
        check(2, Some(20_000));
        check(3, Some(40_000));
        check(4, Some(60_000));
        check(5, None);
        check(40, None);
    }
}
