//! Reads by key on SQLite that run on the calling thread.
//!
//! sqlx runs every SQLite connection on a thread of its own, so each query goes to that thread and back through
//! channels. For the query on the hot path of every authenticated request, the session under a digest, those two
//! thread switches cost many times the query itself, which reads a few pages of one index and one table from memory.
//! So these reads run on a few read-only connections of their own, on the caller's thread, with the statement
//! prepared once per connection. Every write, and every other read, still goes through sqlx.
//!
//! In WAL mode a reader never waits for a writer, and each read sees every transaction committed before it began:
//! a logout committed through sqlx ends the session for the very next read here. These connections are only opened
//! on a database in WAL mode, and they never wait for a lock: in the rare case that SQLite answers "busy" (while it
//! recovers the WAL after a crash, say), the read goes through sqlx instead, which waits off the async workers.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use authtoken_core::ports::StoreError;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use crate::error::ReadError;
use crate::row::Row;

/// Read-only connections to one SQLite file, each used by one thread at a time.
#[derive(Debug)]
pub(crate) struct SqliteReads {
    /// `None` once the store is closed.
    slots: Box<[Mutex<Option<Connection>>]>,
    /// Where the next caller starts looking for a free connection, so callers spread over the slots.
    next: AtomicUsize,
}

impl SqliteReads {
    /// Opens `count` read-only connections to the database file that sqlx has open.
    ///
    /// Returns `None` when the database is not in WAL mode (SQLite falls back to a rollback journal where it cannot
    /// share memory between connections, on some network file systems for one): there a reader waits for every
    /// writer, and that wait must not happen on an async worker.
    pub(crate) fn open(path: &Path, count: usize) -> Result<Option<Self>, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = || -> Result<Connection, StoreError> {
            let connection = Connection::open_with_flags(path, flags).map_err(StoreError::new)?;
            // rusqlite waits up to 5 s for a lock by default; here a lock that is taken sends the read to sqlx.
            connection.busy_timeout(Duration::ZERO).map_err(StoreError::new)?;
            Ok(connection)
        };
        let first = open()?;
        let mode: String = first.query_row("PRAGMA journal_mode", [], |row| row.get(0)).map_err(StoreError::new)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Ok(None);
        }
        let mut slots = vec![Mutex::new(Some(first))];
        for _ in 1..count {
            slots.push(Mutex::new(Some(open()?)));
        }
        Ok(Some(Self { slots: slots.into_boxed_slice(), next: AtomicUsize::new(0) }))
    }

    /// Runs `sql`, which must take the key as its only parameter, and decodes the row it returns, if any.
    pub(crate) fn fetch_by_key<T>(
        &self,
        sql: &str,
        key: &[u8],
        decode: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, ReadError> {
        let slot = self.acquire();
        let connection = slot.as_ref().ok_or_else(|| ReadError::Store(StoreError::new("the store is closed")))?;
        let mut statement = connection.prepare_cached(sql)?;
        statement.query_row([key], |row| Ok(decode(row))).optional()?.transpose().map_err(ReadError::Store)
    }

    /// Closes every connection; every read fails afterwards.
    pub(crate) fn close(&self) {
        for slot in &self.slots {
            lock(slot).take();
        }
    }

    /// A free connection if there is one; otherwise waits for one, which is busy only for the length of a read
    /// (a read never waits for a lock).
    fn acquire(&self) -> MutexGuard<'_, Option<Connection>> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.slots.len();
        (0..count)
            .find_map(|i| match self.slots[start.wrapping_add(i) % count].try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            })
            .unwrap_or_else(|| lock(&self.slots[start % count]))
    }
}

/// A panic while a connection was in use leaves it usable: SQLite ends the read when the statement is reset.
fn lock(slot: &Mutex<Option<Connection>>) -> MutexGuard<'_, Option<Connection>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}
