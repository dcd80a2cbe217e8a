//! How to reach a database: the URL picks the backend, the rest bounds the pool.

use std::time::Duration;

/// Connection settings of a [`crate::SqlStore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// `sqlite://PATH` (created when missing), `sqlite::memory:`, or `postgres://USER@HOST:PORT/DB`.
    pub url: String,
    /// Connections in the pool.
    pub max_connections: u32,
    /// How long to wait for a connection (new or from the pool) before a call fails.
    pub connect_timeout: Duration,
    /// The longest a statement may run (PostgreSQL `statement_timeout`; SQLite waits this long for the write lock).
    pub statement_timeout: Duration,
}

/// The database behind a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The URL names no supported database.
#[derive(Debug, thiserror::Error)]
#[error("the scheme `{0}` is not supported; use `sqlite://PATH` or `postgres://USER@HOST/DB`")]
pub struct UnsupportedDatabase(pub String);

impl DatabaseOptions {
    pub fn backend(&self) -> Result<Backend, UnsupportedDatabase> {
        let scheme = self.url.split_once(':').map_or(self.url.as_str(), |(scheme, _)| scheme);
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            other => Err(UnsupportedDatabase(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(url: &str, expected: Option<Backend>) {
        let options = DatabaseOptions {
            url: url.to_owned(),
            max_connections: 1,
            connect_timeout: Duration::from_secs(1),
            statement_timeout: Duration::from_secs(1),
        };
        assert_eq!(options.backend().ok(), expected, "{url}");
    }

    #[test]
    fn the_scheme_picks_the_backend() {
        check("sqlite://authtoken.sqlite3", Some(Backend::Sqlite));
        check("sqlite::memory:", Some(Backend::Sqlite));
        check("postgres://postgres@127.0.0.1/test", Some(Backend::Postgres));
        check("postgresql://postgres@127.0.0.1/test", Some(Backend::Postgres));
        check("mysql://root@localhost/test", None);
        check("authtoken.sqlite3", None);
    }
}
