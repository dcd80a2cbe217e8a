//! PostgreSQL through `psql` for the scale comparison: a fresh schema that the run's servers share and that is dropped
//! at the end, and sessions inserted straight into it, far more than logging in over HTTP could make.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The user agent of every inserted session: a browser's, so that the rows are as wide as real ones.
const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/// The client address of every inserted session, from a documentation range (RFC 5737).
const CLIENT_IP: &str = "192.0.2.1";

/// A fresh schema in the `--postgres` database; dropped, with everything in it, on drop.
#[derive(Debug)]
pub(super) struct Schema {
    admin_url: String,
    pub name: String,
    /// The database URL with the schema as its search path, for the servers and for `psql`.
    pub url: String,
}

/// One top-up of the sessions table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seeding {
    /// Rows inserted.
    pub added: u64,
    /// How long the `INSERT` took.
    pub insert: Duration,
    /// How long `VACUUM (ANALYZE) sessions` and the checkpoint after it took.
    pub settle: Duration,
}

impl Schema {
    /// Creates the schema `name`, which must be made of lower-case letters, digits and `_`, in the database of
    /// `admin_url`.
    pub(super) fn create(admin_url: &str, name: &str) -> anyhow::Result<Self> {
        if !name.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_') {
            bail!("`{name}` is not a plain schema name");
        }
        if admin_url.contains("options=") {
            bail!("the scale comparison sets its schema with the URL's `options`: give --postgres a URL without them");
        }
        psql(admin_url, &[&format!("CREATE SCHEMA {name}")]).context("cannot create the schema of the run")?;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{name}");
        Ok(Self { admin_url: admin_url.to_owned(), name: name.to_owned(), url })
    }

    /// Inserts sessions until the table holds `rows`, then vacuums and analyzes it, asks for a checkpoint and flushes
    /// the kernel's written pages to disk, so that neither autovacuum nor the writing of the inserted pages runs
    /// during the measurements that follow;
    /// `None` when the table held that many already.
    pub(super) fn seed_sessions(&self, rows: u64) -> anyhow::Result<Option<Seeding>> {
        let have = psql(&self.url, &["SELECT count(*) FROM sessions"])?;
        let have: u64 = have.parse().with_context(|| format!("psql counted `{have}` sessions"))?;
        let Some(added) = rows.checked_sub(have).filter(|added| *added > 0) else {
            return Ok(None);
        };
        eprintln!("bench: inserting {added} sessions with psql, up to {rows}");
        let started = Instant::now();
        // The sort by digest spills to disk with the default work_mem of 4 MB.
        psql(&self.url, &["SET work_mem = '256MB'", &insert_sessions(have + 1, added)])?;
        let insert = started.elapsed();
        let started = Instant::now();
        psql(&self.url, &["VACUUM (ANALYZE) sessions"])?;
        // CHECKPOINT needs a superuser or pg_checkpoint; without it the run goes on, and says so.
        if let Err(e) = psql(&self.url, &["CHECKPOINT"]) {
            eprintln!("bench: warning: no checkpoint after the insert, so it may write during the load: {e:#}");
        }
        // The checkpoint leaves its pages to the kernel, which would write them back during the first measurement.
        crate::cmd::run(&mut std::process::Command::new("sync")).context("cannot flush the written pages with sync")?;
        let seeding = Seeding { added, insert, settle: started.elapsed() };
        eprintln!(
            "bench: inserted {added} sessions in {:.1} s, vacuumed, analyzed and checkpointed in {:.1} s",
            insert.as_secs_f64(),
            seeding.settle.as_secs_f64()
        );
        Ok(Some(seeding))
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        match psql(&self.admin_url, &[&format!("DROP SCHEMA {} CASCADE", self.name)]) {
            Ok(_) => eprintln!("bench: dropped the schema {} and everything in it", self.name),
            Err(e) => eprintln!(
                "bench: warning: could not drop the schema {0}, drop it with `DROP SCHEMA {0} CASCADE`: {e:#}",
                self.name
            ),
        }
    }
}

/// The statement that inserts `count` sessions numbered from `first`, owned in turn by the users already there.
///
/// Each is a valid session of `migrations/postgres/`: its digest the SHA-512 of a text with its number (64 bytes
/// that look random, and that no token hashes to), its public id 22 characters of URL-safe base64; it was created
/// in the twelve hours before the insert, never used since, and is valid for a day from its creation (the default
/// `auth_token_validity`), so that none expires within twelve hours.
/// The rows go in by digest, and the public id (the digest's first 16 bytes) and the times follow that order, so
/// that each index fills its pages one after the other instead of reading and splitting pages at random.
fn insert_sessions(first: u64, count: u64) -> String {
    let last = first + count - 1;
    let half_day_ms = 12 * 3_600_000;
    let day_ms = 24 * 3_600_000;
    format!(
        "INSERT INTO sessions (digest, id, user_id, created_at, expires_at, last_used_at, user_agent, client_ip)
         SELECT digest,
                translate(rtrim(encode(substring(digest FROM 1 FOR 16), 'base64'), '='), '+/', '-_'),
                owners[1 + k % cardinality(owners)],
                inserted_at - {half_day_ms} + k * {half_day_ms} / {count},
                inserted_at - {half_day_ms} + k * {half_day_ms} / {count} + {day_ms},
                NULL,
                '{USER_AGENT}',
                '{CLIENT_IP}'
         FROM (SELECT digest,
                      row_number() OVER (ORDER BY digest) AS k,
                      (SELECT array_agg(id ORDER BY id) FROM users) AS owners,
                      (extract(epoch FROM now()) * 1000)::bigint AS inserted_at
               FROM (SELECT sha512(convert_to('authtoken-bench-session-' || n, 'UTF8')) AS digest
                     FROM generate_series({first}, {last}) AS n) AS drawn) AS sorted
         ORDER BY digest"
    )
}

/// Runs `psql` on `url` with each of `commands` in turn, in one session, and stops at the first error; returns what
/// it printed, unaligned and without headers. Errors show what psql said, never the command line with the URL.
fn psql(url: &str, commands: &[&str]) -> anyhow::Result<String> {
    let mut command = Command::new("psql");
    command.args(["--no-psqlrc", "--quiet", "--no-align", "--tuples-only", "--set", "ON_ERROR_STOP=1"]);
    command.args(["--dbname", url]);
    for sql in commands {
        command.args(["--command", sql]);
    }
    let output =
        command.output().context("cannot run psql: install it (Debian: `apt-get install -y postgresql-client`)")?;
    if !output.status.success() {
        bail!("psql failed ({}):\n{}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(admin_url: &str, name: &str, expected: &str) {
        let error = Schema::create(admin_url, name).map(|schema| schema.name.clone()).unwrap_err();
        assert_eq!(error.to_string(), expected, "{admin_url} {name}");
    }

    #[test]
    fn a_schema_is_refused_before_psql_runs_when_its_name_or_the_url_would_not_do() {
        check("postgres://h/db", "bench_1; DROP", "`bench_1; DROP` is not a plain schema name");
        check("postgres://h/db", "Bench", "`Bench` is not a plain schema name");
        check(
            "postgres://h/db?options=-c%20search_path%3Dmine",
            "bench_1",
            "the scale comparison sets its schema with the URL's `options`: give --postgres a URL without them",
        );
    }

    #[test]
    fn the_insert_numbers_its_sessions_after_those_already_there() {
        let sql = insert_sessions(65, 9_936);

        assert!(sql.contains("generate_series(65, 10000)"), "{sql}");
        assert!(sql.contains("k * 43200000 / 9936"), "{sql}");
    }
}
