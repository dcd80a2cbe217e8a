//! Statements on `sessions`.

use std::sync::LazyLock;

use authtoken_core::Timestamp;
use authtoken_core::session::{Revoke, Session, SessionId};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::UserId;
use sea_query::{
    Cond, DeleteStatement, Expr, ExprTrait as _, Func, InsertStatement, Order, Query, SelectStatement, UpdateStatement,
};

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

/// The session under a digest joined with its user, read by every authenticated request.
/// Its parameter is the digest.
pub(crate) static FIND: LazyLock<KeyQuery> = LazyLock::new(|| {
    KeyQuery::new(|digest| {
        Query::select()
            .columns(SESSION_COLUMNS.map(|c| (Sessions::Table, c)))
            .columns(USER_COLUMNS.map(|c| (Users::Table, c)))
            .from(Sessions::Table)
            .inner_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((Sessions::Table, Sessions::UserId)))
            .and_where(Expr::col((Sessions::Table, Sessions::Digest)).eq(digest))
            .to_owned()
    })
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

/// When a session was last active: `COALESCE(last_used_at, created_at)`, written exactly as the index
/// `sessions_last_active` is, so that both databases use the index for it.
fn last_active() -> Expr {
    Func::coalesce([Expr::col(Sessions::LastUsedAt), Expr::col(Sessions::CreatedAt)]).into()
}

pub(crate) fn purge_idle(before: Timestamp) -> DeleteStatement {
    Query::delete().from_table(Sessions::Table).and_where(last_active().lt(before.as_millis())).to_owned()
}

/// Records a use at `at` unless the recorded one is at or after `stale_before`: racing requests write once.
pub(crate) fn touch(digest: &TokenDigest, at: Timestamp, stale_before: Timestamp) -> UpdateStatement {
    Query::update()
        .table(Sessions::Table)
        .value(Sessions::LastUsedAt, at.as_millis())
        .and_where(Expr::col(Sessions::Digest).eq(digest.as_bytes().to_vec()))
        .cond_where(
            Cond::any()
                .add(Expr::col(Sessions::LastUsedAt).is_null())
                .add(Expr::col(Sessions::LastUsedAt).lt(stale_before.as_millis())),
        )
        .to_owned()
}

/// Deletes the user's sessions but `kept` and the `max - 1` most recently active others (on a tie, the later login
/// stays), so that with `kept` at most `max` are left.
pub(crate) fn evict_least_recent(user_id: UserId, kept: &TokenDigest, max: u32) -> DeleteStatement {
    let others = || {
        Cond::all()
            .add(Expr::col(Sessions::UserId).eq(user_id.0))
            .add(Expr::col(Sessions::Digest).ne(kept.as_bytes().to_vec()))
    };
    let staying = Query::select()
        .column(Sessions::Digest)
        .from(Sessions::Table)
        .cond_where(others())
        .order_by_expr(last_active(), Order::Desc)
        .order_by(Sessions::CreatedAt, Order::Desc)
        .limit(u64::from(max.saturating_sub(1)))
        .to_owned();
    Query::delete()
        .from_table(Sessions::Table)
        .cond_where(others().add(Expr::col(Sessions::Digest).not_in_subquery(staying)))
        .to_owned()
}

/// The session with a public id, joined with its user.
pub(crate) fn find_by_id(id: &SessionId) -> SelectStatement {
    Query::select()
        .columns(SESSION_COLUMNS.map(|c| (Sessions::Table, c)))
        .columns(USER_COLUMNS.map(|c| (Users::Table, c)))
        .from(Sessions::Table)
        .inner_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((Sessions::Table, Sessions::UserId)))
        .and_where(Expr::col((Sessions::Table, Sessions::Id)).eq(id.as_str()))
        .to_owned()
}

pub(crate) fn revoke(user_id: UserId, id: &SessionId) -> DeleteStatement {
    Query::delete()
        .from_table(Sessions::Table)
        .and_where(Expr::col(Sessions::UserId).eq(user_id.0))
        .and_where(Expr::col(Sessions::Id).eq(id.as_str()))
        .to_owned()
}

/// The statement that deletes the user's sessions `which` names; `None` for [`Revoke::Nothing`].
pub(crate) fn revoke_of_user(user_id: UserId, which: &Revoke) -> Option<DeleteStatement> {
    let mut delete =
        Query::delete().from_table(Sessions::Table).and_where(Expr::col(Sessions::UserId).eq(user_id.0)).to_owned();
    match which {
        Revoke::Nothing => return None,
        Revoke::AllBut(keep) => delete.and_where(Expr::col(Sessions::Digest).ne(keep.as_bytes().to_vec())),
        Revoke::All => &mut delete,
    };
    Some(delete)
}

pub(crate) fn revoke_everyone() -> DeleteStatement {
    Query::delete().from_table(Sessions::Table).to_owned()
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
