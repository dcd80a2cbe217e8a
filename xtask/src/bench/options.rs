//! The command line of `cargo xtask bench`, and the plan of durations it implies.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

pub(crate) const USAGE: &str = "usage: cargo xtask bench [options]

Builds the release binary, starts it on port 0 with a fresh SQLite database in a temporary directory, seeds users
and tokens, drives each scenario with wrk, measures the raw argon2id rate on this machine, prints a table and writes
target/bench/<unix-time>.json and target/bench/latest.json.

options:
  --long               careful run: 30 s a scenario instead of 5 s (about 4 minutes in all)
  --seconds N          seconds a scenario (overrides the default of --long or the short run)
  --connections N      wrk connections (default 64)
  --threads N          wrk threads (default 2)
  --postgres URL       run the server on this PostgreSQL database instead of SQLite
  --set NAME=VALUE     a server setting, given to it as AUTHTOKEN_<NAME>=VALUE (repeatable), for what-if runs
  --env NAME=VALUE     any other variable for the server process, e.g. MALLOC_ARENA_MAX=2 (repeatable)
  --binary PATH        bench this authtoken binary instead of building target/release/authtoken (A/B runs)
  --micro              also run the criterion micro-benchmarks of authtoken-core
  --idle-timeout D     also compare GET /auth/me/ on a server with auth_token_idle_timeout=D (e.g. 15m) against
                       one with the defaults, one token a connection, in turns (off, on, on, off), and report the
                       ratio of their rates (issue 11: at least 95%)
  --idle-resolution D  last_used_resolution of the server with the idle timeout (default 1s, so that each token's
                       use is written once a second; the default of 1m writes each token once in a short run)
  --idle-only          run only that comparison (needs --idle-timeout): no other scenario, no raw argon2id
  --guessing           run only the guessing attacks, on a server with the default throttles: one from one address
                       (at least 100 s), one from a new address every request, each beside a second client that
                       logs in to another account once a second (about 2.5 minutes)
  --nodes N            run only the scale comparison (needs --postgres): GET /auth/me/ on N servers that share the
                       database, all at once (one wrk a server, the connections shared out, the rates added, the
                       worst p99 shown), against one of them alone with all the connections, each time beside the
                       GET /healthz ceiling of one server
  --sessions N         run only the scale comparison (needs --postgres; with --nodes on N servers too), first with
                       the sessions table at 10000 rows, then at N rows (e.g. 10000000): the rows are inserted with
                       psql (on PATH) straight into the database, and the report says how long that took

The scale comparison (--nodes, --sessions) runs in a fresh schema of the --postgres database, dropped at the end, with
the sessions table topped up with psql to 10000 rows before its first GET /auth/me/.";

/// Rows of the sessions table in the scale comparison's first half, the table size that `--sessions` is compared with.
pub(crate) const SMALL_TABLE: u64 = 10_000;

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub long: bool,
    pub seconds: Option<u64>,
    pub connections: usize,
    pub threads: usize,
    pub postgres: Option<String>,
    /// `(name, value)` pairs from `--set`, the name in lower case.
    pub settings: Vec<(String, String)>,
    /// `(name, value)` pairs from `--env`, as given.
    pub env: Vec<(String, String)>,
    /// A prebuilt binary to bench instead of building the release one.
    pub binary: Option<PathBuf>,
    pub micro: bool,
    /// `auth_token_idle_timeout` of the idle-timeout comparison; `None` runs no comparison.
    pub idle_timeout: Option<String>,
    /// `last_used_resolution` of the server with the idle timeout.
    pub idle_resolution: String,
    /// Run the idle-timeout comparison and nothing else.
    pub idle_only: bool,
    /// Run the guessing attacks and nothing else.
    pub guessing: bool,
    /// `--nodes`: servers that share the PostgreSQL database in the scale comparison.
    pub nodes: Option<usize>,
    /// `--sessions`: rows of the sessions table in the scale comparison's second half.
    pub sessions: Option<u64>,
}

/// How long each part of the run takes, and how hard it pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub scenario: Duration,
    pub warm_up: Duration,
    pub raw_hash: Duration,
    pub connections: usize,
    pub threads: usize,
    /// Connections of the login flood that runs beside the authenticated load.
    pub flood_connections: usize,
    /// Users (each with one token) seeded before the load.
    pub users: usize,
}

impl Options {
    pub(crate) fn parse(args: &[&str]) -> anyhow::Result<Self> {
        let mut options = Self {
            long: false,
            seconds: None,
            connections: 64,
            threads: 2,
            postgres: None,
            settings: Vec::new(),
            env: Vec::new(),
            binary: None,
            micro: false,
            idle_timeout: None,
            idle_resolution: "1s".to_owned(),
            idle_only: false,
            guessing: false,
            nodes: None,
            sessions: None,
        };
        let mut args = args.iter().copied();
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("`{arg}` needs a value\n\n{USAGE}"));
            match arg {
                "--long" => options.long = true,
                "--micro" => options.micro = true,
                "--seconds" => options.seconds = Some(positive(arg, value()?)?),
                "--connections" => options.connections = positive(arg, value()?)?,
                "--threads" => options.threads = positive(arg, value()?)?,
                "--postgres" => options.postgres = Some(value()?.to_owned()),
                "--set" => {
                    let (name, value) = name_value(arg, value()?)?;
                    options.settings.push((name.to_lowercase(), value));
                }
                "--env" => options.env.push(name_value(arg, value()?)?),
                "--binary" => options.binary = Some(PathBuf::from(value()?)),
                "--idle-timeout" => options.idle_timeout = Some(value()?.to_owned()),
                "--idle-resolution" => options.idle_resolution = value()?.to_owned(),
                "--idle-only" => options.idle_only = true,
                "--guessing" => options.guessing = true,
                "--nodes" => options.nodes = Some(positive(arg, value()?)?),
                "--sessions" => options.sessions = Some(positive(arg, value()?)?),
                _ => bail!("unknown option `{arg}`\n\n{USAGE}"),
            }
        }
        if options.threads > options.connections {
            bail!("--threads ({}) must not exceed --connections ({})", options.threads, options.connections);
        }
        if options.idle_only && options.idle_timeout.is_none() {
            bail!("--idle-only needs --idle-timeout, e.g. --idle-timeout 15m");
        }
        options.check_scale()?;
        Ok(options)
    }

    pub(crate) fn plan(&self) -> Plan {
        let default_seconds = if self.long { 30 } else { 5 };
        Plan {
            scenario: Duration::from_secs(self.seconds.unwrap_or(default_seconds)),
            warm_up: Duration::from_secs(if self.long { 5 } else { 1 }),
            raw_hash: Duration::from_secs(if self.long { 15 } else { 4 }),
            connections: self.connections,
            threads: self.threads,
            flood_connections: (self.connections / 4).max(1),
            users: 8,
        }
    }

    /// Whether `--nodes` or `--sessions` asked for the scale comparison, which runs alone.
    pub(crate) fn scale(&self) -> bool {
        self.nodes.is_some() || self.sessions.is_some()
    }

    /// The servers of the scale comparison: `--nodes`, or one.
    pub(crate) fn servers(&self) -> usize {
        self.nodes.unwrap_or(1)
    }

    /// `--nodes` and `--sessions` need PostgreSQL and run alone.
    fn check_scale(&self) -> anyhow::Result<()> {
        if !self.scale() {
            return Ok(());
        }
        let option = if self.nodes.is_some() { "--nodes" } else { "--sessions" };
        if self.postgres.is_none() {
            bail!("{option} needs --postgres URL: the servers and the seeded sessions share one PostgreSQL database");
        }
        if self.idle_only || self.guessing {
            bail!("{option} runs alone: leave out --idle-only and --guessing");
        }
        if self.servers() > self.connections {
            bail!(
                "--nodes ({}) must not exceed --connections ({}): each server needs one",
                self.servers(),
                self.connections
            );
        }
        match self.sessions {
            Some(sessions) if sessions <= SMALL_TABLE => {
                bail!("--sessions ({sessions}) must be more than {SMALL_TABLE}, the small table it is compared with")
            }
            _ => Ok(()),
        }
    }

    /// The database kind, without the URL (which may hold a password).
    pub(crate) fn database_name(&self) -> &'static str {
        if self.postgres.is_some() { "postgres" } else { "sqlite" }
    }
}

fn name_value(option: &str, text: &str) -> anyhow::Result<(String, String)> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.to_owned())),
        _ => bail!("`{option} {text}` is not NAME=VALUE"),
    }
}

fn positive<T: std::str::FromStr + PartialOrd + From<u8>>(option: &str, value: &str) -> anyhow::Result<T> {
    match value.parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => bail!("`{option}` needs a positive whole number, not `{value}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(args: &[&str], expected: Result<&str, &str>) {
        let got = match Options::parse(args) {
            Ok(o) => Ok(format!(
                "long={} seconds={:?} c={} t={} pg={:?} set={:?} micro={}",
                o.long, o.seconds, o.connections, o.threads, o.postgres, o.settings, o.micro
            )),
            Err(e) => Err(e.to_string().lines().next().unwrap_or_default().to_owned()),
        };
        assert_eq!(got.as_deref(), expected.map_err(str::to_owned).as_deref(), "{args:?}");
    }

    #[test]
    fn options_parse_like_the_usage_says() {
        check(&[], Ok("long=false seconds=None c=64 t=2 pg=None set=[] micro=false"));
        check(&["--long", "--micro"], Ok("long=true seconds=None c=64 t=2 pg=None set=[] micro=true"));
        check(
            &["--seconds", "3", "--connections", "8", "--threads", "1"],
            Ok("long=false seconds=Some(3) c=8 t=1 pg=None set=[] micro=false"),
        );
        check(
            &["--postgres", "postgres://p@h/db"],
            Ok("long=false seconds=None c=64 t=2 pg=Some(\"postgres://p@h/db\") set=[] micro=false"),
        );
        check(
            &["--set", "PASSWORD_HASH_CONCURRENCY=1"],
            Ok("long=false seconds=None c=64 t=2 pg=None set=[(\"password_hash_concurrency\", \"1\")] micro=false"),
        );
        check(&["--set", "x"], Err("`--set x` is not NAME=VALUE"));
        check(&["--env", "=1"], Err("`--env =1` is not NAME=VALUE"));
        check(&["--seconds"], Err("`--seconds` needs a value"));
        check(&["--seconds", "0"], Err("`--seconds` needs a positive whole number, not `0`"));
        check(&["--threads", "9", "--connections", "8"], Err("--threads (9) must not exceed --connections (8)"));
        check(&["--fast"], Err("unknown option `--fast`"));
    }

    #[test]
    fn the_idle_timeout_comparison_is_asked_for_with_its_own_options() {
        let plain = Options::parse(&[]).unwrap();
        let compared = Options::parse(&["--idle-timeout", "15m"]).unwrap();
        let alone = Options::parse(&["--idle-only", "--idle-timeout", "15m", "--idle-resolution", "2s"]).unwrap();

        assert_eq!((plain.idle_timeout, plain.idle_resolution.as_str(), plain.idle_only), (None, "1s", false));
        assert_eq!((compared.idle_timeout.as_deref(), compared.idle_only), (Some("15m"), false));
        assert_eq!(
            (alone.idle_timeout.as_deref(), alone.idle_resolution.as_str(), alone.idle_only),
            (Some("15m"), "2s", true)
        );
        check(&["--idle-only"], Err("--idle-only needs --idle-timeout, e.g. --idle-timeout 15m"));
        check(&["--idle-timeout"], Err("`--idle-timeout` needs a value"));
    }

    #[test]
    fn the_scale_comparison_needs_postgres_and_runs_alone() {
        let pg = ["--postgres", "postgres://p@h/db"];
        let plain = Options::parse(&pg).unwrap();
        let nodes = Options::parse(&[&pg[..], &["--nodes", "3"]].concat()).unwrap();
        let sessions = Options::parse(&[&pg[..], &["--sessions", "10000000"]].concat()).unwrap();
        let both = Options::parse(&[&pg[..], &["--nodes", "2", "--sessions", "20000"]].concat()).unwrap();

        assert_eq!((plain.scale(), plain.servers(), plain.sessions), (false, 1, None));
        assert_eq!((nodes.scale(), nodes.servers(), nodes.sessions), (true, 3, None));
        assert_eq!((sessions.scale(), sessions.servers(), sessions.sessions), (true, 1, Some(10_000_000)));
        assert_eq!((both.scale(), both.servers(), both.sessions), (true, 2, Some(20_000)));
        check(
            &["--nodes", "3"],
            Err("--nodes needs --postgres URL: the servers and the seeded sessions share one PostgreSQL database"),
        );
        check(
            &["--sessions", "20000"],
            Err("--sessions needs --postgres URL: the servers and the seeded sessions share one PostgreSQL database"),
        );
        check(&[&pg[..], &["--nodes", "0"]].concat(), Err("`--nodes` needs a positive whole number, not `0`"));
        check(&[&pg[..], &["--sessions"]].concat(), Err("`--sessions` needs a value"));
        check(
            &[&pg[..], &["--sessions", "10000"]].concat(),
            Err("--sessions (10000) must be more than 10000, the small table it is compared with"),
        );
        check(
            &[&pg[..], &["--nodes", "9", "--connections", "8"]].concat(),
            Err("--nodes (9) must not exceed --connections (8): each server needs one"),
        );
        check(
            &[&pg[..], &["--nodes", "2", "--guessing"]].concat(),
            Err("--nodes runs alone: leave out --idle-only and --guessing"),
        );
    }

    #[test]
    fn the_short_run_is_short_and_the_long_one_careful() {
        let short = Options::parse(&[]).unwrap().plan();
        let long = Options::parse(&["--long"]).unwrap().plan();

        assert_eq!(short.scenario, Duration::from_secs(5));
        assert_eq!(long.scenario, Duration::from_secs(30));
        assert_eq!(short.flood_connections, 16);
    }
}
