//! The scale comparison of issue 13 (`--nodes`, `--sessions`; PostgreSQL only): `GET {prefix}/me/` on one server
//! against the same load shared out over several servers on one database, and with a small sessions table against
//! a large one, each beside the `/healthz` ceiling of one server measured just before.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use super::machine::CpuSample;
use super::options::{Options, Plan, SMALL_TABLE};
use super::psql::{Schema, Seeding};
use super::report::{SCENARIO_HEADER, measurement_json, scenario_line, share};
use super::scenarios::{Runner, measure_side_by_side};
use super::server::Server;
use super::wrk::{Measurement, Wrk};

/// What the comparison measured.
#[derive(Debug)]
pub(super) struct Scale {
    /// The servers that shared the database.
    pub servers: usize,
    /// The connections of every load, shared out among the servers when they all run it.
    pub connections: usize,
    /// The schema the run made, and dropped, in the `--postgres` database.
    pub schema: String,
    /// The measurements at each size of the sessions table, the small one first.
    pub sizes: Vec<TableSize>,
}

/// The measurements with the sessions table at one size.
#[derive(Debug)]
pub(super) struct TableSize {
    /// Rows of the sessions table.
    pub sessions: u64,
    /// How the table was topped up to that size with psql; `None` if it held that many already.
    pub seeding: Option<Seeding>,
    /// `GET /healthz` on one server.
    pub ceiling: Measurement,
    /// `GET {prefix}/me/` on one server with all the connections.
    pub one: Measurement,
    /// The same on every server at once, when there are several.
    pub all: Option<Measurement>,
    /// The share of the CPUs that other processes, PostgreSQL among them, used during these measurements.
    pub foreign: Option<f64>,
}

/// Makes a fresh schema, starts the servers on it, seeds tokens over HTTP, and measures at the small table size and,
/// with `--sessions`, at the large one; stops the servers and drops the schema, also when a step fails.
pub(super) fn measure(binary: &Path, wrk: &Wrk, options: &Options, plan: &Plan, started: u64) -> anyhow::Result<Scale> {
    let url = options.postgres.as_deref().context("the scale comparison needs --postgres")?;
    let schema = Schema::create(url, &format!("bench_{started}"))?;
    eprintln!(
        "bench: the scale comparison runs in the fresh schema {0}; should the run be cut short, drop it with \
         DROP SCHEMA {0} CASCADE",
        schema.name
    );
    let dir = tempfile::Builder::new()
        .prefix("authtoken-bench-scale-")
        .tempdir()
        .context("cannot make a temporary directory")?;
    let mut env = super::server_env(options, &dir.path().join("bench.sqlite3"));
    env.insert("AUTHTOKEN_DATABASE_URL".to_owned(), schema.url.clone());
    // One after the other: the first applies the migrations to the empty schema.
    let servers: Vec<Server> =
        (0..options.servers()).map(|_| Server::start(binary, dir.path(), &env)).collect::<anyhow::Result<_>>()?;
    let prefix = super::prefix(&env);
    let runners: Vec<Runner<'_>> =
        servers.iter().map(|server| Runner { wrk, server, dir: dir.path(), plan, prefix }).collect();
    let sizes = measure_sizes(&runners, &schema, options, &format!("b{started}")).with_context(|| {
        let logs: Vec<String> = servers.iter().map(Server::last_log).collect();
        format!("the servers' last log lines:\n{}", logs.join("\n--\n"))
    })?;
    for server in servers {
        server.stop()?;
    }
    Ok(Scale { servers: options.servers(), connections: plan.connections, schema: schema.name.clone(), sizes })
}

/// Seeds tokens through the first server, then measures at each table size in turn.
fn measure_sizes(
    runners: &[Runner<'_>],
    schema: &Schema,
    options: &Options,
    run_id: &str,
) -> anyhow::Result<Vec<TableSize>> {
    let first = runners.first().context("no server to measure")?;
    // One token a connection; the servers share the database, so each accepts every token.
    let me = first.seed_me(run_id, first.plan.connections)?;
    let healthz = first.healthz_script()?;
    let mut sizes = Vec::new();
    for sessions in [Some(SMALL_TABLE), options.sessions].into_iter().flatten() {
        let seeding = schema.seed_sessions(sessions)?;
        eprintln!("bench: warming up for {} s with {sessions} sessions", first.plan.warm_up.as_secs());
        measure_side_by_side(runners, &me, first.plan.warm_up)?;
        let pids: Vec<u32> = runners.iter().map(|runner| runner.server.pid()).collect();
        let before = CpuSample::now(&pids);
        let seconds = first.plan.scenario.as_secs();
        eprintln!("bench: GET /healthz on one server for {seconds} s");
        let ceiling = first.measure(&healthz, first.plan.scenario)?;
        eprintln!("bench: GET /auth/me/ on one server for {seconds} s");
        let one = first.measure(&me, first.plan.scenario)?;
        let all = if runners.len() > 1 {
            eprintln!("bench: GET /auth/me/ on {} servers at once for {seconds} s", runners.len());
            Some(measure_side_by_side(runners, &me, first.plan.scenario)?)
        } else {
            None
        };
        let foreign = before.zip(CpuSample::now(&pids)).and_then(|(before, after)| after.foreign_since(&before));
        sizes.push(TableSize { sessions, seeding, ceiling, one, all, foreign });
    }
    Ok(sizes)
}

impl Scale {
    /// The tables printed at the end of the run: every load, the ratios, and the seeding.
    pub(super) fn table(&self) -> String {
        let mut out = self.loads();
        out.push_str("\n| ratio (requests/s) | measured | other processes |\n|---|---:|---:|\n");
        for ratio in self.ratios() {
            let _ = writeln!(out, "| {} | {:.1}% | {} |", ratio.name, 100.0 * ratio.value, share(ratio.foreign));
        }
        out.push_str("\n| sessions inserted with psql | rows | INSERT | VACUUM (ANALYZE) and CHECKPOINT |\n");
        out.push_str("|---|---:|---:|---:|\n");
        for size in &self.sizes {
            let Some(seeding) = &size.seeding else { continue };
            let (insert, settle) = (seeding.insert.as_secs_f64(), seeding.settle.as_secs_f64());
            let _ = writeln!(
                out,
                "| up to {} sessions | {} | {insert:.1} s | {settle:.1} s |",
                size.sessions, seeding.added
            );
        }
        out
    }

    pub(super) fn json(&self) -> serde_json::Value {
        let sizes: Vec<serde_json::Value> = self.sizes.iter().map(TableSize::json).collect();
        let ratios: Vec<serde_json::Value> = self
            .ratios()
            .into_iter()
            .map(|ratio| {
                serde_json::json!({ "name": ratio.name, "value": ratio.value, "foreign_cpu_share": ratio.foreign })
            })
            .collect();
        serde_json::json!({
            "servers": self.servers,
            "connections": self.connections,
            "schema": self.schema,
            "latency_of_several_servers": "the worst of any one server",
            "sizes": sizes,
            "ratios": ratios,
        })
    }

    /// The table of every load, one server's and all servers' at each table size.
    fn loads(&self) -> String {
        let servers = self.servers;
        let one = self.connections.to_string();
        let (fewest, most) = (self.connections / servers, self.connections.div_ceil(servers));
        let each = if fewest == most { fewest.to_string() } else { format!("{fewest}–{most}") };
        let all_connections = format!("{} ({each} a server)", self.connections);
        let mut out = SCENARIO_HEADER.to_owned();
        for size in &self.sizes {
            let n = size.sessions;
            out.push_str(&scenario_line(
                &format!("GET /healthz (ceiling), one server, {n} sessions"),
                &one,
                &size.ceiling,
            ));
            out.push_str(&scenario_line(&format!("GET /auth/me/, one server, {n} sessions"), &one, &size.one));
            if let Some(all) = &size.all {
                let label = format!("GET /auth/me/, {servers} servers at once, {n} sessions");
                out.push_str(&scenario_line(&label, &all_connections, all));
            }
        }
        if servers > 1 {
            out.push_str(
                "\nRows of several servers add up their requests; their p50 and p99 are the worst of any one server.\n",
            );
        }
        out
    }

    /// Authentication over the ceiling and all servers over one at each table size, then the large table over the
    /// small one; each with the largest share of the CPUs that other processes used while its loads ran.
    fn ratios(&self) -> Vec<Ratio> {
        let servers = self.servers;
        let mut ratios = Vec::new();
        for size in &self.sizes {
            let (n, foreign) = (size.sessions, size.foreign);
            ratios.push(Ratio::new(
                format!("auth / ceiling, one server, {n} sessions"),
                &size.one,
                &size.ceiling,
                foreign,
            ));
            if let Some(all) = &size.all {
                ratios.push(Ratio::new(
                    format!("auth / ceiling, {servers} servers, {n} sessions"),
                    all,
                    &size.ceiling,
                    foreign,
                ));
                ratios.push(Ratio::new(
                    format!("{servers} servers ÷ one server, {n} sessions"),
                    all,
                    &size.one,
                    foreign,
                ));
            }
        }
        if let [small, large] = self.sizes.as_slice() {
            let name = format!("{} sessions ÷ {} sessions", large.sessions, small.sessions);
            let foreign = super::larger(small.foreign, large.foreign);
            ratios.push(Ratio::new(format!("{name}, one server"), &large.one, &small.one, foreign));
            if let (Some(small_all), Some(large_all)) = (&small.all, &large.all) {
                ratios.push(Ratio::new(format!("{name}, {servers} servers"), large_all, small_all, foreign));
            }
        }
        ratios
    }
}

/// One rate over another.
#[derive(Debug)]
struct Ratio {
    name: String,
    value: f64,
    /// The largest share of the CPUs that other processes used during the two loads.
    foreign: Option<f64>,
}

impl Ratio {
    fn new(name: String, over: &Measurement, under: &Measurement, foreign: Option<f64>) -> Self {
        Self { name, value: over.rate() / under.rate().max(f64::EPSILON), foreign }
    }
}

impl TableSize {
    fn json(&self) -> serde_json::Value {
        let seeding = self.seeding.map(|seeding| {
            serde_json::json!({
                "added": seeding.added,
                "insert_seconds": seeding.insert.as_secs_f64(),
                "vacuum_analyze_checkpoint_seconds": seeding.settle.as_secs_f64(),
            })
        });
        serde_json::json!({
            "sessions": self.sessions,
            "seeding": seeding,
            "healthz_one_server": measurement_json(&self.ceiling),
            "me_one_server": measurement_json(&self.one),
            "me_all_servers": self.all.as_ref().map(measurement_json),
            "foreign_cpu_share": self.foreign,
        })
    }
}
