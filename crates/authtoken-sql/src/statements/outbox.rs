//! Statements on `outbox`.

use authtoken_core::Timestamp;
use authtoken_core::outbox::{MailKind, OUTBOX_ERROR_MAX_CHARS, OutboxId, OutboxMail, OutboxState};
use authtoken_core::user::UserId;
use sea_query::{
    Cond, DeleteStatement, Expr, ExprTrait as _, InsertStatement, LockBehavior, LockType, Order, Query,
    SelectStatement, UpdateStatement,
};

use super::{OUTBOX_COLUMNS, Outbox};

/// A state as the `state` column spells it (its `CHECK` lists the same words).
pub(crate) fn state_text(state: OutboxState) -> &'static str {
    match state {
        OutboxState::Pending => "pending",
        OutboxState::Sent => "sent",
        OutboxState::Failed => "failed",
    }
}

pub(crate) fn state_from_text(text: &str) -> Option<OutboxState> {
    match text {
        "pending" => Some(OutboxState::Pending),
        "sent" => Some(OutboxState::Sent),
        "failed" => Some(OutboxState::Failed),
        _ => None,
    }
}

/// The user's mail of one kind still waiting: a new one replaces it.
pub(crate) fn delete_pending_of_user(user_id: UserId, kind: MailKind) -> DeleteStatement {
    Query::delete()
        .from_table(Outbox::Table)
        .and_where(Expr::col(Outbox::UserId).eq(user_id.0))
        .and_where(Expr::col(Outbox::State).eq(state_text(OutboxState::Pending)))
        .and_where(Expr::col(Outbox::Kind).eq(kind.as_str()))
        .to_owned()
}

/// The user's mail (or a mail to an address, without a user), due at `at`: pending, no attempts yet. Only what the
/// mail is goes in; `subject` and `body` stay empty, since the mail is written when it is delivered.
pub(crate) fn insert(user_id: impl Into<Option<UserId>>, mail: &OutboxMail, at: Timestamp) -> InsertStatement {
    let user_id: Option<UserId> = user_id.into();
    Query::insert()
        .into_table(Outbox::Table)
        .columns([
            Outbox::UserId,
            Outbox::Recipient,
            Outbox::Subject,
            Outbox::Body,
            Outbox::Kind,
            Outbox::Language,
            Outbox::State,
            Outbox::CreatedAt,
            Outbox::Attempts,
            Outbox::NextAttemptAt,
        ])
        .values_panic([
            user_id.map(|id| id.0).into(),
            mail.to.as_str().into(),
            "".into(),
            "".into(),
            mail.kind.as_str().into(),
            mail.language.clone().into(),
            state_text(OutboxState::Pending).into(),
            at.as_millis().into(),
            0_i32.into(),
            at.as_millis().into(),
        ])
        .to_owned()
}

/// Leases up to `limit` due entries, oldest first, and returns their [`OUTBOX_COLUMNS`] (in no particular order).
///
/// One statement, so it is atomic on both backends: on SQLite an `UPDATE` takes the write lock before it reads;
/// on PostgreSQL the subquery locks the rows it picks and skips rows another claim has locked, and a row leased
/// meanwhile fails the re-check of the condition, so two claims never return one entry.
pub(crate) fn claim_due(now: Timestamp, lease_until: Timestamp, limit: u32) -> UpdateStatement {
    let due = Query::select()
        .column(Outbox::Id)
        .from(Outbox::Table)
        .cond_where(
            Cond::all()
                .add(Expr::col(Outbox::State).eq(state_text(OutboxState::Pending)))
                .add(Expr::col(Outbox::NextAttemptAt).lte(now.as_millis()))
                .add(
                    Cond::any()
                        .add(Expr::col(Outbox::LeasedUntil).is_null())
                        .add(Expr::col(Outbox::LeasedUntil).lt(now.as_millis())),
                ),
        )
        .order_by(Outbox::CreatedAt, Order::Asc)
        .order_by(Outbox::Id, Order::Asc)
        .limit(u64::from(limit))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    Query::update()
        .table(Outbox::Table)
        .value(Outbox::LeasedUntil, lease_until.as_millis())
        .and_where(Expr::col(Outbox::Id).in_subquery(due))
        .returning(Query::returning().columns(OUTBOX_COLUMNS))
        .to_owned()
}

/// Sent: the lease goes.
pub(crate) fn mark_sent(id: OutboxId, at: Timestamp) -> UpdateStatement {
    Query::update()
        .table(Outbox::Table)
        .value(Outbox::State, state_text(OutboxState::Sent))
        .value(Outbox::SentAt, at.as_millis())
        .value(Outbox::LeasedUntil, None::<i64>)
        .and_where(Expr::col(Outbox::Id).eq(id.0))
        .to_owned()
}

/// One more failed attempt: due again at `retry_at`, or failed for good without it.
pub(crate) fn mark_failed(id: OutboxId, error: &str, retry_at: Option<Timestamp>) -> UpdateStatement {
    let error: String = error.chars().take(OUTBOX_ERROR_MAX_CHARS).collect();
    let mut update = Query::update();
    update
        .table(Outbox::Table)
        .value(Outbox::Attempts, Expr::col(Outbox::Attempts).add(1))
        .value(Outbox::LastError, error)
        .value(Outbox::LeasedUntil, None::<i64>)
        .and_where(Expr::col(Outbox::Id).eq(id.0));
    match retry_at {
        Some(at) => update.value(Outbox::NextAttemptAt, at.as_millis()),
        None => update.value(Outbox::State, state_text(OutboxState::Failed)),
    };
    update
}

/// Failed mail, every one or those of `ids`, pending again: due at `at`, from its first attempt, its error kept.
pub(crate) fn retry_failed(ids: Option<&[OutboxId]>, at: Timestamp) -> UpdateStatement {
    let mut update = Query::update();
    update
        .table(Outbox::Table)
        .value(Outbox::State, state_text(OutboxState::Pending))
        .value(Outbox::Attempts, 0)
        .value(Outbox::NextAttemptAt, at.as_millis())
        .value(Outbox::LeasedUntil, None::<i64>)
        .and_where(Expr::col(Outbox::State).eq(state_text(OutboxState::Failed)));
    if let Some(ids) = ids {
        update.and_where(Expr::col(Outbox::Id).is_in(ids.iter().map(|id| id.0)));
    }
    update
}

pub(crate) fn in_states(states: &[OutboxState]) -> SelectStatement {
    Query::select()
        .columns(OUTBOX_COLUMNS)
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::State).is_in(states.iter().map(|s| state_text(*s))))
        .order_by(Outbox::CreatedAt, Order::Asc)
        .order_by(Outbox::Id, Order::Asc)
        .to_owned()
}
