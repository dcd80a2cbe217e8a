//! Statements on `email_confirmation_tokens`.

use authtoken_core::Timestamp;
use authtoken_core::confirmation::Confirmation;
use authtoken_core::token::TokenDigest;
use authtoken_core::user::UserId;
use sea_query::{DeleteStatement, Expr, ExprTrait as _, InsertStatement, Query, SelectStatement};

use super::{CONFIRMATION_COLUMNS, Confirmations, USER_COLUMNS, Users};

pub(crate) fn insert(confirmation: &Confirmation) -> InsertStatement {
    Query::insert()
        .into_table(Confirmations::Table)
        .columns(CONFIRMATION_COLUMNS)
        .values_panic([
            confirmation.digest.as_bytes().to_vec().into(),
            confirmation.user_id.0.into(),
            confirmation.email.as_str().into(),
            confirmation.created_at.as_millis().into(),
            confirmation.expires_at.as_millis().into(),
        ])
        .to_owned()
}

/// The link under a digest joined with its user.
pub(crate) fn find(digest: &TokenDigest) -> SelectStatement {
    Query::select()
        .columns(CONFIRMATION_COLUMNS.map(|c| (Confirmations::Table, c)))
        .columns(USER_COLUMNS.map(|c| (Users::Table, c)))
        .from(Confirmations::Table)
        .inner_join(
            Users::Table,
            Expr::col((Users::Table, Users::Id)).equals((Confirmations::Table, Confirmations::UserId)),
        )
        .and_where(Expr::col((Confirmations::Table, Confirmations::Digest)).eq(digest.as_bytes().to_vec()))
        .to_owned()
}

pub(crate) fn delete(digest: &TokenDigest) -> DeleteStatement {
    Query::delete()
        .from_table(Confirmations::Table)
        .and_where(Expr::col(Confirmations::Digest).eq(digest.as_bytes().to_vec()))
        .to_owned()
}

/// Deletes the link and returns its user's id: the first half of confirming.
pub(crate) fn take(digest: &TokenDigest) -> DeleteStatement {
    delete(digest).returning(Query::returning().column(Confirmations::UserId)).to_owned()
}

pub(crate) fn delete_of_user(user_id: UserId) -> DeleteStatement {
    Query::delete()
        .from_table(Confirmations::Table)
        .and_where(Expr::col(Confirmations::UserId).eq(user_id.0))
        .to_owned()
}

pub(crate) fn purge_expired(now: Timestamp) -> DeleteStatement {
    Query::delete()
        .from_table(Confirmations::Table)
        .and_where(Expr::col(Confirmations::ExpiresAt).lt(now.as_millis()))
        .to_owned()
}
