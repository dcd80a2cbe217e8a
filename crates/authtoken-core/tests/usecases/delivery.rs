//! Delivering the outbox: due mail is sent once, a failure is retried after the policy's delay and given up after its
//! last attempt, and one failure never holds up the rest of a round.

use std::sync::Arc;
use std::time::Duration;

use authtoken_core::delivery::{Delivery, DeliveryReport, RetryPolicy};
use authtoken_core::outbox::{MailKind, OutboxEntry, OutboxId, OutboxMail, OutboxState};
use authtoken_core::ports::{ConfirmationRepo as _, MockMailer, MockOutbox, StoreError};
use authtoken_core::user::UserId;
use authtoken_testkit::fixtures;

use crate::support::{App, LINK_VALIDITY, POLICY, RecordingMailer, client, digest, token_in};

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const CAROL: &str = "carol@example.org";

#[tokio::test]
async fn due_mail_is_written_with_a_new_link_sent_once_and_marked_sent() {
    let (app, mailer, delivery) = setup(POLICY);
    let alice = app.register_with_email("alice", ALICE).await;
    let queued = app.pending_mail().await;
    app.clock.advance(Duration::from_secs(5));

    let first = delivery.run_once().await.unwrap();
    let second = delivery.run_once().await.unwrap();

    assert_eq!(first, DeliveryReport { sent: 1, ..DeliveryReport::default() });
    assert_eq!(second, DeliveryReport::default());
    let mail = single_sent(&mailer);
    assert_eq!((mail.to.as_str(), mail.subject.as_str()), (ALICE, "Confirm your address, alice"));
    let link = app.store.find_confirmation(&digest(&token_in(&mail))).await.unwrap().expect("the link is stored");
    let written_at = fixtures::EPOCH.plus(Duration::from_secs(5));
    assert_eq!(
        (link.confirmation.created_at, link.confirmation.expires_at),
        (written_at, written_at.plus(LINK_VALIDITY))
    );
    let sent = app.outbox(&[OutboxState::Sent]).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0].user_id, &sent[0].mail), (Some(alice.id), &queued[0]));
    assert_eq!(sent[0].sent_at, Some(written_at));
    assert!(app.pending_mail().await.is_empty());
}

#[tokio::test]
async fn each_attempt_carries_a_new_link_and_every_link_sent_confirms() {
    let (app, mailer, delivery) = setup(POLICY);
    mailer.fail_for(ALICE);
    app.register_with_email("alice", ALICE).await;
    delivery.run_once().await.unwrap();
    mailer.recover();
    app.clock.advance(Duration::from_secs(10));

    delivery.run_once().await.unwrap();

    let token = token_in(&single_sent(&mailer));
    let alice = app.user("alice").await;
    assert_eq!(app.store.confirmation_count(alice.id), 2, "the failed attempt's link is stored too, unknown to all");
    assert!(app.service.confirm_email(&token, &client()).await.is_ok());
    assert_eq!(app.store.confirmation_count(alice.id), 0, "confirming deletes every link of the user");
}

#[tokio::test]
async fn mail_no_longer_needed_is_not_sent_and_fails_with_the_reason() {
    let (app, mailer, delivery) = setup(POLICY);
    let alice = app.register_with_email("alice", ALICE).await;
    let id = only_pending(&app).await.id;
    let (token, link) = fixtures::confirmation(alice.id, ALICE, fixtures::EPOCH, LINK_VALIDITY);
    app.store.add_confirmation(&link).await.unwrap();
    app.service.confirm_email(&token.expose(), &client()).await.unwrap();

    let report = delivery.run_once().await.unwrap();

    assert_eq!(report, DeliveryReport { void: vec![id], ..DeliveryReport::default() });
    assert_eq!(mailer.tries(), Vec::<String>::new());
    assert_eq!(app.store.confirmation_count(alice.id), 0, "no link is minted for a confirmed address");
    let failed = app.outbox(&[OutboxState::Failed]).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].last_error.as_deref(), Some("the user is gone, has confirmed, or has another address now"));
}

#[tokio::test]
async fn with_confirmation_off_a_queued_confirmation_mail_is_not_sent() {
    let app = App::confirming();
    app.register_with_email("alice", ALICE).await;
    let without = App::new();
    let delivery = Delivery::new(without.service.clone(), Arc::new(app.store.clone()), app.mailer.clone(), POLICY);

    let report = delivery.run_once().await.unwrap();

    assert_eq!(report.void.len(), 1, "{report:?}");
    assert_eq!(app.mailer.tries(), Vec::<String>::new());
    let failed = app.outbox(&[OutboxState::Failed]).await;
    assert_eq!(failed[0].last_error.as_deref(), Some("email confirmation is off"));
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

    assert_eq!(failed, DeliveryReport { failures: vec![(id, 1, false)], ..DeliveryReport::default() });
    assert_eq!(at_once, DeliveryReport::default());
    assert_eq!(too_early, DeliveryReport::default());
    assert_eq!(due_again, DeliveryReport { failures: vec![(id, 2, false)], ..DeliveryReport::default() });
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
    assert_eq!(third, DeliveryReport { failures: vec![(id, 3, true)], ..DeliveryReport::default() });
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

    assert_eq!(report, DeliveryReport { failures: vec![(id, 1, true)], ..DeliveryReport::default() });
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

    assert_eq!(retry, DeliveryReport { sent: 1, ..DeliveryReport::default() });
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

    assert_eq!(report, DeliveryReport { sent: 2, failures: vec![(bobs, 1, false)], ..DeliveryReport::default() });
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
async fn a_round_starts_no_delivery_that_could_outlast_its_lease() {
    let app = App::confirming();
    for (name, address) in [("alice", ALICE), ("bob", BOB), ("carol", CAROL)] {
        app.register_with_email(name, address).await;
    }
    let mut mailer = MockMailer::new();
    // Each send takes 12 s; with a 30 s lease and 10 s for one delivery, the third would start at 24 s.
    let clock = app.clock.clone();
    mailer.expect_send().times(2).returning(move |_| {
        clock.advance(Duration::from_secs(12));
        Ok(())
    });
    let policy = RetryPolicy { lease: Duration::from_secs(30), delivery_time: Duration::from_secs(10), ..POLICY };
    let delivery = Delivery::new(app.service.clone(), Arc::new(app.store.clone()), Arc::new(mailer), policy);

    let report = delivery.run_once().await.unwrap();
    let during_the_lease = delivery.run_once().await.unwrap();
    app.clock.advance(Duration::from_secs(7));
    let after = app.delivery(POLICY).run_once().await.unwrap();

    assert_eq!(report, DeliveryReport { sent: 2, left: 1, ..DeliveryReport::default() });
    assert_eq!(during_the_lease, DeliveryReport::default(), "the third is still leased");
    assert_eq!(after, DeliveryReport { sent: 1, ..DeliveryReport::default() }, "claimed again once the lease ran out");
    assert_eq!(app.mailer.sent().iter().map(|mail| mail.to.as_str()).collect::<Vec<_>>(), [CAROL]);
}

#[tokio::test]
async fn a_store_failure_stops_the_round_after_the_mail_in_hand() {
    let app = App::confirming();
    let alice = app.register_with_email("alice", ALICE).await;
    let bob = app.register_with_email("bob", BOB).await;
    let mut outbox = MockOutbox::new();
    let due = vec![entry(1, alice.id, ALICE), entry(2, bob.id, BOB)];
    outbox.expect_claim_due().times(1).return_once(|_, _, _| Ok(due));
    outbox.expect_mark_sent().times(1).returning(|_, _| Err(StoreError::new("connection reset")));
    let mut mailer = MockMailer::new();
    mailer.expect_send().times(1).returning(|_| Ok(()));
    let delivery = Delivery::new(app.service.clone(), Arc::new(outbox), Arc::new(mailer), POLICY);

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
    let delivery = Delivery::new(app.service.clone(), Arc::new(outbox), Arc::new(mailer), POLICY);

    let report = delivery.run_once().await.unwrap();

    assert_eq!(report, DeliveryReport::default());
}

/// An app with confirmation on, its recording mailer, and a delivery over the app's service, outbox and mailer.
fn setup(policy: RetryPolicy) -> (App, Arc<RecordingMailer>, Delivery) {
    let app = App::confirming();
    let (mailer, delivery) = (app.mailer.clone(), app.delivery(policy));
    (app, mailer, delivery)
}

#[track_caller]
fn single_sent(mailer: &RecordingMailer) -> authtoken_core::outbox::Mail {
    let mut sent = mailer.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    sent.remove(0)
}

async fn only_pending(app: &App) -> OutboxEntry {
    let mut pending = app.outbox(&[OutboxState::Pending]).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    pending.remove(0)
}

/// A pending confirmation mail of the user, due at the epoch, as a store would hand it out.
fn entry(id: i64, user_id: UserId, to: &str) -> OutboxEntry {
    OutboxEntry {
        id: OutboxId(id),
        user_id: Some(user_id),
        mail: OutboxMail { to: to.to_owned(), kind: MailKind::Confirmation, language: None },
        state: OutboxState::Pending,
        created_at: fixtures::EPOCH,
        attempts: 0,
        next_attempt_at: fixtures::EPOCH,
        last_error: None,
        sent_at: None,
    }
}
