//! Statements on `sessions`.

use std::sync::LazyLock;

use authtoken_core::Timestamp;
use authtoken_core::session::Session;
use authtoken_core::token::TokenDigest;
use authtoken_core::user::UserId;
use sea_query::{DeleteStatement, Expr, ExprTrait as _, InsertStatement, Order, Query, SelectStatement};

use super::{KeyQuery, SESSION_COLUMNS, Sessions, USER_COLUMNS, Users};

pub(crate) fn insert(session: &Session) -> InsertStatement {
    Query::insert()
        .into_table(Sessions::Table)
        .columns(SESSION_COLUMNS)
        .values_panic([
            session.digest.as_bytes().to_vec().into(),
            session.id.as_str().into(),
            session.user_id.0.into(),
            session.created_at.as_millis().into(),
            session.expires_at.as_millis().into(),
            session.last_used_at.map(|t| t.as_millis()).into(),
            session.client.user_agent.clone().into(),
            session.client.ip.clone().into(),
        ])
        .to_owned()
}

/// The session under a digest joined with its user: one round trip per authenticated request.
/// Its parameter is the digest.
pub(crate) static FIND: LazyLock<KeyQuery> = LazyLock::new(|| {
    KeyQuery::new(
        Query::select()
            .columns(SESSION_COLUMNS.map(|c| (Sessions::Table, c)))
            .columns(USER_COLUMNS.map(|c| (Users::Table, c)))
            .from(Sessions::Table)
            .inner_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((Sessions::Table, Sessions::UserId)))
            .and_where(Expr::col((Sessions::Table, Sessions::Digest)).eq(Vec::<u8>::new())),
    )
});

pub(crate) fn delete(digest: &TokenDigest) -> DeleteStatement {
    Query::delete()
        .from_table(Sessions::Table)
        .and_where(Expr::col(Sessions::Digest).eq(digest.as_bytes().to_vec()))
        .to_owned()
}

pub(crate) fn purge_expired(now: Timestamp) -> DeleteStatement {
    Query::delete().from_table(Sessions::Table).and_where(Expr::col(Sessions::ExpiresAt).lt(now.as_millis())).to_owned()
}

pub(crate) fn of_user(user_id: UserId) -> SelectStatement {
    Query::select()
        .columns(SESSION_COLUMNS)
        .from(Sessions::Table)
        .and_where(Expr::col(Sessions::UserId).eq(user_id.0))
        .order_by(Sessions::CreatedAt, Order::Asc)
        .order_by(Sessions::Id, Order::Asc)
        .to_owned()
}

/// The cheapest statement that proves the database answers: `SELECT 1`.
pub(crate) fn ping() -> SelectStatement {
    Query::select().expr(Expr::val(1i64)).to_owned()
}
