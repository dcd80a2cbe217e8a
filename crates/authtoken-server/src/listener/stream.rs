//! One connection with deadlines: a read or write that has to wait fails once the deadline of the connection's
//! phase has passed, and hyper then closes the connection.
//!
//! The phases of an HTTP/1 connection, told apart by the bytes that pass:
//! - waiting for a request: a new connection must complete its first request head within `http_header_timeout`
//!   of opening; after an answer, the next request must begin within `http_idle_timeout` of the last byte
//!   written (so a client that stops reading its answer is cut off too);
//! - in a request head (its first byte has arrived, the blank line that ends it not yet): the head must be complete
//!   within `http_header_timeout` of its first byte;
//! - busy (the head is complete): no deadline here, because hyper also reads while the handler works, to notice a
//!   client that went away; the body is bounded by [`super::body::BodyDeadline`] and the handler by its own
//!   timeouts. The first bytes of the answer (other than an interim `100 Continue`) start the wait for the next
//!   request.
//!
//! HTTP/2 with prior knowledge (poem accepts it on a plain socket) has no heads to watch: such a connection closes
//! once the server has written nothing for `http_idle_timeout`.
//!
//! The cost per request is one clock read when the answer is written and a scan of the head's bytes; a head that
//! arrives in one read (the usual case) reads the clock not at all.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

use super::Limits;

/// How an HTTP/2 connection with prior knowledge begins; HTTP/1 has no method `PRI`.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// An accepted connection that holds its slot until it is dropped and enforces the deadlines of [`Limits`].
#[derive(Debug)]
pub struct Deadlines<S> {
    inner: S,
    _slot: OwnedSemaphorePermit,
    limits: Limits,
    phase: Phase,
    /// When a read or write that waits fails; `None` while busy.
    deadline: Option<Instant>,
    /// Set to `deadline` when a read or write has to wait; boxed so that the connection stays `Unpin`.
    timer: Pin<Box<Sleep>>,
    /// Where the scan for the blank line that ends a head stands.
    scan: Scan,
    /// Whether the connection has answered a request yet.
    answered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Head,
    Busy,
    Http2,
}

impl<S> Deadlines<S> {
    pub(super) fn new(inner: S, slot: OwnedSemaphorePermit, limits: &Limits) -> Self {
        let deadline = Instant::now() + limits.header_timeout;
        Self {
            inner,
            _slot: slot,
            limits: *limits,
            phase: Phase::Waiting,
            deadline: Some(deadline),
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            scan: Scan::Start,
            answered: false,
        }
    }

    /// Follows the request through the bytes just read; fails when a head goes on past its deadline.
    fn received(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.phase {
            Phase::Busy | Phase::Http2 => {}
            Phase::Waiting if !self.answered && bytes.starts_with(HTTP2_PREFACE) => self.phase = Phase::Http2,
            Phase::Waiting => {
                self.phase = Phase::Head;
                self.scan = Scan::Start;
                if self.scan.feed(bytes) {
                    self.busy();
                } else if self.answered {
                    // A later request's head counts from its first byte; the first one's from the opening.
                    self.deadline = Some(Instant::now() + self.limits.header_timeout);
                }
            }
            Phase::Head => {
                if self.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    return Err(self.expired());
                }
                if self.scan.feed(bytes) {
                    self.busy();
                }
            }
        }
        Ok(())
    }

    fn busy(&mut self) {
        self.phase = Phase::Busy;
        self.deadline = None;
    }

    /// Notes bytes written: an answer starts the wait for the next request, and any write while waiting or over
    /// HTTP/2 moves the idle deadline on. The timer is set at once, because hyper may already be waiting to read.
    fn sent(&mut self, bytes: &[u8], cx: &mut Context<'_>) {
        match self.phase {
            Phase::Head => return,
            Phase::Busy if is_interim(bytes) => return,
            Phase::Busy => {
                self.phase = Phase::Waiting;
                self.answered = true;
            }
            Phase::Waiting | Phase::Http2 => {}
        }
        self.deadline = Some(Instant::now() + self.limits.idle_timeout);
        self.arm(cx);
    }

    /// Pending until the deadline, then the error that closes the connection.
    fn poll_deadline<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if self.arm(cx) { Poll::Ready(Err(self.expired())) } else { Poll::Pending }
    }

    /// Sets the timer to the deadline, to wake the connection's task then; true once the deadline has passed.
    fn arm(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.deadline else { return false };
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        self.timer.as_mut().poll(cx).is_ready()
    }

    fn expired(&self) -> io::Error {
        let setting = match (self.phase, self.answered) {
            (Phase::Head, _) | (Phase::Waiting, false) => "http_header_timeout",
            (Phase::Waiting | Phase::Http2 | Phase::Busy, _) => "http_idle_timeout",
        };
        tracing::debug!(setting, "closing a connection that ran out of time");
        io::Error::new(io::ErrorKind::TimedOut, format!("connection closed after {setting}"))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Deadlines<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = &buf.filled()[before..];
                if !fresh.is_empty() {
                    this.received(fresh)?;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deadlines<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    this.sent(buf, cx);
                }
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    this.sent(bufs.iter().find(|buf| !buf.is_empty()).map_or(&[], |buf| &buf[..]), cx);
                }
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// An interim answer such as `100 Continue`, after which the request body is still to come.
fn is_interim(bytes: &[u8]) -> bool {
    bytes.starts_with(b"HTTP/1.1 1")
}

/// Where the scan for the blank line that ends a request head stands (`\r\n\r\n`, or `\n\n`, which hyper
/// accepts too). Line breaks before the request line end nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Nothing but line breaks so far.
    Start,
    /// Inside a line.
    Line,
    /// Just after a `\n`.
    LineFeed,
    /// Just after `\n\r`.
    LineFeedReturn,
}

impl Scan {
    /// Feeds the next bytes of the head; true once the blank line has passed.
    fn feed(&mut self, bytes: &[u8]) -> bool {
        for &byte in bytes {
            *self = match (*self, byte) {
                (Self::Start, b'\r' | b'\n') => Self::Start,
                (Self::LineFeed | Self::LineFeedReturn, b'\n') => return true,
                (Self::LineFeed, b'\r') => Self::LineFeedReturn,
                (_, b'\n') => Self::LineFeed,
                _ => Self::Line,
            };
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(reads: &[&str], expected: Option<usize>) {
        let mut scan = Scan::Start;

        let ended = reads.iter().position(|read| scan.feed(read.as_bytes()));

        assert_eq!(ended, expected, "{reads:?}");
    }

    #[test]
    fn a_head_ends_at_its_first_blank_line() {
        check(&["GET / HTTP/1.1\r\nHost: a\r\n\r\n"], Some(0));
        check(&["GET / HTTP/1.1\r\n\r\nbody"], Some(0));
        check(&["GET / HTTP/1.1\nHost: a\n\n"], Some(0));
        check(&["GET / HTTP/1.1\r\nHost: a\r\n", "\r", "\n"], Some(2));
        check(&["GET / HTTP/1.1\r", "\n", "\r\n"], Some(2));
        check(&["GET / HTTP/1.1\r\nHost: a\r\n"], None);
        check(&["GET / HTTP/1.1\r\nX: a\r\n", "X: b\r\n", "X: c"], None);
        check(&["GET / HTTP/1.1\r\r\n"], None);
        check(&["GET / HTTP/1.1\n\r\r\n"], None);
    }

    #[test]
    fn line_breaks_before_the_request_line_do_not_end_a_head() {
        check(&["\r\n\r\n"], None);
        check(&["\r\n", "\r\n", "\n\n"], None);
        check(&["\r\n\r\nGET / HTTP/1.1\r\n", "\r\n"], Some(1));
    }

    #[test]
    fn only_an_informational_status_is_interim() {
        assert!(is_interim(b"HTTP/1.1 100 Continue\r\n\r\n"));
        assert!(!is_interim(b"HTTP/1.1 200 OK\r\n"));
        assert!(!is_interim(b"HTTP/1.1 413 Payload Too Large\r\n"));
        assert!(!is_interim(b""));
    }
}
