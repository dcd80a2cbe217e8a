//! The idle-timeout comparison of issue 11: `GET {prefix}/me/` on a server with `auth_token_idle_timeout` and a short
//! `last_used_resolution`, whose requests write each session's last use once per resolution, against a server with
//! the defaults, measured in turns so that both sides meet the same machine.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;

use super::machine::CpuSample;
use super::options::{Options, Plan};
use super::scenarios::Runner;
use super::server::Server;
use super::wrk::{Measurement, Wrk};

/// The target of issue 11: authenticated requests per second with the idle timeout on, in percent of those without.
pub(super) const TARGET_PERCENT: f64 = 95.0;

/// Which server each leg loads: off, on, on, off, so that a machine that speeds up or slows down during the
/// comparison moves both sides alike.
const ORDER: [bool; 4] = [false, true, true, false];

/// What the comparison measured.
#[derive(Debug)]
pub(super) struct IdleComparison {
    /// `auth_token_idle_timeout` of the server with the idle timeout.
    pub timeout: String,
    /// Its `last_used_resolution`; the other server keeps the default.
    pub resolution: String,
    /// Tokens seeded on each server, one a connection, each written once per resolution under load.
    pub sessions: usize,
    /// The legs in the order they ran.
    pub legs: Vec<Leg>,
}

/// One wrk run on one of the two servers.
#[derive(Debug)]
pub(super) struct Leg {
    /// Whether the server had the idle timeout.
    pub idle: bool,
    pub measurement: Measurement,
    /// The share of the CPUs that other processes used during the leg.
    pub foreign: Option<f64>,
}

/// Starts a server without and one with the idle timeout, seeds both, warms both up and loads them in turns.
pub(super) fn compare(
    binary: &Path,
    wrk: &Wrk,
    options: &Options,
    plan: &Plan,
    run_id: &str,
) -> anyhow::Result<IdleComparison> {
    let timeout = options.idle_timeout.clone().context("the comparison needs --idle-timeout")?;
    let resolution = options.idle_resolution.clone();
    let sessions = plan.connections;
    eprintln!("bench: idle timeout {timeout} with last_used_resolution {resolution} against the defaults");
    let idle_env = [
        ("AUTHTOKEN_AUTH_TOKEN_IDLE_TIMEOUT".to_owned(), timeout.clone()),
        ("AUTHTOKEN_LAST_USED_RESOLUTION".to_owned(), resolution.clone()),
    ];
    let sides = [Side::start(binary, options, [])?, Side::start(binary, options, idle_env)?];
    let scripts = [
        sides[0].runner(wrk, plan).seed_me(&format!("{run_id}-idle-off"), sessions)?,
        sides[1].runner(wrk, plan).seed_me(&format!("{run_id}-idle-on"), sessions)?,
    ];
    eprintln!("bench: warming up both servers for {} s each", plan.warm_up.as_secs());
    for (side, script) in sides.iter().zip(&scripts) {
        side.runner(wrk, plan).measure(script, plan.warm_up)?;
    }
    let mut legs = Vec::new();
    for idle in ORDER {
        let (side, script) = (&sides[usize::from(idle)], &scripts[usize::from(idle)]);
        eprintln!("bench: {} for {} s", label(idle, &timeout, &resolution), plan.scenario.as_secs());
        let before = CpuSample::now(&[side.server.pid()]);
        let measurement = side
            .runner(wrk, plan)
            .measure(script, plan.scenario)
            .with_context(|| format!("the server's last log lines:\n{}", side.server.last_log()))?;
        let after = CpuSample::now(&[side.server.pid()]);
        let foreign = before.zip(after).and_then(|(before, after)| after.foreign_since(&before));
        legs.push(Leg { idle, measurement, foreign });
    }
    for side in sides {
        side.server.stop()?;
    }
    Ok(IdleComparison { timeout, resolution, sessions, legs })
}

/// The label of a leg in the table.
pub(super) fn label(idle: bool, timeout: &str, resolution: &str) -> String {
    if idle {
        format!("GET /auth/me/, idle timeout {timeout}, last_used_resolution {resolution}")
    } else {
        "GET /auth/me/, no idle timeout".to_owned()
    }
}

impl IdleComparison {
    /// Requests a second over the legs of one side, failed ones included as in every scenario.
    pub(super) fn rate(&self, idle: bool) -> f64 {
        let legs = self.legs.iter().filter(|leg| leg.idle == idle);
        let (requests, seconds) = legs.fold((0, 0.0), |(requests, seconds), leg| {
            (requests + leg.measurement.requests, seconds + leg.measurement.duration.as_secs_f64())
        });
        requests as f64 / f64::max(seconds, f64::EPSILON)
    }

    /// The rate with the idle timeout over the rate without it.
    pub(super) fn ratio(&self) -> f64 {
        self.rate(true) / self.rate(false).max(f64::EPSILON)
    }

    /// The largest share of the CPUs that other processes used during a leg.
    pub(super) fn foreign(&self) -> Option<f64> {
        self.legs.iter().filter_map(|leg| leg.foreign).reduce(f64::max)
    }

    pub(super) fn json(&self) -> serde_json::Value {
        let legs: Vec<serde_json::Value> = self
            .legs
            .iter()
            .map(|leg| {
                let m = &leg.measurement;
                serde_json::json!({
                    "idle_timeout": leg.idle,
                    "requests": m.requests,
                    "seconds": m.duration.as_secs_f64(),
                    "requests_per_second": m.rate(),
                    "p50_ms": m.p50.as_secs_f64() * 1e3,
                    "p99_ms": m.p99.as_secs_f64() * 1e3,
                    "errors": m.errors.total(),
                    "foreign_cpu_share": leg.foreign,
                })
            })
            .collect();
        serde_json::json!({
            "auth_token_idle_timeout": self.timeout,
            "last_used_resolution": self.resolution,
            "sessions": self.sessions,
            "requests_per_second_without": self.rate(false),
            "requests_per_second_with": self.rate(true),
            "ratio": self.ratio(),
            "target_percent": TARGET_PERCENT,
            "met": 100.0 * self.ratio() >= TARGET_PERCENT,
            "legs": legs,
        })
    }
}

/// One of the two servers, in a temporary directory of its own.
struct Side {
    dir: tempfile::TempDir,
    server: Server,
    prefix: String,
}

impl Side {
    /// Starts a server with the bench's environment and `extra` on top.
    fn start(
        binary: &Path,
        options: &Options,
        extra: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("authtoken-bench-idle-")
            .tempdir()
            .context("cannot make a temporary directory")?;
        let mut env: BTreeMap<String, String> = super::server_env(options, &dir.path().join("bench.sqlite3"));
        env.extend(extra);
        let server = Server::start(binary, dir.path(), &env)?;
        let prefix = super::prefix(&env).to_owned();
        Ok(Self { dir, server, prefix })
    }

    fn runner<'a>(&'a self, wrk: &'a Wrk, plan: &'a Plan) -> Runner<'a> {
        Runner { wrk, server: &self.server, dir: self.dir.path(), plan, prefix: &self.prefix }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::bench::wrk::Errors;

    fn leg(idle: bool, requests: u64, foreign: f64) -> Leg {
        let none = Errors { connect: 0, read: 0, write: 0, timeout: 0, status: 0 };
        let latency = Duration::from_millis(1);
        let measurement = Measurement {
            requests,
            duration: Duration::from_secs(5),
            p50: latency,
            p90: latency,
            p99: latency,
            max: latency,
            errors: none,
        };
        Leg { idle, measurement, foreign: Some(foreign) }
    }

    #[test]
    fn each_side_is_rated_over_its_own_legs_and_the_ratio_is_with_over_without() {
        let legs =
            vec![leg(false, 200_000, 0.1), leg(true, 180_000, 0.25), leg(true, 190_000, 0.0), leg(false, 210_000, 0.2)];
        let compared = IdleComparison { timeout: "15m".into(), resolution: "1s".into(), sessions: 64, legs };

        assert!((compared.rate(false) - 41_000.0).abs() < 1e-6);
        assert!((compared.rate(true) - 37_000.0).abs() < 1e-6);
        assert!((compared.ratio() - 37.0 / 41.0).abs() < 1e-9);
        assert_eq!(compared.foreign(), Some(0.25));
    }
}
