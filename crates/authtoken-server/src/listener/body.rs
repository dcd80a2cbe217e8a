//! The body deadline: a request body must arrive within `http_body_timeout` of the handler being called.
//!
//! The connection cannot bound the body itself, because it does not know where a body ends; the body does. A body
//! that is late fails to read, the handler answers 400 as for any body that cannot be read, and hyper closes the
//! connection because the body was not read to its end. Requests without a body pass through untouched.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::{Body, Endpoint, Middleware, Request};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Sleep;

/// The middleware that gives every request body a deadline.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    pub timeout: Duration,
}

impl<E: Endpoint> Middleware<E> for BodyDeadline {
    type Output = BodyDeadlineEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyDeadlineEndpoint { inner, timeout: self.timeout }
    }
}

/// An endpoint whose request bodies have a deadline.
#[derive(Debug)]
pub struct BodyDeadlineEndpoint<E> {
    inner: E,
    timeout: Duration,
}

impl<E: Endpoint> Endpoint for BodyDeadlineEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut request: Request) -> poem::Result<Self::Output> {
        let body = request.take_body();
        if body.is_empty() {
            request.set_body(body);
        } else {
            let timer = Box::pin(tokio::time::sleep(self.timeout));
            request.set_body(Body::from_async_read(LateBody { inner: body.into_async_read(), timer }));
        }
        self.inner.call(request).await
    }
}

/// A body that fails to read once its deadline has passed.
struct LateBody<R> {
    inner: R,
    timer: Pin<Box<Sleep>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for LateBody<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    tracing::debug!("a request body did not arrive within http_body_timeout");
                    Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request body timed out")))
                }
                Poll::Pending => Poll::Pending,
            },
            ready => ready,
        }
    }
}
