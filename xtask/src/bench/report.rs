//! The report: the table on stdout, the ratios and targets of issue 5, and the JSON under `target/bench/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use super::idle::{self, IdleComparison, TARGET_PERCENT};
use super::micro::Micro;
use super::options::{Options, Plan};
use super::raw_hash::RawHashRate;
use super::scenarios::{Row, Scenario};
use super::wrk::{Measurement, Wrk};

/// Everything one run measured.
#[derive(Debug)]
pub(super) struct Report<'a> {
    pub started: u64,
    pub options: &'a Options,
    pub plan: &'a Plan,
    pub wrk: &'a Wrk,
    pub cpus: usize,
    pub noise: Noise,
    /// The raw rate measured before and after the load; ratios use the faster.
    pub raw: [RawHashRate; 2],
    pub rows: Vec<Row>,
    pub peak_rss: u64,
    pub micro: Option<Vec<Micro>>,
    /// The idle-timeout comparison, when `--idle-timeout` asked for it.
    pub idle: Option<IdleComparison>,
}

/// How much of the CPUs other processes used (0 to 1): the machine is shared, and this says how far to trust a run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Noise {
    /// In the second before the run.
    pub before: Option<f64>,
    /// During the raw Argon2id measurements (the larger of the two).
    pub during_raw: Option<f64>,
    /// During the scenarios, from seeding to the end of the login flood.
    pub during_load: Option<f64>,
    /// The one-minute load average at the end.
    pub load_average: Option<f64>,
}

/// A target of issue 5 and the figure it is checked against.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Target {
    pub name: &'static str,
    pub value: f64,
    pub limit: f64,
    pub unit: &'static str,
    /// The value must be at least the limit (otherwise at most).
    pub at_least: bool,
}

impl Report<'_> {
    /// The Markdown tables printed at the end of a run (and pasted into `docs/performance.md`).
    pub(super) fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "authtoken bench: {}, {} s a scenario, wrk -t{} -c{} ({}), {} CPUs, run {}",
            self.options.database_name(),
            self.plan.scenario.as_secs(),
            self.plan.threads,
            self.plan.connections,
            self.wrk.version,
            self.cpus,
            self.started,
        );
        let _ = writeln!(
            out,
            "other processes' share of the CPUs: {} before, {} during the raw hashing, {} during the load\n",
            share(self.noise.before),
            share(self.noise.during_raw),
            share(self.noise.during_load),
        );
        out.push_str(SCENARIO_HEADER);
        for row in &self.rows {
            out.push_str(&scenario_line(row.scenario.label(), &row.connections.to_string(), &row.measurement));
        }
        let raw = self.fastest_raw();
        let _ = writeln!(
            out,
            "| raw argon2id m={},t={},p={}, on {} (the server's hashing threads; before / after the load) | | {} / {} hashes/s | {} a hash | | |",
            raw.params.memory_kib,
            raw.params.iterations,
            raw.params.parallelism,
            if raw.threads == 1 { "1 thread".to_owned() } else { format!("{} threads", raw.threads) },
            rate(self.raw[0].rate()),
            rate(self.raw[1].rate()),
            millis(raw.per_hash())
        );
        let _ = writeln!(out, "| server peak RSS (VmHWM) | | {:.1} MB | | | |", self.peak_rss as f64 / 1e6);
        out.push_str("\n| target (issue 5) | measured | target | result |\n|---|---:|---:|---|\n");
        for target in self.targets() {
            let _ = writeln!(
                out,
                "| {} | {} | {} {} | {} |",
                target.name,
                target.show(target.value),
                if target.at_least { "≥" } else { "≤" },
                target.show(target.limit),
                target.verdict()
            );
        }
        if let Some(idle) = &self.idle {
            out.push('\n');
            out.push_str(&idle_table(idle));
        }
        if let Some(micro) = &self.micro {
            out.push_str("\n| micro-benchmark (criterion) | time |\n|---|---:|\n");
            for m in micro {
                let _ = writeln!(out, "| {} | {} |", m.id, nanos(m.time));
            }
        }
        out
    }

    /// The targets of issue 5, checked against this run.
    pub(super) fn targets(&self) -> Vec<Target> {
        let p99 = |s| self.measurement(s).map_or(f64::NAN, |m| m.p99.as_secs_f64() * 1e3);
        vec![
            Target {
                name: "auth / ceiling (me ÷ healthz req/s)",
                value: 100.0 * self.auth_over_ceiling(),
                limit: 60.0,
                unit: "%",
                at_least: true,
            },
            Target { name: "GET /auth/me/ p99", value: p99(Scenario::Me), limit: 5.0, unit: "ms", at_least: false },
            Target {
                name: "login / raw argon2id rate",
                value: 100.0 * self.login_over_raw(),
                limit: 90.0,
                unit: "%",
                at_least: true,
            },
            Target {
                name: "GET /auth/me/ p99 during login flood",
                value: p99(Scenario::MeDuringFlood),
                limit: 10.0,
                unit: "ms",
                at_least: false,
            },
            Target {
                name: "server peak RSS",
                value: self.peak_rss as f64 / 1e6,
                limit: 50.0,
                unit: "MB",
                at_least: false,
            },
        ]
    }

    /// Writes `<dir>/<started>.json` and `<dir>/latest.json`; returns the first.
    pub(super) fn write(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let json = serde_json::to_string_pretty(&self.json()).context("cannot serialise the report")?;
        let path = dir.join(format!("{}.json", self.started));
        for file in [&path, &dir.join("latest.json")] {
            std::fs::write(file, &json).with_context(|| format!("cannot write {}", file.display()))?;
        }
        Ok(path)
    }

    fn json(&self) -> serde_json::Value {
        let scenarios: Vec<serde_json::Value> = self.rows.iter().map(row_json).collect();
        let targets: Vec<serde_json::Value> = self
            .targets()
            .iter()
            .map(|t| serde_json::json!({ "name": t.name, "value": t.value, "limit": t.limit, "unit": t.unit, "at_least": t.at_least, "met": t.met() }))
            .collect();
        let micro = self.micro.as_ref().map(|micro| {
            micro
                .iter()
                .map(|m| (m.id.to_owned(), serde_json::json!(m.time.as_secs_f64() * 1e9)))
                .collect::<serde_json::Map<_, _>>()
        });
        serde_json::json!({
            "unix_time": self.started,
            "database": self.options.database_name(),
            "binary": self.options.binary.as_ref().map(|binary| binary.display().to_string()),
            "mode": if self.options.long { "long" } else { "short" },
            "machine": {
                "cpus": self.cpus,
                "load_average_after": self.noise.load_average,
                "foreign_cpu_share": {
                    "before": self.noise.before,
                    "during_raw_argon2id": self.noise.during_raw,
                    "during_load": self.noise.during_load,
                },
            },
            "load_generator": { "name": "wrk", "version": self.wrk.version, "origin": self.wrk.origin },
            "load": {
                "seconds_per_scenario": self.plan.scenario.as_secs(),
                "connections": self.plan.connections,
                "threads": self.plan.threads,
                "login_flood_connections": self.plan.flood_connections,
                "env": self.options.env.iter().map(|(name, value)| (name.clone(), serde_json::json!(value))).collect::<serde_json::Map<_, _>>(),
                "settings": self.options.settings.iter().map(|(name, value)| (name.clone(), serde_json::json!(value))).collect::<serde_json::Map<_, _>>(),
            },
            "scenarios": scenarios,
            "raw_argon2id": {
                "memory_kib": self.raw[0].params.memory_kib,
                "iterations": self.raw[0].params.iterations,
                "parallelism": self.raw[0].params.parallelism,
                "threads": self.raw[0].threads,
                "hashes_per_second": self.fastest_raw().rate(),
                "ms_per_hash_per_thread": self.fastest_raw().per_hash().as_secs_f64() * 1e3,
                "runs": self.raw.iter().map(raw_json).collect::<Vec<_>>(),
            },
            "peak_rss_bytes": self.peak_rss,
            "ratios": { "auth_over_ceiling": self.auth_over_ceiling(), "login_over_raw_argon2id": self.login_over_raw() },
            "targets": targets,
            "idle_timeout": self.idle.as_ref().map(IdleComparison::json),
            "micro_ns": micro,
        })
    }

    fn measurement(&self, scenario: Scenario) -> Option<&Measurement> {
        self.rows.iter().find(|row| row.scenario == scenario).map(|row| &row.measurement)
    }

    fn auth_over_ceiling(&self) -> f64 {
        let rate = |s| self.measurement(s).map_or(0.0, Measurement::rate);
        rate(Scenario::Me) / rate(Scenario::Healthz).max(f64::EPSILON)
    }

    fn login_over_raw(&self) -> f64 {
        self.measurement(Scenario::Login).map_or(0.0, Measurement::rate) / self.fastest_raw().rate().max(f64::EPSILON)
    }

    /// The faster raw measurement: a slower one was slowed by other processes, and using the faster one never
    /// flatters the login ratio.
    fn fastest_raw(&self) -> &RawHashRate {
        let [before, after] = &self.raw;
        if after.rate() > before.rate() { after } else { before }
    }
}

impl Target {
    pub(super) fn met(&self) -> bool {
        if self.at_least { self.value >= self.limit } else { self.value <= self.limit }
    }

    /// "met", or "missed by" the gap: in points for a percentage, and otherwise with how far off it is.
    pub(super) fn verdict(&self) -> String {
        if self.value.is_nan() {
            return "not measured".to_owned();
        }
        if self.met() {
            return "met".to_owned();
        }
        let gap = (self.value - self.limit).abs();
        match (self.unit, self.at_least) {
            ("%", _) => format!("missed by {gap:.1} points"),
            (_, true) => format!("missed by {} ({:.0}% short)", self.show(gap), 100.0 * gap / self.limit),
            (_, false) => format!("missed by {} ({:.1}× the target)", self.show(gap), self.value / self.limit),
        }
    }

    fn show(&self, value: f64) -> String {
        match self.unit {
            "%" => format!("{value:.1}%"),
            unit => format!("{value:.1} {unit}"),
        }
    }
}

/// The legs of the idle-timeout comparison, each side's rate over its legs, and the target of issue 11.
pub(super) fn idle_table(idle: &IdleComparison) -> String {
    let mut out = format!(
        "| idle timeout comparison, {} tokens | requests/s | p50 | p99 | errors | other processes |\n\
         |---|---:|---:|---:|---:|---:|\n",
        idle.sessions
    );
    for (n, leg) in idle.legs.iter().enumerate() {
        let m = &leg.measurement;
        let _ = writeln!(
            out,
            "| leg {}: {} | {} | {} | {} | {} | {} |",
            n + 1,
            idle::label(leg.idle, &idle.timeout, &idle.resolution),
            rate(m.rate()),
            millis(m.p50),
            millis(m.p99),
            m.errors.total(),
            share(leg.foreign)
        );
    }
    for on in [false, true] {
        let label = idle::label(on, &idle.timeout, &idle.resolution);
        let _ = writeln!(out, "| {label}, all its legs | {} | | | | |", rate(idle.rate(on)));
    }
    let target = Target {
        name: "me with the idle timeout ÷ without (req/s)",
        value: 100.0 * idle.ratio(),
        limit: TARGET_PERCENT,
        unit: "%",
        at_least: true,
    };
    out.push_str("\n| target (issue 11) | measured | target | result |\n|---|---:|---:|---|\n");
    let (value, limit) = (target.show(target.value), target.show(target.limit));
    let _ = writeln!(out, "| {} | {value} | ≥ {limit} | {} |", target.name, target.verdict());
    out
}

fn row_json(row: &Row) -> serde_json::Value {
    let mut json = serde_json::Map::new();
    json.insert("name".to_owned(), row.scenario.key().into());
    json.insert("label".to_owned(), row.scenario.label().into());
    json.insert("connections".to_owned(), row.connections.into());
    json.extend(measurement_json(&row.measurement));
    json.insert("peak_rss_bytes_after".to_owned(), row.peak_rss_after.into());
    json.insert("server_threads_after".to_owned(), row.threads_after.into());
    serde_json::Value::Object(json)
}

/// The head of a table of scenarios, as [`scenario_line`] writes their lines.
pub(super) const SCENARIO_HEADER: &str =
    "| scenario | connections | requests/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|\n";

/// One scenario's line in a table: its label, connections, requests a second, p50, p99 and errors.
pub(super) fn scenario_line(label: &str, connections: &str, m: &Measurement) -> String {
    format!(
        "| {label} | {connections} | {} | {} | {} | {} |\n",
        rate(m.rate()),
        millis(m.p50),
        millis(m.p99),
        m.errors.total()
    )
}

/// What wrk measured, as the fields of a scenario in the JSON report.
pub(super) fn measurement_json(m: &Measurement) -> serde_json::Map<String, serde_json::Value> {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let json = serde_json::json!({
        "requests": m.requests,
        "seconds": m.duration.as_secs_f64(),
        "requests_per_second": m.rate(),
        "p50_ms": ms(m.p50),
        "p90_ms": ms(m.p90),
        "p99_ms": ms(m.p99),
        "max_ms": ms(m.max),
        "errors": {
            "total": m.errors.total(),
            "status_4xx_5xx": m.errors.status,
            "connect": m.errors.connect,
            "read": m.errors.read,
            "write": m.errors.write,
            "timeout": m.errors.timeout,
        },
    });
    match json {
        serde_json::Value::Object(fields) => fields,
        _ => serde_json::Map::new(),
    }
}

fn raw_json(raw: &RawHashRate) -> serde_json::Value {
    serde_json::json!({
        "hashes": raw.hashes,
        "seconds": raw.elapsed.as_secs_f64(),
        "hashes_per_second": raw.rate(),
    })
}

pub(super) fn share(foreign: Option<f64>) -> String {
    foreign.map_or_else(|| "?".to_owned(), |foreign| format!("{:.0}%", 100.0 * foreign))
}

fn rate(per_second: f64) -> String {
    if per_second >= 1000.0 { format!("{per_second:.0}") } else { format!("{per_second:.1}") }
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    match ms {
        ms if ms < 10.0 => format!("{ms:.2} ms"),
        ms if ms < 1000.0 => format!("{ms:.1} ms"),
        ms => format!("{ms:.0} ms"),
    }
}

fn nanos(d: Duration) -> String {
    match d.as_nanos() {
        n if n < 10_000 => format!("{n} ns"),
        n if n < 10_000_000 => format!("{:.1} µs", n as f64 / 1e3),
        n => format!("{:.1} ms", n as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(value: f64, limit: f64, unit: &'static str, at_least: bool, expected: &str) {
        let target = Target { name: "t", value, limit, unit, at_least };
        assert_eq!(target.verdict(), expected, "{value} vs {limit}");
    }

    #[test]
    fn verdicts_say_by_how_much_a_target_is_missed() {
        check(4.0, 5.0, "ms", false, "met");
        check(5.0, 5.0, "ms", false, "met");
        check(7.5, 5.0, "ms", false, "missed by 2.5 ms (1.5× the target)");
        check(60.0, 60.0, "%", true, "met");
        check(45.0, 60.0, "%", true, "missed by 15.0 points");
        check(45.0, 60.0, "req/s", true, "missed by 15.0 req/s (25% short)");
        check(f64::NAN, 5.0, "ms", false, "not measured");
    }

    #[track_caller]
    fn check_millis(micros: u64, expected: &str) {
        assert_eq!(millis(Duration::from_micros(micros)), expected);
    }

    #[test]
    fn latencies_keep_three_significant_figures() {
        check_millis(612, "0.61 ms");
        check_millis(12_345, "12.3 ms");
        check_millis(1_234_567, "1235 ms");
    }
}
