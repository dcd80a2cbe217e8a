//! The SQL of every store operation, as sea-query statements that any backend's query builder renders.
//!
//! Every value is bound as a parameter; no SQL text is built from values.

use authtoken_core::Timestamp;
use authtoken_core::session::Session;
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{NewUser, UserId};
use sea_query::{
    DeleteStatement, Expr, ExprTrait as _, Iden, InsertStatement, Order, Query, SelectStatement, UpdateStatement,
};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Users {
    Table,
    Id,
    Username,
    UsernameKey,
    Email,
    EmailConfirmed,
    IsActive,
    PasswordHash,
    JoinedAt,
    LastLoginAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum Sessions {
    Table,
    Digest,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    UserAgent,
    ClientIp,
}

/// The session columns every session query returns, in this order.
pub(crate) const SESSION_COLUMNS: [Sessions; 8] = [
    Sessions::Digest,
    Sessions::Id,
    Sessions::UserId,
    Sessions::CreatedAt,
    Sessions::ExpiresAt,
    Sessions::LastUsedAt,
    Sessions::UserAgent,
    Sessions::ClientIp,
];

/// The user columns every user query returns, in this order.
pub(crate) const USER_COLUMNS: [Users; 8] = [
    Users::Id,
    Users::Username,
    Users::Email,
    Users::EmailConfirmed,
    Users::IsActive,
    Users::JoinedAt,
    Users::LastLoginAt,
    Users::PasswordHash,
];

pub(crate) fn insert_session(session: &Session) -> InsertStatement {
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
pub(crate) fn find_session(digest: &TokenDigest) -> SelectStatement {
    Query::select()
        .columns(SESSION_COLUMNS.map(|c| (Sessions::Table, c)))
        .columns(USER_COLUMNS.map(|c| (Users::Table, c)))
        .from(Sessions::Table)
        .inner_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((Sessions::Table, Sessions::UserId)))
        .and_where(Expr::col((Sessions::Table, Sessions::Digest)).eq(digest.as_bytes().to_vec()))
        .to_owned()
}

pub(crate) fn delete_session(digest: &TokenDigest) -> DeleteStatement {
    Query::delete()
        .from_table(Sessions::Table)
        .and_where(Expr::col(Sessions::Digest).eq(digest.as_bytes().to_vec()))
        .to_owned()
}

pub(crate) fn purge_expired_sessions(now: Timestamp) -> DeleteStatement {
    Query::delete().from_table(Sessions::Table).and_where(Expr::col(Sessions::ExpiresAt).lt(now.as_millis())).to_owned()
}

pub(crate) fn sessions_of(user_id: UserId) -> SelectStatement {
    Query::select()
        .columns(SESSION_COLUMNS)
        .from(Sessions::Table)
        .and_where(Expr::col(Sessions::UserId).eq(user_id.0))
        .order_by(Sessions::CreatedAt, Order::Asc)
        .order_by(Sessions::Id, Order::Asc)
        .to_owned()
}

pub(crate) fn insert_user(user: &NewUser) -> InsertStatement {
    Query::insert()
        .into_table(Users::Table)
        .columns([
            Users::Username,
            Users::UsernameKey,
            Users::Email,
            Users::EmailConfirmed,
            Users::IsActive,
            Users::PasswordHash,
            Users::JoinedAt,
        ])
        .values_panic([
            user.username.as_str().into(),
            user.username_key.as_str().into(),
            user.email.clone().into(),
            false.into(),
            user.is_active.into(),
            user.password_hash.as_str().into(),
            user.joined_at.as_millis().into(),
        ])
        .returning(Query::returning().columns(USER_COLUMNS))
        .to_owned()
}

pub(crate) fn find_user_by(column: Users, value: &str) -> SelectStatement {
    Query::select().columns(USER_COLUMNS).from(Users::Table).and_where(Expr::col(column).eq(value)).to_owned()
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

/// Deleting a user deletes the user's sessions and links too (foreign keys with `ON DELETE CASCADE`).
pub(crate) fn delete_user(id: UserId) -> DeleteStatement {
    Query::delete().from_table(Users::Table).and_where(Expr::col(Users::Id).eq(id.0)).to_owned()
}
