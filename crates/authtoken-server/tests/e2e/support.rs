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
