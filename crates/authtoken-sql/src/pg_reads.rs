//! Reads by key on PostgreSQL, coalesced: the lookups that arrive together go to the database as one query.
//!
//! Through the pool, each lookup would cost a checkout (with its ping) and a query: two round trips to another
//! process, which cost far more than the index lookup itself, and which PostgreSQL pays for in CPU on the same
//! machine. Here lookups queue, and a few workers each take every lookup waiting when they are free and run them as
//! one query over an array of keys ([`KeyQuery::postgres_many`]), each row marked with the place of its key. Under
//! load one query answers dozens of requests; a lone lookup waits only for its own query.
//!
//! Nothing is cached, so revocation stays strict: a worker takes lookups off the queue before it sends their query,
//! so the query starts after each of them was asked for, and PostgreSQL reads it with a snapshot taken when it
//! starts. A logout committed on any server, before a lookup was asked for, is seen by that lookup.
//!
//! The workers run their queries on connections of their own, within `database_max_connections`, with no ping
//! before each batch: a connection that broke while idle (the database restarted, say) fails its batch, which is
//! tried once more, on a new connection. A lost database fails lookups as it fails every other statement (after
//! the pool's acquire timeout), and they recover with it.

use std::sync::Arc;

use authtoken_core::ports::StoreError;
use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgRow};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::statements::KeyQuery;

/// The most lookups one query answers.
const MAX_BATCH: usize = 256;

/// The most lookups that wait for a worker; further callers wait for room.
const MAX_WAITING: usize = 4096;

/// Where a lookup's answer goes: its row, or `None` when no row has its key.
type Reply = oneshot::Sender<Result<Option<PgRow>, StoreError>>;

#[derive(Debug)]
struct Lookup {
    query: &'static KeyQuery,
    key: Vec<u8>,
    reply: Reply,
}

/// The queue of lookups, and the workers that answer them (they stop once this is dropped).
#[derive(Debug)]
pub(crate) struct PgReads {
    queue: mpsc::Sender<Lookup>,
    pool: PgPool,
}

impl PgReads {
    /// Starts `workers` workers (at least one) that run lookups through `pool`.
    pub(crate) fn start(pool: PgPool, workers: u32) -> Self {
        let (queue, waiting) = mpsc::channel(MAX_WAITING);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..workers.max(1) {
            tokio::spawn(serve(pool.clone(), Arc::clone(&waiting)));
        }
        Self { queue, pool }
    }

    /// Closes the lookups' connections; every lookup fails afterwards.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// The row that `query` returns for `key`, if any; the caller decodes it.
    pub(crate) async fn fetch_by_key(&self, query: &'static KeyQuery, key: &[u8]) -> Result<Option<PgRow>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError::new("the store is closed");
        self.queue.send(Lookup { query, key: key.to_vec(), reply }).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// One worker: takes every waiting lookup, runs them as one query per kind of query, answers each, and starts again.
async fn serve(pool: PgPool, waiting: Arc<Mutex<mpsc::Receiver<Lookup>>>) {
    while let Some(mut batch) = next_batch(&waiting).await {
        while !batch.is_empty() {
            let query = batch[0].query;
            let (same, rest): (Vec<Lookup>, Vec<Lookup>) =
                batch.into_iter().partition(|lookup| std::ptr::eq(lookup.query, query));
            batch = rest;
            let (keys, replies): (Vec<Vec<u8>>, Vec<Reply>) =
                same.into_iter().map(|lookup| (lookup.key, lookup.reply)).unzip();
            let run = || sqlx::query(query.postgres_many.as_str()).bind(&keys).fetch_all(&pool);
            let rows = match run().await {
                Err(e) if connection_lost(&e) => run().await,
                rows => rows,
            };
            answer(replies, rows);
        }
    }
}

/// The lookups waiting once a first one came, at most [`MAX_BATCH`]; `None` once the queue is dropped.
///
/// The queue stays locked while the worker waits for the first lookup, so idle workers wait their turn and the
/// next lookups go to the next free worker, while this one's query runs.
async fn next_batch(waiting: &Mutex<mpsc::Receiver<Lookup>>) -> Option<Vec<Lookup>> {
    let mut waiting = waiting.lock().await;
    let first = waiting.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match waiting.try_recv() {
            Ok(lookup) => batch.push(lookup),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Whether `e` says the connection broke, rather than the database refusing the query or being out of reach: then
/// the batch is worth a second try, on another connection.
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        // 57P01 to 57P05: the server was shut down, restarted, or ended the connection.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("57P")),
        _ => false,
    }
}

/// Hands each row to the lookup at its place, and `None` to the lookups that got no row; or the error to all.
fn answer(replies: Vec<Reply>, rows: Result<Vec<PgRow>, sqlx::Error>) {
    let mut replies: Vec<Option<Reply>> = replies.into_iter().map(Some).collect();
    match rows {
        Ok(rows) => {
            for row in rows {
                let place = row.len().checked_sub(1).and_then(|last| row.try_get::<i64, _>(last).ok());
                let reply = place
                    .and_then(|place| usize::try_from(place).ok()?.checked_sub(1))
                    .and_then(|at| replies.get_mut(at)?.take());
                if let Some(reply) = reply {
                    // The caller may have gone; nobody is left to tell.
                    let _ = reply.send(Ok(Some(row)));
                }
            }
            for reply in replies.into_iter().flatten() {
                let _ = reply.send(Ok(None));
            }
        }
        Err(e) => {
            let message = e.to_string();
            for reply in replies.into_iter().flatten() {
                let _ = reply.send(Err(StoreError::context("looking up by key", message.clone())));
            }
        }
    }
}
