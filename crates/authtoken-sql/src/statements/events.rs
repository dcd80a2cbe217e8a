//! Statements on `auth_events`, the audit trail.

use authtoken_core::Timestamp;
use authtoken_core::event::{AuditEvent, EventQuery};
use authtoken_core::user::UserId;
use sea_query::{DeleteStatement, Expr, ExprTrait as _, InsertStatement, Order, Query, SelectStatement};

use super::{EVENT_COLUMNS, Events, Users};

pub(crate) fn insert(event: &AuditEvent) -> InsertStatement {
    Query::insert()
        .into_table(Events::Table)
        .columns([Events::At, Events::Kind, Events::UserId, Events::SessionId, Events::ClientIp, Events::UserAgent])
        .values_panic([
            event.at.as_millis().into(),
            event.kind.as_str().into(),
            event.user_id.map(|id| id.0).into(),
            event.session_id.as_ref().map(|id| id.as_str().to_owned()).into(),
            event.client.ip.clone().into(),
            event.client.user_agent.clone().into(),
        ])
        .to_owned()
}

/// [`EVENT_COLUMNS`] and the name of the event's user, when the user still exists.
fn with_username() -> SelectStatement {
    Query::select()
        .columns(EVENT_COLUMNS.map(|c| (Events::Table, c)))
        .column((Users::Table, Users::Username))
        .from(Events::Table)
        .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((Events::Table, Events::UserId)))
        .to_owned()
}

/// The user's latest `limit` events, newest first (the index `auth_events_user_at`, read backwards).
pub(crate) fn of_user(user_id: UserId, limit: u32) -> SelectStatement {
    with_username()
        .and_where(Expr::col((Events::Table, Events::UserId)).eq(user_id.0))
        .order_by((Events::Table, Events::At), Order::Desc)
        .order_by((Events::Table, Events::Id), Order::Desc)
        .limit(u64::from(limit))
        .to_owned()
}

/// Up to `limit` of the events that `query` names, in the order recorded.
pub(crate) fn list(query: &EventQuery, limit: u32) -> SelectStatement {
    let mut select = with_username();
    if let Some(after) = query.after {
        select.and_where(Expr::col((Events::Table, Events::Id)).gt(after.0));
    }
    if let Some(user_id) = query.user_id {
        select.and_where(Expr::col((Events::Table, Events::UserId)).eq(user_id.0));
    }
    if let Some(since) = query.since {
        select.and_where(Expr::col((Events::Table, Events::At)).gte(since.as_millis()));
    }
    select.order_by((Events::Table, Events::Id), Order::Asc).limit(u64::from(limit)).to_owned()
}

/// Events before `before` (the index `auth_events_at`).
pub(crate) fn purge(before: Timestamp) -> DeleteStatement {
    Query::delete().from_table(Events::Table).and_where(Expr::col(Events::At).lt(before.as_millis())).to_owned()
}
