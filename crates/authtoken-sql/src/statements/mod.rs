//! The SQL of every store operation, as sea-query statements that any backend's query builder renders.
//!
//! Every value is bound as a parameter; no SQL text is built from values.
//! This module names the tables and columns; each submodule holds the statements of one table.

pub(crate) mod confirmations;
pub(crate) mod events;
pub(crate) mod import;
pub(crate) mod outbox;
pub(crate) mod resets;
pub(crate) mod sessions;
pub(crate) mod throttles;
pub(crate) mod users;

use sea_query::{Expr, Iden, PostgresQueryBuilder, SelectStatement, SqliteQueryBuilder};

/// A query whose only parameter is one key, rendered once, so running it builds no SQL: for one key on SQLite, and
/// for many keys at once on PostgreSQL, where lookups that arrive together are answered by one query.
#[derive(Debug)]
pub(crate) struct KeyQuery {
    pub(crate) sqlite: String,
    /// The query for many keys at once on PostgreSQL: `$1` is an array of keys, and each row ends with the
    /// place of its key in the array, from 1 (a key given twice gets its row twice).
    pub(crate) postgres_many: String,
}

impl KeyQuery {
    /// Renders the statement that `query` writes around the expression of the key.
    pub(crate) fn new(query: impl Fn(Expr) -> SelectStatement) -> Self {
        let one = query(Expr::val(Vec::<u8>::new()));
        let (sqlite, values) = one.build(SqliteQueryBuilder);
        assert!(values.0.len() == 1, "a KeyQuery takes exactly one value");
        let each = query(Expr::cust("k.key")).to_string(PostgresQueryBuilder);
        let postgres_many = format!(
            "SELECT q.*, k.place FROM unnest($1::bytea[]) WITH ORDINALITY AS k(key, place) CROSS JOIN LATERAL ({each}) AS q"
        );
        Self { sqlite, postgres_many }
    }

    /// Renders every `KeyQuery` of the stores.
    pub(crate) fn render_all() {
        std::sync::LazyLock::force(&sessions::FIND);
    }
}

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
#[iden = "auth_events"]
pub(crate) enum Events {
    Table,
    Id,
    At,
    Kind,
    UserId,
    SessionId,
    ClientIp,
    UserAgent,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum Throttles {
    Table,
    Key,
    Tat,
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

#[derive(Iden, Clone, Copy)]
#[iden = "email_confirmation_tokens"]
pub(crate) enum Confirmations {
    Table,
    Digest,
    UserId,
    Email,
    CreatedAt,
    ExpiresAt,
}

#[derive(Iden, Clone, Copy)]
#[iden = "password_reset_tokens"]
pub(crate) enum Resets {
    Table,
    Digest,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum Outbox {
    Table,
    Id,
    UserId,
    Recipient,
    Subject,
    Body,
    Kind,
    Language,
    State,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    LeasedUntil,
    LastError,
    SentAt,
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

/// The event columns every event query returns, in this order (and then the user's name).
pub(crate) const EVENT_COLUMNS: [Events; 7] =
    [Events::Id, Events::At, Events::Kind, Events::UserId, Events::SessionId, Events::ClientIp, Events::UserAgent];

/// The user columns a user query returns, in this order; the password hash only where it is needed.
pub(crate) const USER_COLUMNS: [Users; 7] = [
    Users::Id,
    Users::Username,
    Users::Email,
    Users::EmailConfirmed,
    Users::IsActive,
    Users::JoinedAt,
    Users::LastLoginAt,
];

/// [`USER_COLUMNS`] and then the password hash.
pub(crate) const CREDENTIAL_COLUMNS: [Users; USER_COLUMNS.len() + 1] = {
    let mut columns = [Users::PasswordHash; USER_COLUMNS.len() + 1];
    let mut i = 0;
    while i < USER_COLUMNS.len() {
        columns[i] = USER_COLUMNS[i];
        i += 1;
    }
    columns
};

/// The link columns every confirmation query returns, in this order.
pub(crate) const CONFIRMATION_COLUMNS: [Confirmations; 5] = [
    Confirmations::Digest,
    Confirmations::UserId,
    Confirmations::Email,
    Confirmations::CreatedAt,
    Confirmations::ExpiresAt,
];

/// The link columns every reset query returns, in this order.
pub(crate) const RESET_COLUMNS: [Resets; 4] = [Resets::Digest, Resets::UserId, Resets::CreatedAt, Resets::ExpiresAt];

/// The outbox columns every outbox query returns, in this order (not the lease: it is the store's business, and not
/// the `subject` and `body` of old versions, which are always empty now).
pub(crate) const OUTBOX_COLUMNS: [Outbox; 11] = [
    Outbox::Id,
    Outbox::UserId,
    Outbox::Recipient,
    Outbox::Kind,
    Outbox::Language,
    Outbox::State,
    Outbox::CreatedAt,
    Outbox::Attempts,
    Outbox::NextAttemptAt,
    Outbox::LastError,
    Outbox::SentAt,
];
