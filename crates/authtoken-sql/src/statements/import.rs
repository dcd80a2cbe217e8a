//! Statements of the import from Django: users with the ids they had there, and their sessions and links.

use authtoken_core::Timestamp;
use authtoken_core::user::{NewUser, UserId};
use sea_query::{Cond, Expr, ExprTrait as _, InsertStatement, OnConflict, Query, SelectStatement};

use super::{Events, Users};

/// `imported_users`: the ids an import wrote, kept when their users are deleted.
#[derive(sea_query::Iden, Clone, Copy)]
pub(crate) enum ImportedUsers {
    Table,
    Id,
}

/// Records that an import wrote the user `id`.
pub(crate) fn mark_imported(id: UserId) -> InsertStatement {
    unless_there(
        Query::insert()
            .into_table(ImportedUsers::Table)
            .columns([ImportedUsers::Id])
            .values_panic([id.0.into()])
            .to_owned(),
    )
}

/// Whether an import wrote the user `id` before.
pub(crate) fn was_imported(id: UserId) -> SelectStatement {
    Query::select()
        .column(ImportedUsers::Id)
        .from(ImportedUsers::Table)
        .and_where(Expr::col(ImportedUsers::Id).eq(id.0))
        .to_owned()
}

/// The user with its Django id and last login.
pub(crate) fn insert_user(id: UserId, user: &NewUser, last_login_at: Option<Timestamp>) -> InsertStatement {
    let (mut columns, mut values) = super::users::new_user(user);
    columns.extend([Users::Id, Users::LastLoginAt]);
    values.extend([id.0.into(), last_login_at.map(|at| at.as_millis()).into()]);
    Query::insert().into_table(Users::Table).columns(columns).values_panic(values).to_owned()
}

/// The id and username of every user that has the id, the username or the username key of `user`.
pub(crate) fn clashes(id: UserId, user: &NewUser) -> SelectStatement {
    Query::select()
        .columns([Users::Id, Users::Username])
        .from(Users::Table)
        .cond_where(
            Cond::any()
                .add(Expr::col(Users::Id).eq(id.0))
                .add(Expr::col(Users::Username).eq(user.username.as_str()))
                .add(Expr::col(Users::UsernameKey).eq(user.username_key.as_str())),
        )
        .to_owned()
}

/// An event of a user of the id `id`: a deleted user's events outlive the user, and must not become another's.
pub(crate) fn events_of(id: UserId) -> SelectStatement {
    Query::select()
        .column(Events::Id)
        .from(Events::Table)
        .and_where(Expr::col(Events::UserId).eq(id.0))
        .limit(1)
        .to_owned()
}

/// `insert` that does nothing where a row with the same digest is there already.
pub(crate) fn unless_there(mut insert: InsertStatement) -> InsertStatement {
    insert.on_conflict(OnConflict::new().do_nothing().to_owned()).to_owned()
}

/// Moves PostgreSQL's id sequence past the imported ids, so that the next registration does not take one; never
/// back, so that no id of a deleted user comes again.
pub(crate) fn pg_sequence_past_ids() -> SelectStatement {
    Query::select()
        .expr(Expr::cust(
            "setval(pg_get_serial_sequence('users', 'id'), \
             GREATEST((SELECT COALESCE(MAX(id), 0) FROM users), nextval(pg_get_serial_sequence('users', 'id'))))",
        ))
        .to_owned()
}
