//! Statements on `throttles`: the GCRA arithmetic of `authtoken_core::throttle::Rate`, written in SQL so that the
//! database applies it atomically for every server that shares it.

use authtoken_core::Timestamp;
use authtoken_core::throttle::{Check, ThrottleKey};
use sea_query::{DeleteStatement, Expr, ExprTrait as _, Func, InsertStatement, OnConflict, Query, SelectStatement};

use super::Throttles;

fn key(key: &ThrottleKey) -> Expr {
    Expr::val(key.as_bytes().to_vec())
}

/// One more attempt on `check`'s key at `now`, recorded only when the key admits it (`Rate::admit`): the new time
/// `max(tat, now) + interval`, when `max(tat, now) + interval - now <= burst` (`Rate::burst_millis`, `count`
/// intervals).
///
/// It returns the key's new time when it was admitted, and nothing otherwise; after the new time, the times of
/// `watched` keys as they were before, one column each (NULL for a key not stored), so that a login's throttle costs
/// one statement.
pub(crate) fn admit(check: &Check, now: Timestamp, watched: &[ThrottleKey]) -> InsertStatement {
    let interval = check.rate.interval_millis();
    let start = || Func::greatest([Expr::col((Throttles::Table, Throttles::Tat)), Expr::val(now.as_millis())]);
    let next = || Expr::expr(start()).add(interval);
    let reads = watched.iter().map(|watched| {
        let read = Query::select()
            .column(Throttles::Tat)
            .from(Throttles::Table)
            .and_where(Expr::col(Throttles::Key).eq(key(watched)))
            .to_owned();
        Expr::SubQuery(None, Box::new(read.into()))
    });
    Query::insert()
        .into_table(Throttles::Table)
        .columns([Throttles::Key, Throttles::Tat])
        .values_panic([key(&check.key), Expr::val(now.as_millis().saturating_add(interval))])
        .on_conflict(
            OnConflict::column(Throttles::Key)
                .value(Throttles::Tat, next())
                .action_and_where(next().sub(now.as_millis()).lte(check.rate.burst_millis()))
                .to_owned(),
        )
        .returning(Query::returning().exprs(std::iter::once(Expr::col(Throttles::Tat)).chain(reads)))
        .to_owned()
}

/// One attempt on `check`'s key at `now` whatever its state (`Rate::record`): the new time
/// `max(min(max(tat, now) + interval, now + period), max(tat, now))`, so never earlier than it was.
pub(crate) fn record(check: &Check, now: Timestamp) -> InsertStatement {
    let interval = check.rate.interval_millis();
    let start = || Func::greatest([Expr::col((Throttles::Table, Throttles::Tat)), Expr::val(now.as_millis())]);
    let cap = now.as_millis().saturating_add(check.rate.period_millis());
    let capped = Func::least([Expr::expr(start()).add(interval), Expr::val(cap)]);
    let next = Func::greatest([Expr::expr(capped), Expr::expr(start())]);
    Query::insert()
        .into_table(Throttles::Table)
        .columns([Throttles::Key, Throttles::Tat])
        .values_panic([key(&check.key), Expr::val(std::cmp::min(now.as_millis().saturating_add(interval), cap))])
        .on_conflict(OnConflict::column(Throttles::Key).value(Throttles::Tat, next).to_owned())
        .to_owned()
}

/// The stored keys among `keys`, with their times.
pub(crate) fn find(keys: &[ThrottleKey]) -> SelectStatement {
    Query::select()
        .columns([Throttles::Key, Throttles::Tat])
        .from(Throttles::Table)
        .and_where(Expr::col(Throttles::Key).is_in(keys.iter().map(key)))
        .to_owned()
}

pub(crate) fn delete(keys: &[ThrottleKey]) -> DeleteStatement {
    Query::delete()
        .from_table(Throttles::Table)
        .and_where(Expr::col(Throttles::Key).is_in(keys.iter().map(key)))
        .to_owned()
}

/// Keys whose time has passed are the same as keys never seen.
pub(crate) fn purge(now: Timestamp) -> DeleteStatement {
    Query::delete().from_table(Throttles::Table).and_where(Expr::col(Throttles::Tat).lte(now.as_millis())).to_owned()
}
