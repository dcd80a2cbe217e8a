//! Reading a Django database that django-rest-authtoken wrote, for `authtoken import django`: its users, their
//! sessions (`rest_authtoken_authtoken`) and their pending confirmation links
//! (`rest_authtoken_emailconfirmationtoken`). Only read: the source is opened read-only on SQLite and only `SELECT`
//! runs on it.
//!
//! Times come out as milliseconds since the epoch, converted by the database itself: Django keeps them as
//! `timestamp with time zone` on PostgreSQL and as naive UTC text (`2026-12-02 10:11:12.123456`) on SQLite.
//! A time the database cannot read comes out as `None`, for the importer to report.

use std::str::FromStr as _;

use authtoken_core::Timestamp;
use authtoken_core::ports::StoreError;
use sea_query::{
    Alias, Expr, ExprTrait as _, Func, Order, PostgresQueryBuilder, Query, SelectStatement, SqliteQueryBuilder,
};
use sea_query_sqlx::SqlxBinder as _;

use crate::row::Row;

/// The tables of django-rest-authtoken's models, as its migrations name them.
const TOKENS: &str = "rest_authtoken_authtoken";
const LINKS: &str = "rest_authtoken_emailconfirmationtoken";

/// Where the users are: Django's `auth_user`, or the table of a custom user model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DjangoTables {
    /// The user model's table (default `auth_user`).
    pub user_table: String,
    /// The user model's boolean field that says the address is confirmed (upstream's
    /// `REGISTRATION_EMAIL_CONFIRM_MODEL_FIELD`), when there is one.
    pub confirmed_field: Option<String>,
}

impl Default for DjangoTables {
    fn default() -> Self {
        Self { user_table: "auth_user".to_owned(), confirmed_field: None }
    }
}

/// A row of the user table, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct DjangoUser {
    pub id: i64,
    pub username: String,
    /// Django's empty string when the user gave none.
    pub email: String,
    pub is_active: bool,
    /// `None` when the database could not read the stored time.
    pub date_joined: Option<Timestamp>,
    pub last_login: Option<Timestamp>,
    /// Django's password hash (`pbkdf2_sha256$…`), never a password.
    pub password: String,
    /// The confirmed field's value, when [`DjangoTables::confirmed_field`] names one.
    pub confirmed: Option<bool>,
}

impl std::fmt::Debug for DjangoUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DjangoUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// A row of `rest_authtoken_authtoken` or `rest_authtoken_emailconfirmationtoken`: a digest, never a token.
#[derive(Clone, PartialEq, Eq)]
pub struct DjangoToken {
    pub user_id: i64,
    /// SHA-512 of the token's 48 bytes, as authtoken stores it too.
    pub digest: Vec<u8>,
    pub created: Option<Timestamp>,
    /// The address a confirmation link was sent to; `None` for a session.
    pub email: Option<String>,
}

impl std::fmt::Debug for DjangoToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DjangoToken").field("user_id", &self.user_id).field("created", &self.created).finish()
    }
}

/// Why the Django database cannot be read; the message names the table or the setting to change.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DjangoError(String);

/// A Django database, open for reading.
#[derive(Debug)]
pub struct DjangoSource {
    pool: Source,
    tables: DjangoTables,
}

#[derive(Debug)]
enum Source {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl DjangoSource {
    /// Opens `url` (`sqlite://…` read-only, or `postgres://…`) and checks that the three tables and the columns the
    /// import reads are there.
    pub async fn open(url: &str, tables: DjangoTables) -> Result<Self, DjangoError> {
        for name in std::iter::once(&tables.user_table).chain(&tables.confirmed_field) {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(DjangoError(format!("`{name}` is not a table or field name Django makes")));
            }
        }
        let unreachable = |e: sqlx::Error| DjangoError(format!("cannot open the Django database: {e}"));
        let pool = if url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(unreachable)?.read_only(true);
            Source::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await
                    .map_err(unreachable)?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Source::Postgres(
                sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.map_err(unreachable)?,
            )
        } else {
            return Err(DjangoError("the Django database URL must start with sqlite:// or postgres://".to_owned()));
        };
        let source = Self { pool, tables };
        source.fetch(|millis| source.users_query(millis).limit(1).to_owned(), |_| Ok(())).await?;
        source.fetch(|millis| tokens_query(TOKENS, false, millis).limit(1).to_owned(), |_| Ok(())).await?;
        source.fetch(|millis| tokens_query(LINKS, true, millis).limit(1).to_owned(), |_| Ok(())).await?;
        Ok(source)
    }

    /// How many users there are.
    pub async fn count_users(&self) -> Result<u64, DjangoError> {
        let query = Query::select().expr(Func::count(Expr::col(Alias::new("id")))).from(self.user_table()).to_owned();
        let counts = self.fetch(|_| query.clone(), |row| row.int(0)).await?;
        Ok(counts.first().copied().and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    /// Up to `limit` users with an id over `after`, in id order.
    pub async fn users(&self, after: Option<i64>, limit: u32) -> Result<Vec<DjangoUser>, DjangoError> {
        let query = |millis| {
            self.users_query(millis)
                .and_where(Expr::col(Alias::new("id")).gt(after.unwrap_or(i64::MIN)))
                .order_by(Alias::new("id"), Order::Asc)
                .limit(u64::from(limit))
                .to_owned()
        };
        let confirmed = self.tables.confirmed_field.is_some();
        self.fetch(query, |row| {
            Ok(DjangoUser {
                id: row.int(0)?,
                username: row.text(1)?,
                email: row.opt_text(2)?.unwrap_or_default(),
                is_active: row.flag(3)?,
                date_joined: row.opt_int(4)?.map(Timestamp::from_millis),
                last_login: row.opt_int(5)?.map(Timestamp::from_millis),
                password: row.text(6)?,
                confirmed: if confirmed { Some(row.flag(7)?) } else { None },
            })
        })
        .await
    }

    /// The sessions of the users whose ids are `first..=last`.
    pub async fn sessions(&self, first: i64, last: i64) -> Result<Vec<DjangoToken>, DjangoError> {
        self.tokens(TOKENS, false, first, last).await
    }

    /// The pending confirmation links of the users whose ids are `first..=last`.
    pub async fn links(&self, first: i64, last: i64) -> Result<Vec<DjangoToken>, DjangoError> {
        self.tokens(LINKS, true, first, last).await
    }

    async fn tokens(&self, table: &str, email: bool, first: i64, last: i64) -> Result<Vec<DjangoToken>, DjangoError> {
        let query = |millis| {
            tokens_query(table, email, millis)
                .and_where(Expr::col(Alias::new("user_id")).between(first, last))
                .order_by(Alias::new("user_id"), Order::Asc)
                .to_owned()
        };
        self.fetch(query, |row| {
            Ok(DjangoToken {
                user_id: row.int(0)?,
                digest: row.bytes(1)?,
                created: row.opt_int(2)?.map(Timestamp::from_millis),
                email: if email { Some(row.text(3)?) } else { None },
            })
        })
        .await
    }

    fn user_table(&self) -> Alias {
        Alias::new(self.tables.user_table.as_str())
    }

    fn users_query(&self, millis: &'static str) -> SelectStatement {
        let table = self.tables.user_table.as_str();
        let mut query = Query::select();
        query
            .expr(as_bigint(table, "id"))
            .column(column(table, "username"))
            .column(column(table, "email"))
            .column(column(table, "is_active"))
            .expr(time(millis, table, "date_joined"))
            .expr(time(millis, table, "last_login"))
            .column(column(table, "password"))
            .from(self.user_table());
        if let Some(field) = &self.tables.confirmed_field {
            query.column(column(table, field));
        }
        query
    }

    /// Runs the query `build` makes with the backend's conversion of a time to milliseconds (see the module), and
    /// decodes each row.
    async fn fetch<T>(
        &self,
        build: impl Fn(&'static str) -> SelectStatement,
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, DjangoError> {
        let rows = match &self.pool {
            Source::Sqlite(pool) => {
                let (sql, values) = build(SQLITE_MILLIS).build_sqlx(SqliteQueryBuilder);
                let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_all(pool).await;
                rows.map_err(|e| self.unreadable(&e))?.iter().map(|row| decode(row)).collect::<Result<_, _>>()
            }
            Source::Postgres(pool) => {
                let (sql, values) = build(POSTGRES_MILLIS).build_sqlx(PostgresQueryBuilder);
                let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_all(pool).await;
                rows.map_err(|e| self.unreadable(&e))?.iter().map(|row| decode(row)).collect::<Result<_, _>>()
            }
        };
        rows.map_err(|e| DjangoError(format!("cannot read a row of the Django database: {e}")))
    }

    fn unreadable(&self, e: &sqlx::Error) -> DjangoError {
        let message = e.as_database_error().map_or_else(|| e.to_string(), |e| e.message().to_owned());
        let hint = if self.tables.confirmed_field.as_deref().is_some_and(|field| message.contains(field)) {
            " (name the user model's confirmation field with --confirmed-field)"
        } else if message.contains(&self.tables.user_table) {
            " (name the user model's table with --user-table)"
        } else if message.contains(TOKENS) || message.contains(LINKS) {
            " (is it a database of django-rest-authtoken 2, with its migrations applied?)"
        } else {
            ""
        };
        DjangoError(format!("cannot read the Django database: {message}{hint}"))
    }
}

/// The milliseconds of a time column, by each backend's own reading of it (`?` and `$1` stand for the column, as
/// each backend's query builder writes a placeholder).
const SQLITE_MILLIS: &str = "CAST(round(unixepoch(?, 'subsec') * 1000) AS INTEGER)";
const POSTGRES_MILLIS: &str = "CAST(round(EXTRACT(EPOCH FROM $1) * 1000) AS BIGINT)";

/// The column `name` of `table`, named with its table: SQLite reads a quoted name that no column has as a string,
/// unless the table is named too, and then a missing column is an error, as it should be.
fn column(table: &str, name: &str) -> (Alias, Alias) {
    (Alias::new(table), Alias::new(name))
}

/// The milliseconds of the time column `name` of `table`, as `millis` converts it.
fn time(millis: &'static str, table: &str, name: &str) -> Expr {
    Expr::cust_with_expr(millis, Expr::col(column(table, name)))
}

fn tokens_query(table: &str, email: bool, millis: &'static str) -> SelectStatement {
    let mut query = Query::select();
    query
        .expr(as_bigint(table, "user_id"))
        .column(column(table, "hashed_token"))
        .expr(time(millis, table, "created"))
        .from(Alias::new(table));
    if email {
        query.column(column(table, "email"));
    }
    query
}

/// Django's ids are `integer` on PostgreSQL (a 32-bit `AutoField`), which the driver reads as `i32` only.
fn as_bigint(table: &str, name: &str) -> Expr {
    Func::cast_as(Expr::col(column(table, name)), Alias::new("BIGINT")).into()
}
