//! Why a database could not be opened, in words an operator can act on, and which migrations a database has.
//!
//! A pool that cannot connect says only that it timed out waiting for a connection, and PostgreSQL's own errors
//! come with the place in its source that raised them. So the first connection is made alone, and its failure is
//! told with the host, port, database, role or file it concerns and what to check.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use authtoken_core::error::BoxError;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use crate::options::{Backend, DatabaseOptions};

pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The database could not be opened: what failed, what it concerns, and what to check.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct OpenError {
    message: String,
    #[source]
    cause: Option<BoxError>,
}

impl OpenError {
    pub(crate) fn new(message: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        Self { message: message.into(), cause: Some(cause.into()) }
    }

    fn plain(message: impl Into<String>) -> Self {
        Self { message: message.into(), cause: None }
    }
}

/// Connects once to PostgreSQL within `timeout`, to tell why it fails when it does.
pub(crate) async fn first_postgres_connection(
    connect: &PgConnectOptions,
    timeout: Duration,
) -> Result<PgConnection, OpenError> {
    let server = format!("{}:{}", connect.get_host(), connect.get_port());
    match tokio::time::timeout(timeout, PgConnection::connect_with(connect)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => Err(postgres_failure(connect, &server, e)),
        Err(_) => Err(OpenError::plain(format!(
            "PostgreSQL at {server} did not answer within {} (database_connect_timeout): is the host right, and does \
             a firewall drop the connection?",
            humanize(timeout)
        ))),
    }
}

fn postgres_failure(connect: &PgConnectOptions, server: &str, e: sqlx::Error) -> OpenError {
    let user = connect.get_username();
    let database = connect.get_database().unwrap_or(user);
    match &e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => OpenError::new(
            format!("nothing accepts connections at {server}: is PostgreSQL running, and are the host and port right?"),
            e,
        ),
        sqlx::Error::Io(io) => {
            OpenError::new(format!("cannot reach PostgreSQL at {server} ({io}): are the host and port right?"), e)
        }
        sqlx::Error::Database(db) => {
            let said = db.message().to_owned();
            let message = match db.code().as_deref() {
                Some("3D000") => format!(
                    "the database `{database}` does not exist at {server}: create it (for example `createdb -h {} -p \
                     {} -U {user} {database}`), or name another one in the URL",
                    connect.get_host(),
                    connect.get_port()
                ),
                Some("28000") => format!(
                    "PostgreSQL at {server} refused the role `{user}` ({said}): create the role, allow it in \
                     pg_hba.conf, or name another user in the URL"
                ),
                Some("28P01") => format!("PostgreSQL at {server} refused the password of the role `{user}`"),
                Some("53300") => format!("PostgreSQL at {server} has no connection left ({said})"),
                _ => format!("PostgreSQL at {server} refused the connection: {said}"),
            };
            OpenError::new(message, e)
        }
        sqlx::Error::Tls(tls) => {
            OpenError::new(format!("the TLS handshake with PostgreSQL at {server} failed: {tls}"), e)
        }
        _ => OpenError::new(format!("cannot connect to PostgreSQL at {server}: {e}"), e),
    }
}

/// Tells why SQLite could not open or create `file`.
pub(crate) fn sqlite_failure(file: &Path, e: sqlx::Error) -> OpenError {
    let cannot_open = matches!(&e, sqlx::Error::Database(db) if db.code().as_deref() == Some("14"));
    if !cannot_open {
        return OpenError::new(format!("cannot open the SQLite database `{}`: {e}", file.display()), e);
    }
    let directory = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let message = if !directory.is_dir() {
        format!(
            "cannot create the SQLite database `{}`: the directory `{}` does not exist; create it, or name a file in \
             an existing directory",
            file.display(),
            directory.display()
        )
    } else if file.exists() {
        format!("cannot open the SQLite database `{}`: can this user read and write the file?", file.display())
    } else {
        format!(
            "cannot create the SQLite database `{}`: can this user write in the directory `{}`?",
            file.display(),
            directory.display()
        )
    };
    OpenError::new(message, e)
}

fn humanize(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// A migration this build knows, and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

/// The migrations this build knows, oldest first, each with whether the database of `options` has it. Reads only:
/// a SQLite file that does not exist yet is left uncreated, and has none.
pub async fn migrations(options: &DatabaseOptions) -> Result<Vec<Migration>, OpenError> {
    let backend = options.backend().map_err(|e| OpenError::new(e.to_string(), e))?;
    let applied = match backend {
        Backend::Sqlite => applied_sqlite(options).await?,
        Backend::Postgres => applied_postgres(options).await?,
    };
    let known = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    Ok(known
        .iter()
        .map(|m| Migration {
            version: m.version,
            description: m.description.to_string(),
            applied: applied.contains(&m.version),
        })
        .collect())
}

const APPLIED: &str = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";

async fn applied_sqlite(options: &DatabaseOptions) -> Result<Vec<i64>, OpenError> {
    let connect = SqliteConnectOptions::from_str(&options.url)
        .map_err(|e| OpenError::new(format!("invalid SQLite URL: {e}"), e))?
        .read_only(true)
        .create_if_missing(false);
    let file = connect.get_filename().to_owned();
    if options.url.contains(":memory:") || !file.exists() {
        return Ok(Vec::new());
    }
    let mut connection = connect.connect().await.map_err(|e| sqlite_failure(&file, e))?;
    let has_table: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '_sqlx_migrations')")
            .fetch_one(&mut connection)
            .await
            .map_err(|e| OpenError::new(format!("cannot read `{}`: {e}", file.display()), e))?;
    let applied = if has_table { sqlx::query_scalar(APPLIED).fetch_all(&mut connection).await } else { Ok(Vec::new()) };
    let _ = connection.close().await;
    applied.map_err(|e| OpenError::new(format!("cannot read the applied migrations: {e}"), e))
}

async fn applied_postgres(options: &DatabaseOptions) -> Result<Vec<i64>, OpenError> {
    let connect = PgConnectOptions::from_str(&options.url)
        .map_err(|e| OpenError::new(format!("invalid PostgreSQL URL: {e}"), e))?;
    let mut connection = first_postgres_connection(&connect, options.connect_timeout).await?;
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut connection)
        .await
        .map_err(|e| OpenError::new(format!("cannot read the applied migrations: {e}"), e))?;
    let applied = if has_table { sqlx::query_scalar(APPLIED).fetch_all(&mut connection).await } else { Ok(Vec::new()) };
    let _ = connection.close().await;
    applied.map_err(|e| OpenError::new(format!("cannot read the applied migrations: {e}"), e))
}
