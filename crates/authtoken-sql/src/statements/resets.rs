//! Statements on `password_reset_tokens`, and the lookups of a reset by address.

use authtoken_core::Timestamp;
use authtoken_core::outbox::{MailKind, OutboxState};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::UserId;
use sea_query::{
    DeleteStatement, Expr, ExprTrait as _, Func, InsertStatement, LockType, Order, Query, SelectStatement,
};

use super::outbox::state_text;
use super::{Outbox, RESET_COLUMNS, Resets, USER_COLUMNS, Users};

pub(crate) fn insert(
    digest: &TokenDigest,
    user_id: UserId,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> InsertStatement {
    Query::insert()
        .into_table(Resets::Table)
        .columns(RESET_COLUMNS)
        .values_panic([
            digest.as_bytes().to_vec().into(),
            user_id.0.into(),
            created_at.as_millis().into(),
            expires_at.as_millis().into(),
        ])
        .to_owned()
}

/// The link under a digest joined with its user.
pub(crate) fn find(digest: &TokenDigest) -> SelectStatement {
    Query::select()
        .columns(RESET_COLUMNS.map(|c| (Resets::Table, c)))
        .columns(USER_COLUMNS.map(|c| (Users::Table, c)))
        .from(Resets::Table)
        .inner_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((Resets::Table, Resets::UserId)))
        .and_where(Expr::col((Resets::Table, Resets::Digest)).eq(digest.as_bytes().to_vec()))
        .to_owned()
}

/// Deletes the link if it has not expired at `now`, and returns its user's id: the first step of a reset. Deleting
/// first locks the row, so of two concurrent resets with one link only one gets it back.
pub(crate) fn take_unexpired(digest: &TokenDigest, now: Timestamp) -> DeleteStatement {
    Query::delete()
        .from_table(Resets::Table)
        .and_where(Expr::col(Resets::Digest).eq(digest.as_bytes().to_vec()))
        .and_where(Expr::col(Resets::ExpiresAt).gte(now.as_millis()))
        .returning(Query::returning().column(Resets::UserId))
        .to_owned()
}

pub(crate) fn delete_of_user(user_id: UserId) -> DeleteStatement {
    Query::delete().from_table(Resets::Table).and_where(Expr::col(Resets::UserId).eq(user_id.0)).to_owned()
}

pub(crate) fn purge_expired(now: Timestamp) -> DeleteStatement {
    Query::delete().from_table(Resets::Table).and_where(Expr::col(Resets::ExpiresAt).lt(now.as_millis())).to_owned()
}

/// The active users whose address may be `email` in another case, by id, locked until the transaction ends (the index
/// `users_email_lower`). SQLite's `lower` folds ASCII only, PostgreSQL's all of Unicode (a Kelvin sign `K` to `k`), so
/// this finds candidates, and the store keeps those equal to `email` in ASCII case only, alike on both.
pub(crate) fn owner_candidates(email: &str) -> SelectStatement {
    owners(email).lock(LockType::Update).to_owned()
}

/// The active users whose address may be `email` in another case, as [`owner_candidates`] finds them, without
/// locking them: for the audit trail of a reset request, which changes no user.
pub(crate) fn owners(email: &str) -> SelectStatement {
    Query::select()
        .columns(USER_COLUMNS)
        .from(Users::Table)
        .and_where(Func::lower(Expr::col(Users::Email)).eq(Func::lower(Expr::val(email))))
        .and_where(Expr::col(Users::IsActive).eq(true))
        .order_by(Users::Id, Order::Asc)
        .to_owned()
}

/// The pending reset mail that may be to `email` in another case, as id and recipient (the index
/// `outbox_pending_kind_recipient`); the store keeps those equal in ASCII case only, as for [`owner_candidates`].
pub(crate) fn pending_mail_candidates(email: &str) -> SelectStatement {
    Query::select()
        .columns([Outbox::Id, Outbox::Recipient])
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::State).eq(state_text(OutboxState::Pending)))
        .and_where(Expr::col(Outbox::Kind).eq(MailKind::PasswordReset.as_str()))
        .and_where(Func::lower(Expr::col(Outbox::Recipient)).eq(Func::lower(Expr::val(email))))
        .to_owned()
}

/// Deletes the outbox entries `ids`.
pub(crate) fn delete_mail(ids: Vec<i64>) -> DeleteStatement {
    Query::delete().from_table(Outbox::Table).and_where(Expr::col(Outbox::Id).is_in(ids)).to_owned()
}
