//! Starts the `authtoken` binary as a child process on a throwaway database and finds the address it listens on.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authtoken_sql::Backend;
use authtoken_sql::testing::{self, TestDatabase};

/// A running `authtoken serve`; killed on drop. Its log is collected for inspection.
pub(crate) struct Server {
    child: Child,
    pub base: String,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

/// The binary under test, with a clean environment.
pub(crate) fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authtoken"));
    command.env_clear();
    command
}

/// A throwaway database of `backend`; `None` for PostgreSQL outside CI without `AUTHTOKEN_TEST_POSTGRES_URL`.
pub(crate) async fn database(backend: Backend) -> Option<TestDatabase> {
    match backend {
        Backend::Sqlite => Some(testing::sqlite()),
        Backend::Postgres => testing::postgres().await,
    }
}

impl Server {
    /// Starts the service on `database_url` with registration enabled and `extra` settings on top.
    pub(crate) fn start(database_url: &str, extra: &[(&str, &str)]) -> Self {
        let mut command = binary();
        command.arg("serve");
        Self::spawn(command, database_url, extra)
    }

    /// As [`Server::start`], with the soft and hard limits of open files both at `open_files`.
    pub(crate) fn start_with_open_files(database_url: &str, extra: &[(&str, &str)], open_files: usize) -> Self {
        let mut command = Command::new("/bin/sh");
        command
            .env_clear()
            .arg("-c")
            .arg(format!("ulimit -n {open_files} && exec \"$0\" serve"))
            .arg(env!("CARGO_BIN_EXE_authtoken"));
        Self::spawn(command, database_url, extra)
    }

    /// Starts `count` servers on `database_url` at the same moment: every process is spawned before the first one is
    /// waited for, so they open the database (and migrate it) together.
    pub(crate) fn start_together(database_url: &str, extra: &[(&str, &str)], count: usize) -> Vec<Self> {
        let starting: Vec<Starting> = (0..count)
            .map(|_| {
                let mut command = binary();
                command.arg("serve");
                Starting::spawn(command, database_url, extra)
            })
            .collect();
        starting.into_iter().map(Starting::ready).collect()
    }

    fn spawn(command: Command, database_url: &str, extra: &[(&str, &str)]) -> Self {
        Starting::spawn(command, database_url, extra).ready()
    }

    /// The address the server listens on, as `host:port`.
    pub(crate) fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// The process id of the server.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything the server logged so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Kills the server with SIGKILL, as a crash would, and waits until it is gone.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("the server can be killed");
        self.child.wait().expect("the killed server is reaped");
    }
}

/// A spawned server that has not yet said where it listens; killed on drop unless it became a [`Server`].
struct Starting {
    /// Both `None` once handed over to the [`Server`].
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    addr: std::sync::mpsc::Receiver<String>,
    log: Arc<Mutex<String>>,
}

impl Starting {
    fn spawn(mut command: Command, database_url: &str, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        command
            .current_dir(dir.path())
            .env("AUTHTOKEN_BIND", "127.0.0.1:0")
            .env("AUTHTOKEN_DATABASE_URL", database_url)
            .env("AUTHTOKEN_REGISTRATION_ENABLED", "true")
            .env("AUTHTOKEN_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (addr_tx, addr) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    // In a text line the address ends the line; in a JSON one a quote follows it.
                    let addr: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
                    let _ = addr_tx.send(addr);
                }
                sink.lock().expect("log lock").push_str(&(line + "\n"));
            }
        });
        Self { child: Some(child), dir: Some(dir), addr, log }
    }

    /// Waits until the server says where it listens.
    fn ready(mut self) -> Server {
        let addr = self
            .addr
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the server did not report its address; log:\n{}", self.log.lock().unwrap()));
        let (child, dir) = (self.child.take(), self.dir.take());
        Server {
            child: child.expect("not yet handed over"),
            base: format!("http://{addr}"),
            log: self.log.clone(),
            _dir: dir.expect("not yet handed over"),
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Argon2id settings that keep end-to-end tests fast; the real defaults are tested in the core.
pub(crate) const CHEAP_ARGON2: [(&str, &str); 2] =
    [("AUTHTOKEN_PASSWORD_HASH_MEMORY_KIB", "1024"), ("AUTHTOKEN_PASSWORD_HASH_ITERATIONS", "1")];
