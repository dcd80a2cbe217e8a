//! Statements on `users`.

use authtoken_core::Timestamp;
use authtoken_core::user::{NewUser, PasswordHash, UserId};
use sea_query::{
    Cond, DeleteStatement, Expr, ExprTrait as _, InsertStatement, LockType, Order, Query, SelectStatement,
    UpdateStatement,
};

use super::{CREDENTIAL_COLUMNS, USER_COLUMNS, Users};

/// Returns the new user's [`USER_COLUMNS`].
pub(crate) fn insert(user: &NewUser) -> InsertStatement {
    let (columns, values) = new_user(user);
    Query::insert()
        .into_table(Users::Table)
        .columns(columns)
        .values_panic(values)
        .returning(Query::returning().columns(USER_COLUMNS))
        .to_owned()
}

/// The columns a new user's insert writes, and their values.
pub(crate) fn new_user(user: &NewUser) -> (Vec<Users>, Vec<sea_query::Expr>) {
    let columns = vec![
        Users::Username,
        Users::UsernameKey,
        Users::Email,
        Users::EmailConfirmed,
        Users::IsActive,
        Users::PasswordHash,
        Users::JoinedAt,
    ];
    let values = vec![
        user.username.as_str().into(),
        user.username_key.as_str().into(),
        user.email.clone().into(),
        user.email_confirmed.into(),
        user.is_active.into(),
        user.password_hash.as_str().into(),
        user.joined_at.as_millis().into(),
    ];
    (columns, values)
}

pub(crate) fn find_by(column: Users, value: &str) -> SelectStatement {
    Query::select().columns(CREDENTIAL_COLUMNS).from(Users::Table).and_where(Expr::col(column).eq(value)).to_owned()
}

pub(crate) fn find_credentials(id: UserId) -> SelectStatement {
    Query::select().columns(CREDENTIAL_COLUMNS).from(Users::Table).and_where(Expr::col(Users::Id).eq(id.0)).to_owned()
}

pub(crate) fn count() -> SelectStatement {
    Query::select().expr(sea_query::Func::count(Expr::col(Users::Id))).from(Users::Table).to_owned()
}

/// A page of users after `after`, by id (the primary key serves it).
pub(crate) fn list(after: Option<UserId>, limit: u32) -> SelectStatement {
    Query::select()
        .columns(USER_COLUMNS)
        .from(Users::Table)
        .and_where(Expr::col(Users::Id).gt(after.map_or(i64::MIN, |id| id.0)))
        .order_by(Users::Id, Order::Asc)
        .limit(u64::from(limit))
        .to_owned()
}

pub(crate) fn set_password(id: UserId, hash: &PasswordHash) -> UpdateStatement {
    Query::update()
        .table(Users::Table)
        .value(Users::PasswordHash, hash.as_str())
        .and_where(Expr::col(Users::Id).eq(id.0))
        .to_owned()
}

/// Replaces the hash only while it is `old`, so that a password changed meanwhile is not overwritten.
pub(crate) fn upgrade_password_hash(id: UserId, old: &PasswordHash, new: &PasswordHash) -> UpdateStatement {
    Query::update()
        .table(Users::Table)
        .value(Users::PasswordHash, new.as_str())
        .and_where(Expr::col(Users::Id).eq(id.0))
        .and_where(Expr::col(Users::PasswordHash).eq(old.as_str()))
        .to_owned()
}

/// The password hashes that are neither Argon2id nor unusable, of the newest users first.
pub(crate) fn legacy_hashes(limit: u32) -> SelectStatement {
    Query::select()
        .column(Users::PasswordHash)
        .from(Users::Table)
        .and_where(Expr::col(Users::PasswordHash).not_like("$argon2id$%"))
        .and_where(Expr::col(Users::PasswordHash).not_like("!%"))
        .order_by(Users::Id, Order::Desc)
        .limit(u64::from(limit))
        .to_owned()
}

/// The user's [`USER_COLUMNS`] (the id first), with the row locked until the transaction ends (on PostgreSQL; a
/// SQLite write transaction locks the whole database anyway), so the user cannot vanish or change meanwhile and
/// writers of one user take turns.
pub(crate) fn lock(id: UserId) -> SelectStatement {
    Query::select()
        .columns(USER_COLUMNS)
        .from(Users::Table)
        .and_where(Expr::col(Users::Id).eq(id.0))
        .lock(LockType::Update)
        .to_owned()
}

/// The user's [`CREDENTIAL_COLUMNS`], locked as [`lock`] locks them.
pub(crate) fn lock_credentials(id: UserId) -> SelectStatement {
    Query::select()
        .columns(CREDENTIAL_COLUMNS)
        .from(Users::Table)
        .and_where(Expr::col(Users::Id).eq(id.0))
        .lock(LockType::Update)
        .to_owned()
}

/// Users with an email address that is not confirmed yet, by id.
pub(crate) fn unconfirmed() -> SelectStatement {
    Query::select()
        .columns(USER_COLUMNS)
        .from(Users::Table)
        .cond_where(
            Cond::all()
                .add(Expr::col(Users::Email).is_not_null())
                .add(Expr::col(Users::Email).ne(""))
                .add(Expr::col(Users::EmailConfirmed).eq(false)),
        )
        .order_by(Users::Id, Order::Asc)
        .to_owned()
}

pub(crate) fn record_login(id: UserId, at: Timestamp) -> UpdateStatement {
    Query::update()
        .table(Users::Table)
        .value(Users::LastLoginAt, at.as_millis())
        .and_where(Expr::col(Users::Id).eq(id.0))
        .to_owned()
}

pub(crate) fn set_active(id: UserId, active: bool) -> UpdateStatement {
    Query::update()
        .table(Users::Table)
        .value(Users::IsActive, active)
        .and_where(Expr::col(Users::Id).eq(id.0))
        .to_owned()
}

pub(crate) fn confirm_email(id: UserId) -> UpdateStatement {
    Query::update()
        .table(Users::Table)
        .value(Users::EmailConfirmed, true)
        .and_where(Expr::col(Users::Id).eq(id.0))
        .to_owned()
}

/// Deleting a user deletes the user's sessions, links and mail too (foreign keys with `ON DELETE CASCADE`).
pub(crate) fn delete(id: UserId) -> DeleteStatement {
    Query::delete().from_table(Users::Table).and_where(Expr::col(Users::Id).eq(id.0)).to_owned()
}
