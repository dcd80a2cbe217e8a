//! Starts the `authtoken` binary as a child process and finds the address it listens on.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running `authtoken serve`; killed on drop. Its log is collected for inspection.
pub struct Server {
    child: Child,
    pub base: String,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

/// The binary under test.
pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_authtoken"))
}

impl Server {
    /// Starts the service with registration enabled, cheap argon2 settings and `extra` settings on top.
    pub fn start(extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let database = dir.path().join("e2e.sqlite3");
        let mut command = binary();
        command
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("AUTHTOKEN_BIND", "127.0.0.1:0")
            .env("AUTHTOKEN_DATABASE_URL", format!("sqlite://{}", database.display()))
            .env("AUTHTOKEN_REGISTRATION_ENABLED", "true")
            .env("AUTHTOKEN_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = addr_tx.send(addr.trim().to_owned());
                }
                sink.lock().expect("log lock").push_str(&(line + "\n"));
            }
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the server did not report its address; log:\n{}", log.lock().unwrap()));
        Self { child, base: format!("http://{addr}"), log, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// The directory the server runs in.
    #[allow(dead_code, reason = "used by some test modules only")]
    pub fn dir(&self) -> PathBuf {
        self._dir.path().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
