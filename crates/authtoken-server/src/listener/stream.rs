//! One connection with deadlines: a read or write that has to wait fails once the deadline of the connection's
//! phase has passed, and hyper then closes the connection.
//!
//! The phases of an HTTP/1 connection, told apart by the bytes that pass:
//! - waiting for a request: a new connection must complete its first request head within `http_header_timeout`
//!   of opening; after an answer, the next request must begin within `http_idle_timeout` of the last byte
//!   written (so a client that stops reading its answer is cut off too);
//! - in a request head (its first byte has arrived, the blank line that ends it not yet): the head must be complete
//!   within `http_header_timeout` of its first byte, and at most `http_max_header_bytes` long (hyper alone would
//!   buffer about 400 KB). A head over the limit is answered `431 Request Header Fields Too Large` here, when
//!   nothing else can be on its way out (see [`Deadlines::too_large`]), or else the connection closes;
//! - busy (the head is complete): no deadline here, because hyper also reads while the handler works, to notice a
//!   client that went away; the body is bounded by [`super::body::BodyDeadline`] and the handler by its own
//!   timeouts. The first bytes of the answer (other than an interim `100 Continue`) start the wait for the next
//!   request.
//!
//! HTTP/2 with prior knowledge (poem accepts it on a plain socket) has no heads to watch: such a connection closes
//! once the server has written nothing for `http_idle_timeout`.
//!
//! The cost per request is one clock read when the answer is written and a scan of the head's bytes, which counts
//! them too; a head that arrives in one read (the usual case) reads the clock not at all.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

use super::Limits;
use super::scan::Scan;

/// How an HTTP/2 connection with prior knowledge begins; HTTP/1 has no method `PRI`.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// The answer to a head over `http_max_header_bytes`, after which the connection closes.
const TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\n\
content-type: application/json\r\n\
content-length: 45\r\n\
x-content-type-options: nosniff\r\n\
x-frame-options: DENY\r\n\
content-security-policy: default-src 'none'; frame-ancestors 'none'\r\n\
referrer-policy: no-referrer\r\n\
connection: close\r\n\
\r\n\
{\"detail\":\"Request header fields too large.\"}";

/// How many more bytes of a refused head are read and dropped, so that the client gets the 431 before the
/// connection closes (closing with unread bytes resets it, and the client may lose the answer).
const LINGER_BYTES: usize = 64 * 1024;

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
    /// The bytes of the current head so far (after a refusal, with those dropped since).
    head_bytes: usize,
    /// Whether the current head has taken more than one read.
    continued: bool,
    /// Whether the connection has answered a request yet.
    answered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Head,
    Busy,
    Http2,
    /// A head over the limit was answered 431; what the client still sends is dropped until it closes.
    Refused,
}

/// What becomes of bytes just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// They go to hyper.
    Pass,
    /// They end a head over the limit, which is answered 431 here.
    Refuse,
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
            head_bytes: 0,
            continued: false,
            answered: false,
        }
    }

    /// Follows the request through the bytes just read; fails when a head goes on past its deadline.
    fn received(&mut self, bytes: &[u8]) -> io::Result<Flow> {
        match self.phase {
            Phase::Busy | Phase::Http2 | Phase::Refused => {}
            Phase::Waiting if !self.answered && bytes.starts_with(HTTP2_PREFACE) => self.phase = Phase::Http2,
            Phase::Waiting => {
                self.phase = Phase::Head;
                self.scan = Scan::Start;
                self.head_bytes = 0;
                self.continued = false;
                let flow = self.head(bytes)?;
                if flow == Flow::Pass && self.phase == Phase::Head && self.answered {
                    // A later request's head counts from its first byte; the first one's from the opening.
                    self.deadline = Some(Instant::now() + self.limits.header_timeout);
                }
                return Ok(flow);
            }
            Phase::Head => {
                if self.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    return Err(self.expired());
                }
                self.continued = true;
                return self.head(bytes);
            }
        }
        Ok(Flow::Pass)
    }

    /// Scans and counts the next bytes of a head.
    fn head(&mut self, bytes: &[u8]) -> io::Result<Flow> {
        let end = self.scan.feed(bytes);
        self.head_bytes = self.head_bytes.saturating_add(end.unwrap_or(bytes.len()));
        if self.head_bytes > self.limits.max_header_bytes {
            return self.too_large(end.is_some());
        }
        if end.is_some() {
            self.busy();
        }
        Ok(Flow::Pass)
    }

    /// A head over the limit. The 431 is written only where no answer can be on its way out: on a connection
    /// that has answered nothing, or once the head took a second read (hyper reads again only for a head it is
    /// parsing, which it does after the last answer is out). The first read of a later head may come while the
    /// last answer is still being written (to a client that pipelines): if that read ends the head, the
    /// connection closes; if not, the bytes pass, and the next read refuses the head.
    fn too_large(&self, complete: bool) -> io::Result<Flow> {
        if !self.answered || self.continued {
            return Ok(Flow::Refuse);
        }
        if complete {
            return Err(refused());
        }
        Ok(Flow::Pass)
    }

    /// Answers 431, stops writing, and drops what the client still sends (see [`Deadlines::linger`]).
    fn refuse(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.phase = Phase::Refused;
        let written = Pin::new(&mut self.inner).poll_write(cx, TOO_LARGE);
        if !matches!(written, Poll::Ready(Ok(n)) if n == TOO_LARGE.len()) {
            return Poll::Ready(Err(refused()));
        }
        // A stream that cannot shut down at once closes with the connection.
        let _: Poll<io::Result<()>> = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.linger(cx, buf)
    }

    /// Reads and drops what the client sends after a 431, until it closes, [`LINGER_BYTES`] more have come, or
    /// the head's deadline passes; then the connection closes.
    fn linger(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>>
    where
        S: AsyncRead + Unpin,
    {
        loop {
            let before = buf.filled().len();
            match Pin::new(&mut self.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(())) => {
                    let read = buf.filled().len() - before;
                    buf.set_filled(before);
                    self.head_bytes = self.head_bytes.saturating_add(read);
                    if read == 0 || self.head_bytes > self.limits.max_header_bytes.saturating_add(LINGER_BYTES) {
                        return Poll::Ready(Err(refused()));
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return self.poll_deadline(cx),
            }
        }
    }

    fn busy(&mut self) {
        self.phase = Phase::Busy;
        self.deadline = None;
    }

    /// Notes bytes written: an answer starts the wait for the next request, and any write while waiting or over
    /// HTTP/2 moves the idle deadline on. The timer is set at once, because hyper may already be waiting to read.
    fn sent(&mut self, bytes: &[u8], cx: &mut Context<'_>) {
        match self.phase {
            Phase::Head | Phase::Refused => return,
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
            (Phase::Head | Phase::Refused, _) | (Phase::Waiting, false) => "http_header_timeout",
            (Phase::Waiting | Phase::Http2 | Phase::Busy, _) => "http_idle_timeout",
        };
        tracing::debug!(setting, "closing a connection that ran out of time");
        io::Error::new(io::ErrorKind::TimedOut, format!("connection closed after {setting}"))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Deadlines<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.phase == Phase::Refused {
            return this.linger(cx, buf);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = &buf.filled()[before..];
                if !fresh.is_empty() && this.received(fresh)? == Flow::Refuse {
                    // hyper never sees the bytes of a refused head.
                    buf.set_filled(before);
                    return this.refuse(cx, buf);
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
        if this.phase == Phase::Refused {
            return Poll::Ready(Err(refused()));
        }
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
        if this.phase == Phase::Refused {
            return Poll::Ready(Err(refused()));
        }
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

/// The error that closes a connection whose head was over `http_max_header_bytes`.
fn refused() -> io::Error {
    tracing::debug!(setting = "http_max_header_bytes", "closing a connection whose request head is too large");
    io::Error::new(io::ErrorKind::InvalidData, "request head over http_max_header_bytes")
}

/// An interim answer such as `100 Continue`, after which the request body is still to come.
fn is_interim(bytes: &[u8]) -> bool {
    bytes.starts_with(b"HTTP/1.1 1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_431_answer_is_well_formed() {
        let text = std::str::from_utf8(TOO_LARGE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();

        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{head}");
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())), "{head}");
        for header in ["x-content-type-options: nosniff", "x-frame-options: DENY", "referrer-policy: no-referrer"] {
            assert!(head.contains(&format!("\r\n{header}\r\n")), "{head}");
        }
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(body).unwrap()["detail"],
            "Request header fields too large."
        );
    }

    #[test]
    fn only_an_informational_status_is_interim() {
        assert!(is_interim(b"HTTP/1.1 100 Continue\r\n\r\n"));
        assert!(!is_interim(b"HTTP/1.1 200 OK\r\n"));
        assert!(!is_interim(b"HTTP/1.1 413 Payload Too Large\r\n"));
        assert!(!is_interim(b""));
    }
}
