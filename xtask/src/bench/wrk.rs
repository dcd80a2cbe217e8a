//! The load generator: finding or installing wrk, running it, and reading the summary its `done` hook prints.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::lua::RESULT_MARKER;

/// The wrk binary in use, and how the harness came by it.
#[derive(Debug, Clone)]
pub(super) struct Wrk {
    pub path: PathBuf,
    pub version: String,
    pub origin: &'static str,
}

/// One wrk run: what to hit, with which script, how hard and for how long.
#[derive(Debug, Clone)]
pub(super) struct Load<'a> {
    pub url: String,
    pub script: &'a Path,
    pub connections: usize,
    pub threads: usize,
    pub duration: Duration,
    /// A request not answered within this time counts as a timeout error.
    pub timeout: Duration,
}

/// What wrk measured: completed requests, latency percentiles and errors.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Measurement {
    pub requests: u64,
    pub duration: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub errors: Errors,
}

/// wrk's error counts; `status` is responses with a status over 399.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Errors {
    pub connect: u64,
    pub read: u64,
    pub write: u64,
    pub timeout: u64,
    pub status: u64,
}

/// A wrk process that is running; [`Running::finish`] waits for it and reads its summary.
#[derive(Debug)]
pub(super) struct Running {
    child: Child,
    shown: String,
}

impl Wrk {
    /// wrk from `PATH`, or installed with `apt-get` when it is missing and we are root.
    pub(super) fn find_or_install() -> anyhow::Result<Self> {
        if let Some(path) = on_path("wrk") {
            return Self::at(path, "found on PATH");
        }
        if !is_root() {
            bail!("wrk is not on PATH: install it (Debian: `sudo apt-get install -y wrk`) and run again");
        }
        eprintln!("bench: wrk is not on PATH; installing it with apt-get");
        let installed = apt_get_install_wrk().or_else(|_| {
            crate::cmd::run(Command::new("apt-get").args(["update", "-q"]))?;
            apt_get_install_wrk()
        });
        installed.context("cannot install wrk with apt-get")?;
        let path = on_path("wrk").context("apt-get installed wrk, but it is not on PATH")?;
        Self::at(path, "installed with apt-get install -y wrk")
    }

    fn at(path: PathBuf, origin: &'static str) -> anyhow::Result<Self> {
        // `wrk -v` prints its version banner and exits with status 1.
        let output =
            Command::new(&path).arg("-v").output().with_context(|| format!("cannot run {}", path.display()))?;
        let banner = String::from_utf8_lossy(&output.stdout);
        let version = banner.split('[').next().unwrap_or_default().trim();
        let version = if version.is_empty() { "wrk (unknown version)" } else { version }.to_owned();
        Ok(Self { path, version, origin })
    }

    /// Runs one load to the end.
    pub(super) fn run(&self, load: &Load<'_>) -> anyhow::Result<Measurement> {
        self.spawn(load)?.finish()
    }

    /// Starts one load without waiting for it.
    pub(super) fn spawn(&self, load: &Load<'_>) -> anyhow::Result<Running> {
        let mut command = Command::new(&self.path);
        command
            .arg(format!("--threads={}", load.threads))
            .arg(format!("--connections={}", load.connections))
            .arg(format!("--duration={}s", load.duration.as_secs().max(1)))
            .arg(format!("--timeout={}s", load.timeout.as_secs().max(1)))
            .arg("--latency")
            .arg(format!("--script={}", load.script.display()))
            .arg(&load.url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("{command:?}");
        let child = command.spawn().with_context(|| format!("cannot run {shown}"))?;
        Ok(Running { child, shown })
    }
}

impl Running {
    pub(super) fn finish(self) -> anyhow::Result<Measurement> {
        self.finish_with_stdout().map(|(measurement, _)| measurement)
    }

    /// The measurement and everything wrk printed, for scripts that print more than the summary.
    pub(super) fn finish_with_stdout(self) -> anyhow::Result<(Measurement, String)> {
        let output = self.child.wait_with_output().with_context(|| format!("cannot wait for {}", self.shown))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!("{} failed:\n{stdout}{}", self.shown, String::from_utf8_lossy(&output.stderr));
        }
        let measurement =
            parse_summary(&stdout).with_context(|| format!("cannot read the summary of {}:\n{stdout}", self.shown))?;
        Ok((measurement, stdout.into_owned()))
    }
}

impl Measurement {
    /// Completed requests a second, failed ones included (see [`Errors::total`]).
    pub(super) fn rate(&self) -> f64 {
        self.requests as f64 / self.duration.as_secs_f64().max(f64::EPSILON)
    }

    /// Loads that ran at the same time, as one: their requests and errors added up over the longest of their
    /// durations (so the rate is at most the sum of their rates), and each latency the worst of them, since the
    /// percentiles of separate runs cannot be merged; `None` for no loads.
    pub(super) fn side_by_side(loads: &[Self]) -> Option<Self> {
        loads.iter().cloned().reduce(|a, b| Self {
            requests: a.requests + b.requests,
            duration: a.duration.max(b.duration),
            p50: a.p50.max(b.p50),
            p90: a.p90.max(b.p90),
            p99: a.p99.max(b.p99),
            max: a.max.max(b.max),
            errors: Errors {
                connect: a.errors.connect + b.errors.connect,
                read: a.errors.read + b.errors.read,
                write: a.errors.write + b.errors.write,
                timeout: a.errors.timeout + b.errors.timeout,
                status: a.errors.status + b.errors.status,
            },
        })
    }
}

impl Errors {
    pub(super) fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout + self.status
    }
}

/// Reads the line the `done` hook printed.
fn parse_summary(stdout: &str) -> anyhow::Result<Measurement> {
    let line = stdout.lines().find_map(|line| line.strip_prefix(RESULT_MARKER)).context("no summary line")?;
    let json: serde_json::Value = serde_json::from_str(line).context("the summary line is not JSON")?;
    let number = |key: &str| json[key].as_u64().with_context(|| format!("the summary has no `{key}`"));
    let micros = |key: &str| number(key).map(Duration::from_micros);
    Ok(Measurement {
        requests: number("requests")?,
        duration: micros("duration_us")?,
        p50: micros("p50_us")?,
        p90: micros("p90_us")?,
        p99: micros("p99_us")?,
        max: micros("max_us")?,
        errors: Errors {
            connect: number("connect")?,
            read: number("read")?,
            write: number("write")?,
            timeout: number("timeout")?,
            status: number("status")?,
        },
    })
}

fn apt_get_install_wrk() -> anyhow::Result<()> {
    crate::cmd::run(
        Command::new("apt-get").args(["install", "-y", "-q", "wrk"]).env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

/// Whether this process runs as root, from the real uid in `/proc/self/status`.
fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().next()) == Some("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK_OUTPUT: &str = "Running 5s test @ http://127.0.0.1:1/healthz
  2 threads and 64 connections
  Latency Distribution
     50%  612.00us
WRK_RESULT {\"requests\":400000,\"duration_us\":5000000,\"p50_us\":612,\"p90_us\":900,\"p99_us\":2100,\"max_us\":9000,\"connect\":0,\"read\":1,\"write\":0,\"timeout\":2,\"status\":3}
";

    #[test]
    fn the_summary_line_becomes_a_measurement() {
        let measurement = parse_summary(WRK_OUTPUT).unwrap();

        assert_eq!(measurement.requests, 400_000);
        assert_eq!(measurement.p50, Duration::from_micros(612));
        assert_eq!(measurement.p99, Duration::from_micros(2100));
        assert_eq!(measurement.errors.total(), 6);
        assert!((measurement.rate() - 80_000.0).abs() < 1e-6);
    }

    #[test]
    fn loads_side_by_side_add_their_requests_and_keep_the_worst_latency() {
        let one = parse_summary(WRK_OUTPUT).unwrap();
        let other = Measurement {
            requests: 200_000,
            duration: Duration::from_millis(5_010),
            p99: Duration::from_micros(1_500),
            max: Duration::from_micros(12_000),
            ..one.clone()
        };

        let both = Measurement::side_by_side(&[one.clone(), other]).unwrap();

        assert_eq!((both.requests, both.duration), (600_000, Duration::from_millis(5_010)));
        assert_eq!((both.p50, both.p99, both.max), (one.p50, one.p99, Duration::from_micros(12_000)));
        assert_eq!(both.errors.total(), 12);
        assert_eq!(Measurement::side_by_side(std::slice::from_ref(&one)), Some(one));
        assert_eq!(Measurement::side_by_side(&[]), None);
    }

    #[test]
    fn output_without_a_summary_line_is_an_error() {
        assert!(parse_summary("Running 5s test\n").is_err());
        assert!(parse_summary("WRK_RESULT {\"requests\":1}\n").is_err());
    }
}
