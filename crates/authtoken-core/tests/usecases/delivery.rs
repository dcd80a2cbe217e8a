//! Delivering the outbox: due mail is sent once, a failure is retried after the policy's delay and given up after its
//! last attempt, and one failure never holds up the rest of a round.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use authtoken_core::delivery::{Delivery, DeliveryReport, RetryPolicy};
use authtoken_core::outbox::{Mail, OutboxEntry, OutboxId, OutboxState};
use authtoken_core::ports::{MailError, Mailer, MockMailer, MockOutbox, StoreError};
use authtoken_testkit::fixtures;

use crate::support::App;

/// Waits of 10 s and then 20 s, and a third failure is the last.
const POLICY: RetryPolicy = RetryPolicy {
    first_delay: Duration::from_secs(10),
    max_delay: Duration::from_secs(60),
    max_attempts: 3,
    lease: Duration::from_secs(30),
    batch: 10,
};

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const CAROL: &str = "carol@example.org";

#[tokio::test]
async fn due_mail_is_sent_once_and_marked_sent_with_its_body_erased() {
    let (app, mailer, delivery) = setup(POLICY);
    let alice = app.register_with_email("alice", ALICE).await;
    let queued = app.pending_mail().await;
    app.clock.advance(Duration::from_secs(5));

    let first = delivery.run_once().await.unwrap();
    let second = delivery.run_once().await.unwrap();

    assert_eq!(first, DeliveryReport { sent: 1, failures: vec![] });
    assert_eq!(second, DeliveryReport::default());
    assert_eq!(mailer.sent(), queued);
    let sent = app.outbox(&[OutboxState::Sent]).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].user_id, Some(alice.id));
    assert_eq!(sent[0].sent_at, Some(fixtures::EPOCH.plus(Duration::from_secs(5))));
    assert_eq!((sent[0].mail.to.as_str(), sent[0].mail.subject.as_str()), (ALICE, queued[0].subject.as_str()));
    assert_eq!(sent[0].mail.body, "");
    assert!(app.pending_mail().await.is_empty());
}

#[tokio::test]
async fn a_failed_send_is_retried_after_the_policys_delay_and_not_before() {
    let (app, mailer, delivery) = setup(POLICY);
    mailer.fail_for(ALICE);
    app.register_with_email("alice", ALICE).await;
    let id = only_pending(&app).await.id;

    let failed = delivery.run_once().await.unwrap();
    let at_once = delivery.run_once().await.unwrap();
    app.clock.advance(Duration::from_millis(9_999));
    let too_early = delivery.run_once().await.unwrap();
    app.clock.advance(Duration::from_millis(1));
    let due_again = delivery.run_once().await.unwrap();

    assert_eq!(failed, DeliveryReport { sent: 0, failures: vec![(id, 1, false)] });
    assert_eq!(at_once, DeliveryReport::default());
    assert_eq!(too_early, DeliveryReport::default());
    assert_eq!(due_again, DeliveryReport { sent: 0, failures: vec![(id, 2, false)] });
    assert_eq!(mailer.tries(), [ALICE, ALICE]);
    let entry = only_pending(&app).await;
    assert_eq!(entry.attempts, 2);
    assert_eq!(entry.next_attempt_at, fixtures::EPOCH.plus(Duration::from_secs(10 + 20)));
    assert_eq!(entry.last_error.as_deref(), Some("mail not sent: connection refused"));
}

#[tokio::test]
async fn a_mail_that_keeps_failing_is_given_up_after_the_last_attempt() {
    let (app, mailer, delivery) = setup(POLICY);
    mailer.fail_for(ALICE);
    app.register_with_email("alice", ALICE).await;
    let id = only_pending(&app).await.id;

    let first = delivery.run_once().await.unwrap();
    app.clock.advance(Duration::from_secs(10));
    let second = delivery.run_once().await.unwrap();
    app.clock.advance(Duration::from_secs(20));
    let third = delivery.run_once().await.unwrap();
    app.clock.advance(Duration::from_secs(24 * 60 * 60));
    let later = delivery.run_once().await.unwrap();

    assert_eq!(first.failures, [(id, 1, false)]);
    assert_eq!(second.failures, [(id, 2, false)]);
    assert_eq!(third, DeliveryReport { sent: 0, failures: vec![(id, 3, true)] });
    assert_eq!(later, DeliveryReport::default());
    assert_eq!(mailer.tries().len(), 3);
    assert!(app.pending_mail().await.is_empty());
    let failed = app.outbox(&[OutboxState::Failed]).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0].id, failed[0].attempts), (id, 3));
    assert_eq!(failed[0].last_error.as_deref(), Some("mail not sent: connection refused"));
}

#[tokio::test]
async fn a_mail_refused_for_good_fails_at_once_without_a_retry() {
    let (app, mailer, delivery) = setup(POLICY);
    mailer.refuse(ALICE);
    app.register_with_email("alice", ALICE).await;
    let id = only_pending(&app).await.id;

    let report = delivery.run_once().await.unwrap();
    app.clock.advance(Duration::from_secs(24 * 60 * 60));
    let later = delivery.run_once().await.unwrap();

    assert_eq!(report, DeliveryReport { sent: 0, failures: vec![(id, 1, true)] });
    assert_eq!(later, DeliveryReport::default());
    assert_eq!(mailer.tries(), [ALICE]);
    let failed = app.outbox(&[OutboxState::Failed]).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].last_error.as_deref(), Some("mail not sent: SMTP: 550 no such user"));
}

#[tokio::test]
async fn a_mail_that_fails_once_is_sent_on_its_retry() {
    let (app, mailer, delivery) = setup(POLICY);
    mailer.fail_for(ALICE);
    app.register_with_email("alice", ALICE).await;
    let id = only_pending(&app).await.id;
    delivery.run_once().await.unwrap();
    mailer.recover();
    app.clock.advance(Duration::from_secs(10));

    let retry = delivery.run_once().await.unwrap();

    assert_eq!(retry, DeliveryReport { sent: 1, failures: vec![] });
    assert_eq!(mailer.sent().len(), 1);
    let sent = app.outbox(&[OutboxState::Sent]).await;
    assert_eq!(sent.iter().map(|entry| (entry.id, entry.attempts)).collect::<Vec<_>>(), [(id, 1)]);
}

#[tokio::test]
async fn one_failing_mail_does_not_stop_the_others_in_the_same_round() {
    let (app, mailer, delivery) = setup(POLICY);
    mailer.fail_for(BOB);
    app.register_with_email("alice", ALICE).await;
    app.register_with_email("bob", BOB).await;
    app.register_with_email("carol", CAROL).await;
    let bobs = app.outbox(&[OutboxState::Pending]).await[1].id;

    let report = delivery.run_once().await.unwrap();

    assert_eq!(report, DeliveryReport { sent: 2, failures: vec![(bobs, 1, false)] });
    assert_eq!(mailer.tries(), [ALICE, BOB, CAROL]);
    assert_eq!(mailer.sent().iter().map(|mail| mail.to.as_str()).collect::<Vec<_>>(), [ALICE, CAROL]);
    assert_eq!(app.outbox(&[OutboxState::Sent]).await.len(), 2);
    assert_eq!(only_pending(&app).await.id, bobs);
}

#[tokio::test]
async fn a_round_sends_at_most_one_batch_oldest_first() {
    let (app, mailer, delivery) = setup(RetryPolicy { batch: 2, ..POLICY });
    app.register_with_email("alice", ALICE).await;
    app.clock.advance(Duration::from_millis(1));
    app.register_with_email("bob", BOB).await;
    app.clock.advance(Duration::from_millis(1));
    app.register_with_email("carol", CAROL).await;

    let first = delivery.run_once().await.unwrap();
    let second = delivery.run_once().await.unwrap();

    assert_eq!((first.sent, second.sent), (2, 1));
    assert_eq!(mailer.tries(), [ALICE, BOB, CAROL]);
}

#[tokio::test]
async fn a_store_failure_stops_the_round_after_the_mail_in_hand() {
    let app = App::new();
    let mut outbox = MockOutbox::new();
    outbox.expect_claim_due().times(1).returning(|_, _, _| Ok(vec![entry(1, ALICE), entry(2, BOB)]));
    outbox.expect_mark_sent().times(1).returning(|_, _| Err(StoreError::new("connection reset")));
    let mut mailer = MockMailer::new();
    mailer.expect_send().times(1).returning(|_| Ok(()));
    let delivery = Delivery::new(Arc::new(outbox), Arc::new(mailer), Arc::new(app.clock.clone()), POLICY);

    let result = delivery.run_once().await;

    assert!(result.is_err_and(|e| e.to_string() == "store unavailable"), "the round stops at the store failure");
}

#[tokio::test]
async fn a_round_claims_what_is_due_now_leased_for_the_policys_lease() {
    let app = App::new();
    app.clock.advance(Duration::from_secs(1));
    let now = fixtures::EPOCH.plus(Duration::from_secs(1));
    let mut outbox = MockOutbox::new();
    outbox
        .expect_claim_due()
        .withf(move |at, until, limit| (*at, *until, *limit) == (now, now.plus(POLICY.lease), POLICY.batch))
        .times(1)
        .returning(|_, _, _| Ok(vec![]));
    let mut mailer = MockMailer::new();
    mailer.expect_send().never();
    let delivery = Delivery::new(Arc::new(outbox), Arc::new(mailer), Arc::new(app.clock.clone()), POLICY);

    let report = delivery.run_once().await.unwrap();

    assert_eq!(report, DeliveryReport::default());
}

/// An app with confirmation on, a recording mailer, and a delivery over the app's outbox and clock.
fn setup(policy: RetryPolicy) -> (App, Arc<RecordingMailer>, Delivery) {
    let app = App::confirming();
    let mailer = Arc::new(RecordingMailer::default());
    let delivery = Delivery::new(Arc::new(app.store.clone()), mailer.clone(), Arc::new(app.clock.clone()), policy);
    (app, mailer, delivery)
}

async fn only_pending(app: &App) -> OutboxEntry {
    let mut pending = app.outbox(&[OutboxState::Pending]).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    pending.remove(0)
}

/// A pending entry due at the epoch, as a store would hand it out.
fn entry(id: i64, to: &str) -> OutboxEntry {
    OutboxEntry {
        id: OutboxId(id),
        user_id: None,
        mail: Mail { to: to.to_owned(), subject: "Confirm".to_owned(), body: "Open the link.".to_owned() },
        state: OutboxState::Pending,
        created_at: fixtures::EPOCH,
        attempts: 0,
        next_attempt_at: fixtures::EPOCH,
        last_error: None,
        sent_at: None,
    }
}

/// A mailer that records every attempt and every mail it accepted, and refuses mail to the addresses it is told to.
#[derive(Debug, Default)]
struct RecordingMailer {
    tries: Mutex<Vec<String>>,
    sent: Mutex<Vec<Mail>>,
    failing: Mutex<HashSet<String>>,
    refused: Mutex<HashSet<String>>,
}

impl RecordingMailer {
    fn fail_for(&self, to: &str) {
        lock(&self.failing).insert(to.to_owned());
    }

    /// Mail to `to` fails for good, as when the server answers 550.
    fn refuse(&self, to: &str) {
        lock(&self.refused).insert(to.to_owned());
    }

    fn recover(&self) {
        lock(&self.failing).clear();
    }

    /// The recipients of every attempt, in order.
    fn tries(&self) -> Vec<String> {
        lock(&self.tries).clone()
    }

    /// The mail accepted, in order.
    fn sent(&self) -> Vec<Mail> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        lock(&self.tries).push(mail.to.clone());
        if lock(&self.failing).contains(&mail.to) {
            return Err(MailError::new("connection refused"));
        }
        if lock(&self.refused).contains(&mail.to) {
            return Err(MailError::permanent("SMTP", "550 no such user"));
        }
        lock(&self.sent).push(mail.clone());
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
