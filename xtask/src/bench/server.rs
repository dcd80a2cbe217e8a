//! The release binary under test: started on port 0 in a temporary directory, watched, and stopped.

use std::collections::{BTreeMap, VecDeque};
use std::io::BufReader;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The log line the server prints once it accepts connections.
const LISTENING: &str = "listening on http://";
/// How many of the server's last log lines to keep for an error report.
const KEPT_LOG_LINES: usize = 40;

/// A running `authtoken serve`; it is killed on drop if [`Server::stop`] was not called.
#[derive(Debug)]
pub(super) struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Server {
    /// Starts `binary serve` in `dir` with `env` and no other `AUTHTOKEN_*` variables, and waits until it listens.
    pub(super) fn start(binary: &Path, dir: &Path, env: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let mut command = Command::new(binary);
        command.arg("serve").current_dir(dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AUTHTOKEN_") {
                command.env_remove(name);
            }
        }
        command.envs(env);
        let mut child = command.spawn().with_context(|| format!("cannot start {}", binary.display()))?;
        let stderr = child.stderr.take().context("the server has no stderr pipe")?;
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (sender, listening) = mpsc::channel();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || watch_log(BufReader::new(stderr), &sender, &kept));
        let mut server = Self { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)), log };
        server.addr = server.wait_until_listening(&listening)?;
        Ok(server)
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The peak resident set size so far (`VmHWM`), in bytes.
    pub(super) fn peak_rss(&self) -> anyhow::Result<u64> {
        Ok(self.status_field("VmHWM")? * 1024)
    }

    /// The number of threads the server runs now.
    pub(super) fn threads(&self) -> anyhow::Result<u64> {
        self.status_field("Threads")
    }

    /// A numeric field of `/proc/<pid>/status`, without its unit.
    fn status_field(&self, name: &str) -> anyhow::Result<u64> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .with_context(|| format!("{path} has no {name} line"))
    }

    /// Sends SIGTERM and waits for the graceful shutdown; kills the server if it takes longer than 15 s.
    pub(super) fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("the server exited with {status}:\n{}", self.last_log());
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the server did not stop within 15 s of SIGTERM")
    }

    /// The last lines the server logged, for error messages.
    pub(super) fn last_log(&self) -> String {
        let log = self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        log.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    fn wait_until_listening(&mut self, listening: &mpsc::Receiver<SocketAddr>) -> anyhow::Result<SocketAddr> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(addr) = listening.recv_timeout(Duration::from_millis(100)) {
                return Ok(addr);
            }
            if let Some(status) = self.child.try_wait()? {
                std::thread::sleep(Duration::from_millis(100));
                bail!("the server exited with {status} before listening:\n{}", self.last_log());
            }
        }
        bail!("the server did not log `{LISTENING}…` within 60 s:\n{}", self.last_log())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads the server's stderr to its end: reports the address, echoes warnings, keeps the last lines.
fn watch_log(stderr: impl std::io::BufRead, listening: &mpsc::Sender<SocketAddr>, kept: &Mutex<VecDeque<String>>) {
    for line in stderr.lines() {
        let Ok(line) = line else { break };
        if let Some(addr) = listening_addr(&line) {
            let _ = listening.send(addr);
        } else if line.contains("WARN") || line.contains("ERROR") {
            eprintln!("server: {line}");
        }
        let mut kept = kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.len() == KEPT_LOG_LINES {
            kept.pop_front();
        }
        kept.push_back(line);
    }
}

fn listening_addr(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once(LISTENING)?;
    rest.split_whitespace().next()?.trim_end_matches('/').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(line: &str, expected: Option<&str>) {
        assert_eq!(listening_addr(line), expected.map(|addr| addr.parse().unwrap()), "{line:?}");
    }

    #[test]
    fn the_address_is_read_from_the_listening_line() {
        check(
            "2026-11-28T10:00:00Z  INFO authtoken_server::startup: listening on http://127.0.0.1:41234",
            Some("127.0.0.1:41234"),
        );
        check("INFO listening on http://[::1]:8000", Some("[::1]:8000"));
        check("INFO listening on http://127.0.0.1:8000/ and more", Some("127.0.0.1:8000"));
        check("INFO starting", None);
        check("INFO listening on http://nowhere", None);
    }
}
