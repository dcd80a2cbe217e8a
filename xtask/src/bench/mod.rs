//! `cargo xtask bench`: the release binary under wrk load on loopback, compared with the framework's ceiling
//! and with the raw Argon2id rate of the same machine, reported as a table and as JSON under `target/bench/`.
//! With `--idle-timeout`, it also compares authentication with and without the idle timeout (`idle.rs`); with
//! `--nodes` or `--sessions`, it compares authentication on several servers and with many sessions (`scale.rs`).

mod guessing;
mod http;
mod idle;
mod lua;
mod machine;
mod micro;
mod options;
mod psql;
mod raw_hash;
mod report;
mod scale;
mod scenarios;
mod server;
mod wrk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use authtoken_argon2::default_hash_concurrency;

use options::Plan;
pub(crate) use options::{Options, USAGE};

use crate::cmd::{cargo, run, target_dir};
use machine::CpuSample;
use raw_hash::HashParams;
use raw_hash::RawHashRate;
use report::{Noise, Report, share};
use server::Server;
use wrk::Wrk;

/// The server's Argon2id parameters unless `--set` changes them: the service's defaults, passed to the server
/// explicitly so that the raw rate is measured with exactly what the server runs.
const HASH_PARAMS: HashParams = HashParams::RECOMMENDED;

/// Runs the whole benchmark and writes its report.
pub(crate) fn bench(options: &Options) -> anyhow::Result<()> {
    let plan = options.plan();
    let started = SystemTime::now().duration_since(UNIX_EPOCH).context("the clock is before 1970")?.as_secs();
    let wrk = Wrk::find_or_install()?;
    eprintln!("bench: load generator {} at {} ({})", wrk.version, wrk.path.display(), wrk.origin);
    let target = target_dir()?;
    let binary = match &options.binary {
        Some(binary) => binary.clone(),
        None => {
            run(cargo().args(["build", "--release", "--bin", "authtoken"]))?;
            target.join("release/authtoken")
        }
    };
    if options.idle_only || options.guessing || options.scale() {
        let before = machine::foreign_load(Duration::from_secs(1));
        warn_if_busy("just before the run", before);
        let alone = Alone { options, plan: &plan, wrk: &wrk, binary: &binary, target: &target, started, before };
        return if options.idle_only {
            alone.idle()
        } else if options.guessing {
            alone.guessing()
        } else {
            alone.scale()
        };
    }
    let dir =
        tempfile::Builder::new().prefix("authtoken-bench-").tempdir().context("cannot make a temporary directory")?;
    let env = server_env(options, &dir.path().join("bench.sqlite3"));
    let params = hash_params(&env)?;
    let hash_threads = hash_threads(&env)?;
    let cpus = cpus();

    let before = machine::foreign_load(Duration::from_secs(1));
    warn_if_busy("just before the run", before);
    let (raw_before, raw_noise_before) = raw_hash_rate(params, hash_threads, plan.raw_hash)?;
    let server = Server::start(&binary, dir.path(), &env)?;
    eprintln!("bench: server listening on {} ({})", server.addr, options.database_name());
    let (rows, peak_rss, load_noise) = load(&server, &wrk, dir.path(), &plan, &env, started)
        .with_context(|| format!("the server's last log lines:\n{}", server.last_log()))?;
    server.stop()?;
    let (raw_after, raw_noise_after) = raw_hash_rate(params, hash_threads, plan.raw_hash)?;
    let idle = match options.idle_timeout {
        Some(_) => Some(idle::compare(&binary, &wrk, options, &plan, &format!("b{started}"))?),
        None => None,
    };
    if let Some(idle) = &idle {
        warn_if_busy("during the idle timeout comparison", idle.foreign());
    }
    let noise = Noise {
        before,
        during_raw: larger(raw_noise_before, raw_noise_after),
        during_load: load_noise,
        load_average: machine::load_average(),
    };
    warn_if_busy("during the measurements", larger(noise.during_raw, noise.during_load));

    let micro = if options.micro { Some(micro::run(options.long, &target)?) } else { None };
    let raw = [raw_before, raw_after];
    let report = Report { started, options, plan: &plan, wrk: &wrk, cpus, noise, raw, rows, peak_rss, micro, idle };
    println!("{}", report.table());
    let written = report.write(&target.join("bench"))?;
    println!("wrote {}", written.display());
    Ok(())
}

/// A comparison that runs alone (`--idle-only`, `--guessing`, `--nodes` or `--sessions`), and what every such run
/// knows before it starts.
#[derive(Debug)]
struct Alone<'a> {
    options: &'a Options,
    plan: &'a Plan,
    wrk: &'a Wrk,
    binary: &'a Path,
    target: &'a Path,
    started: u64,
    /// The share of the CPUs that other processes used just before the run.
    before: Option<f64>,
}

impl Alone<'_> {
    /// Runs the idle-timeout comparison alone, prints its table and writes `target/bench/<unix-time>-idle.json`.
    fn idle(&self) -> anyhow::Result<()> {
        let (options, plan, started) = (self.options, self.plan, self.started);
        let idle = idle::compare(self.binary, self.wrk, options, plan, &format!("b{started}"))?;
        warn_if_busy("during the measurements", idle.foreign());
        println!("authtoken bench --idle-only: {}, {}, run {started}", options.database_name(), self.load("leg"));
        println!(
            "other processes' share of the CPUs: {} before, at most {} during a leg\n",
            share(self.before),
            share(idle.foreign())
        );
        println!("{}", report::idle_table(&idle));
        let mut json = self.json("idle-only");
        json["load"] = self.load_json("seconds_per_leg");
        json["idle_timeout"] = idle.json();
        println!("wrote {}", self.write("idle", &json)?.display());
        Ok(())
    }

    /// `--guessing`: the attacks of `guessing.rs` and nothing else.
    fn guessing(&self) -> anyhow::Result<()> {
        let guessing = guessing::measure(self.binary, self.wrk, self.options, self.plan)?;
        println!(
            "authtoken bench --guessing: {}, default throttles, {} CPUs, run {}, other processes' share of the CPUs \
             before: {}\n",
            self.options.database_name(),
            cpus(),
            self.started,
            share(self.before),
        );
        println!("{}", guessing.table());
        let mut json = self.json("guessing");
        json["guessing"] = guessing.json();
        println!("\nwrote {}", self.write("guessing", &json)?.display());
        Ok(())
    }

    /// `--nodes` or `--sessions`: the scale comparison of `scale.rs` and nothing else.
    fn scale(&self) -> anyhow::Result<()> {
        let (options, plan, started) = (self.options, self.plan, self.started);
        let scale = scale::measure(self.binary, self.wrk, options, plan, started)?;
        let during = scale.sizes.iter().filter_map(|size| size.foreign).reduce(f64::max);
        warn_if_busy("during the measurements", during);
        println!(
            "authtoken bench, scale comparison: {} (schema {}, dropped), {} server{}, {}, run {started}",
            options.database_name(),
            scale.schema,
            scale.servers,
            if scale.servers == 1 { "" } else { "s" },
            self.load("scenario"),
        );
        println!(
            "other processes' share of the CPUs (PostgreSQL among them): {} before, at most {} during the loads of \
             one table size\n",
            share(self.before),
            share(during)
        );
        println!("{}", scale.table());
        let mut json = self.json("scale");
        json["load"] = self.load_json("seconds_per_scenario");
        json["scale"] = scale.json();
        println!("wrote {}", self.write("scale", &json)?.display());
        Ok(())
    }

    /// The load of each measurement, for the first line of the table: "5 s a leg, wrk -t2 -c64 (wrk 4.2.0), 2 CPUs".
    fn load(&self, measurement: &str) -> String {
        let plan = self.plan;
        let (seconds, threads, connections) = (plan.scenario.as_secs(), plan.threads, plan.connections);
        format!("{seconds} s a {measurement}, wrk -t{threads} -c{connections} ({}), {} CPUs", self.wrk.version, cpus())
    }

    /// The load of each measurement for the JSON report, its seconds under `seconds_key`.
    fn load_json(&self, seconds_key: &str) -> serde_json::Value {
        let plan = self.plan;
        serde_json::json!({
            seconds_key: plan.scenario.as_secs(),
            "connections": plan.connections,
            "threads": plan.threads,
        })
    }

    /// What the report says of the run and the machine; the caller adds what it measured.
    fn json(&self, mode: &str) -> serde_json::Value {
        serde_json::json!({
            "unix_time": self.started,
            "database": self.options.database_name(),
            "binary": self.options.binary.as_ref().map(|binary| binary.display().to_string()),
            "mode": mode,
            "machine": {
                "cpus": cpus(),
                "load_average_after": machine::load_average(),
                "foreign_cpu_share_before": self.before,
            },
        })
    }

    /// Writes the report as `target/bench/<unix-time>-<name>.json` (`latest.json` stays the last whole run); returns
    /// its path.
    fn write(&self, name: &str, json: &serde_json::Value) -> anyhow::Result<PathBuf> {
        let dir = self.target.join("bench");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(format!("{}-{name}.json", self.started));
        let text = serde_json::to_string_pretty(json).context("cannot serialise the report")?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }
}

/// Seeds the server and runs every scenario; returns the rows, the peak RSS at the end, and the share of the
/// CPUs that other processes used meanwhile.
fn load(
    server: &Server,
    wrk: &Wrk,
    dir: &Path,
    plan: &Plan,
    env: &BTreeMap<String, String>,
    started: u64,
) -> anyhow::Result<(Vec<scenarios::Row>, u64, Option<f64>)> {
    let runner = scenarios::Runner { wrk, server, dir, plan, prefix: prefix(env) };
    let before = CpuSample::now(&[server.pid()]);
    let rows = runner.run_all(&format!("b{started}"))?;
    let foreign = before.zip(CpuSample::now(&[server.pid()])).and_then(|(before, after)| after.foreign_since(&before));
    Ok((rows, server.peak_rss()?, foreign))
}

/// The raw Argon2id rate on as many threads as the server hashes on, and the share of the CPUs that other
/// processes used meanwhile.
fn raw_hash_rate(params: HashParams, threads: usize, duration: Duration) -> anyhow::Result<(RawHashRate, Option<f64>)> {
    eprintln!("bench: raw argon2id on {threads} threads for {} s", duration.as_secs());
    let before = CpuSample::now(&[]);
    let raw = raw_hash::measure(params, threads, duration)?;
    let foreign = before.zip(CpuSample::now(&[])).and_then(|(before, after)| after.foreign_since(&before));
    Ok((raw, foreign))
}

fn larger(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    [a, b].into_iter().flatten().reduce(f64::max)
}

fn warn_if_busy(when: &str, foreign: Option<f64>) {
    if let Some(foreign) = foreign.filter(|foreign| *foreign > 0.1) {
        eprintln!("bench: warning: other processes kept {:.0}% of the CPUs busy {when}", 100.0 * foreign);
    }
}

/// The server's environment besides what it inherits: the bench's `AUTHTOKEN_*` variables, then `--set`, then `--env`.
fn server_env(options: &Options, sqlite_path: &Path) -> BTreeMap<String, String> {
    let database_url = match &options.postgres {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", sqlite_path.display()),
    };
    let mut env = BTreeMap::from([
        ("AUTHTOKEN_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("AUTHTOKEN_DATABASE_URL".to_owned(), database_url),
        ("AUTHTOKEN_REGISTRATION_ENABLED".to_owned(), "true".to_owned()),
        // Warnings only, but the start-up line that names the port.
        ("AUTHTOKEN_LOG".to_owned(), "warn,authtoken_server::startup=info".to_owned()),
        ("AUTHTOKEN_PASSWORD_HASH_MEMORY_KIB".to_owned(), HASH_PARAMS.memory_kib.to_string()),
        ("AUTHTOKEN_PASSWORD_HASH_ITERATIONS".to_owned(), HASH_PARAMS.iterations.to_string()),
        ("AUTHTOKEN_PASSWORD_HASH_PARALLELISM".to_owned(), HASH_PARAMS.parallelism.to_string()),
        ("AUTHTOKEN_PASSWORD_HASH_CONCURRENCY".to_owned(), default_hash_concurrency(cpus()).to_string()),
        // The scenarios measure hashing and authentication from one address, which the throttles would answer 429
        // within a second; `--guessing` measures the throttles themselves, with their defaults.
        ("AUTHTOKEN_THROTTLE_ENABLED".to_owned(), "false".to_owned()),
    ]);
    for (name, value) in &options.settings {
        env.insert(format!("AUTHTOKEN_{}", name.to_uppercase()), value.clone());
    }
    for (name, value) in &options.env {
        env.insert(name.clone(), value.clone());
    }
    env
}

/// The prefix of the auth routes that the server's environment sets, without a trailing slash.
fn prefix(env: &BTreeMap<String, String>) -> &str {
    env.get("AUTHTOKEN_PREFIX").map_or("/auth", String::as_str).trim_end_matches('/')
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// How many hashes the server will run at once.
fn hash_threads(env: &BTreeMap<String, String>) -> anyhow::Result<usize> {
    let value = &env["AUTHTOKEN_PASSWORD_HASH_CONCURRENCY"];
    match value.parse() {
        Ok(0) => Ok(default_hash_concurrency(cpus())),
        Ok(n) => Ok(n),
        Err(_) => bail!("invalid setting `password_hash_concurrency`: `{value}`"),
    }
}

/// The Argon2id parameters the server will run with.
fn hash_params(env: &BTreeMap<String, String>) -> anyhow::Result<HashParams> {
    let read = |name: &str| -> anyhow::Result<u32> {
        let value = &env[&format!("AUTHTOKEN_PASSWORD_HASH_{name}")];
        value.parse().with_context(|| format!("invalid setting `password_hash_{}`: `{value}`", name.to_lowercase()))
    };
    Ok(HashParams {
        memory_kib: read("MEMORY_KIB")?,
        iterations: read("ITERATIONS")?,
        parallelism: read("PARALLELISM")?,
    })
}
