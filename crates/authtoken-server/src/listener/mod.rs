//! Connection limits: how many connections the server holds at once, and how long each may take.
//!
//! poem's server accepts without limit, gives hyper no timer (so no header read timeout), and retries a failed
//! accept at once, which spins while the process is out of file descriptors. [`LimitedAcceptor`] wraps poem's
//! acceptor: it holds one permit of a semaphore per open connection and waits for a free one before accepting;
//! it backs off after an accept fails for want of resources; and it wraps every connection in a
//! [`stream::Deadlines`], which bounds the time to receive a request head, the size of a head, and the time a
//! connection may stay idle. [`body::BodyDeadline`] bounds the time to receive a request body.

pub mod body;
mod scan;
mod stream;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::sync::Semaphore;
use tokio::time::Instant;

pub use stream::Deadlines;

/// How long the acceptor waits before trying again after an accept failed for want of resources.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The shortest time between two warnings of one kind.
const WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// The highest number of connections a derived limit allows.
const MAX_DERIVED_CONNECTIONS: usize = 10_000;

/// The connection settings, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a new connection has for its first request head, and any later head for itself from its first
    /// byte on.
    pub header_timeout: Duration,
    /// How long a request body may take to arrive, from the moment the handler is called.
    pub body_timeout: Duration,
    /// How long a connection may stay open without a request after its last answer.
    pub idle_timeout: Duration,
    /// The most connections open at once; `None` derives it from the open-files limit.
    pub max_connections: Option<usize>,
    /// The longest request head, in bytes: an HTTP/1 head over it is answered 431 and its connection closed, and
    /// HTTP/2 takes it as the largest header list.
    pub max_header_bytes: usize,
}

/// Wraps an acceptor so that it bounds connections in number and time.
#[derive(Debug)]
pub struct LimitedAcceptor<A> {
    inner: A,
    slots: Arc<Semaphore>,
    max_connections: usize,
    limits: Limits,
    /// Accepts that failed in a row.
    failures: u64,
    /// Whether the current run of failures was logged, so that its end is logged too.
    failures_logged: bool,
    failure_warning: Quiet,
    full_warning: Quiet,
}

impl<A: Acceptor> LimitedAcceptor<A> {
    /// Holds at most `max_connections` connections open at once (see [`max_connections`]).
    pub fn new(inner: A, limits: Limits, max_connections: usize) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            limits,
            failures: 0,
            failures_logged: false,
            failure_warning: Quiet::NEW,
            full_warning: Quiet::NEW,
        }
    }

    /// Waits for a free slot, then for a connection; failed accepts are retried, after a pause when they failed
    /// for want of resources (file descriptors, memory), so the accept loop never spins.
    async fn next(&mut self) -> io::Result<(Deadlines<A::Io>, LocalAddr, RemoteAddr, Scheme)> {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.full_warning.due() {
                    tracing::warn!(
                        max = self.max_connections,
                        "every connection slot is taken (http_max_connections); new connections wait"
                    );
                }
                self.slots.clone().acquire_owned().await.map_err(io::Error::other)?
            }
        };
        loop {
            match self.inner.accept().await {
                Ok((io, local, remote, scheme)) => {
                    if self.failures_logged {
                        tracing::info!(failed = self.failures, "accepting connections again");
                    }
                    self.failures = 0;
                    self.failures_logged = false;
                    return Ok((Deadlines::new(io, permit, &self.limits), local, remote, scheme));
                }
                Err(e) if is_about_one_connection(&e) => {}
                Err(e) => {
                    if self.failures == 0 && self.failure_warning.due() {
                        tracing::warn!(
                            error = &e as &dyn std::error::Error,
                            "cannot accept connections; trying again every 100 ms"
                        );
                        self.failures_logged = true;
                    }
                    self.failures += 1;
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }
}

/// At most one warning of a kind a minute, so that an attack or a long shortage does not flood the log.
#[derive(Debug)]
struct Quiet {
    last: Option<Instant>,
}

impl Quiet {
    const NEW: Self = Self { last: None };

    /// Whether a warning may be logged now; if so, the next one waits a minute.
    fn due(&mut self) -> bool {
        let now = Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < WARNING_INTERVAL) {
            return false;
        }
        self.last = Some(now);
        true
    }
}

impl<A: Acceptor> Acceptor for LimitedAcceptor<A> {
    type Io = Deadlines<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        self.next().await
    }
}

/// Errors that concern only the connection being accepted (it was reset before it could be taken); the next
/// accept may succeed at once. Every other error (too many open files, no memory or buffers) waits a little.
fn is_about_one_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// The connection limit: the setting, or three quarters of the open-files limit (at most 10 000), so that the
/// database, the mail transport and the log keep descriptors of their own.
pub fn max_connections(setting: Option<usize>, open_files: u64) -> usize {
    if let Some(max) = setting {
        if u64::try_from(max).is_ok_and(|max| max >= open_files) {
            tracing::warn!(
                http_max_connections = max,
                open_files,
                "http_max_connections is not below the open-files limit; when descriptors run out, accepting \
                 pauses until connections close"
            );
        }
        return max;
    }
    let derived = usize::try_from(open_files / 4 * 3).unwrap_or(usize::MAX);
    derived.clamp(1, MAX_DERIVED_CONNECTIONS)
}

/// Raises the soft limit of open files to the hard limit, and returns the soft limit in force.
pub fn raise_open_files_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};

    let (soft, hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok(limits) => limits,
        Err(e) => {
            tracing::warn!(error = &e as &dyn std::error::Error, "cannot read the open-files limit");
            return 1024;
        }
    };
    if soft >= hard {
        tracing::debug!(open_files = soft, "the open-files limit is already at its hard limit");
        return soft;
    }
    match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        Ok(()) => {
            tracing::info!(from = soft, to = hard, "raised the open-files limit");
            hard
        }
        Err(e) => {
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                open_files = soft,
                "cannot raise the open-files limit"
            );
            soft
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(setting: Option<usize>, open_files: u64, expected: usize) {
        assert_eq!(max_connections(setting, open_files), expected);
    }

    #[test]
    fn the_connection_limit_is_the_setting_or_three_quarters_of_the_open_files() {
        check(Some(50), 1024, 50);
        check(Some(5000), 1024, 5000);
        check(None, 1024, 768);
        check(None, 256, 192);
        check(None, 64, 48);
        check(None, 1, 1);
        check(None, 1_048_576, 10_000);
        check(None, u64::MAX, 10_000);
    }

    #[test]
    fn only_a_reset_connection_is_retried_at_once() {
        assert!(is_about_one_connection(&io::Error::from(io::ErrorKind::ConnectionAborted)));
        assert!(is_about_one_connection(&io::Error::from(io::ErrorKind::ConnectionReset)));
        assert!(!is_about_one_connection(&io::Error::from_raw_os_error(24)), "EMFILE");
        assert!(!is_about_one_connection(&io::Error::from_raw_os_error(23)), "ENFILE");
        assert!(!is_about_one_connection(&io::Error::from_raw_os_error(105)), "ENOBUFS");
        assert!(!is_about_one_connection(&io::Error::from(io::ErrorKind::OutOfMemory)));
    }
}
