//! A real SMTP server on loopback that keeps what it receives, for mail tests.
//!
//! It speaks enough of RFC 5321 for a client such as lettre: EHLO/HELO, AUTH PLAIN (accepting any
//! credentials), MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP and QUIT, several messages per connection.
//! It can be taken down (it refuses connections and drops open ones) and brought back on the same port,
//! and it can speak TLS (STARTTLS or implicit) with a self-signed certificate for `localhost`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

/// One message as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message (headers and body) with CRLF line ends, dot-unstuffed.
    pub data: String,
    /// Whether the message came over TLS.
    pub tls: bool,
}

impl Received {
    /// The value of the first header called `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    current.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_owned());
            }
        }
        value
    }

    /// Everything after the headers.
    pub fn body(&self) -> &str {
        self.data.split_once("\r\n\r\n").map_or("", |(_, body)| body)
    }
}

/// How the sink protects its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkTls {
    /// Plain text only; STARTTLS is not offered.
    None,
    /// STARTTLS is offered and taken when asked for.
    Starttls,
    /// TLS from the first byte (what `smtps://` expects).
    Implicit,
}

/// The SMTP server; stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Shared,
    tls: SinkTls,
    certificate_pem: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    /// Recipients answered `550` at `RCPT TO`.
    refused: Arc<Mutex<Vec<String>>>,
    up: Arc<AtomicBool>,
    arrived: Arc<Notify>,
    cut: Arc<Notify>,
    tls: SinkTls,
    acceptor: Option<TlsAcceptor>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink").field("addr", &self.addr).field("tls", &self.tls).finish_non_exhaustive()
    }
}

impl SmtpSink {
    /// Refuses mail to `recipient` for good from now on: `RCPT TO` answers `550`.
    pub fn refuse(&self, recipient: &str) {
        self.shared.refused.lock().unwrap_or_else(|p| p.into_inner()).push(recipient.to_owned());
    }

    /// A plain-text sink on `127.0.0.1:0`.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// A plain-text sink on `127.0.0.1:port` (0 picks a free one).
    pub async fn start_on(port: u16) -> Self {
        Self::launch(port, SinkTls::None).await
    }

    /// A sink that speaks TLS with a fresh self-signed certificate for `localhost` (see [`SmtpSink::certificate_pem`]).
    pub async fn start_tls(tls: SinkTls) -> Self {
        Self::launch(0, tls).await
    }

    async fn launch(port: u16, tls: SinkTls) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("the SMTP sink binds");
        let addr = listener.local_addr().expect("a local address");
        let (acceptor, certificate_pem) = match tls {
            SinkTls::None => (None, None),
            SinkTls::Starttls | SinkTls::Implicit => {
                let (acceptor, pem) = self_signed_acceptor();
                (Some(acceptor), Some(pem))
            }
        };
        let shared = Shared {
            received: Arc::new(Mutex::new(Vec::new())),
            refused: Arc::new(Mutex::new(Vec::new())),
            up: Arc::new(AtomicBool::new(true)),
            arrived: Arc::new(Notify::new()),
            cut: Arc::new(Notify::new()),
            tls,
            acceptor,
        };
        let task = tokio::spawn(accept(listener, shared.clone()));
        Self { addr, shared, tls, certificate_pem, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL a mailer uses: `smtp://127.0.0.1:PORT?tls=none`, `smtp://localhost:PORT?tls=required` or
    /// `smtps://localhost:PORT`.
    pub fn url(&self) -> String {
        let port = self.addr.port();
        match self.tls {
            SinkTls::None => format!("smtp://{}?tls=none", self.addr),
            SinkTls::Starttls => format!("smtp://localhost:{port}?tls=required"),
            SinkTls::Implicit => format!("smtps://localhost:{port}"),
        }
    }

    /// The sink's certificate (PEM), for a client to trust; `None` for a plain-text sink.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until at least `count` messages arrived, or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.received();
            }
        }
    }

    /// Refuses new connections (`421`) and drops open ones.
    pub fn down(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        self.shared.cut.notify_waiters();
    }

    pub fn up(&self) {
        self.shared.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TLS acceptor for `localhost` with a fresh self-signed certificate, and that certificate in PEM.
fn self_signed_acceptor() -> (TlsAcceptor, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a self-signed certificate");
    let certificate = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .expect("a TLS server configuration");
    (TlsAcceptor::from(Arc::new(config)), certified.cert.pem())
}

async fn accept(listener: TcpListener, shared: Shared) {
    while let Ok((mut stream, _)) = listener.accept().await {
        if !shared.up.load(Ordering::SeqCst) {
            let _ = stream.write_all(b"421 sink is down\r\n").await;
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let cut = shared.cut.clone();
            tokio::select! {
                _ = connection(stream, shared) => {}
                () = cut.notified() => {}
            }
        });
    }
}

/// One connection: plain, upgraded by STARTTLS, or TLS from the start.
async fn connection(stream: tokio::net::TcpStream, shared: Shared) -> std::io::Result<()> {
    let acceptor = shared.acceptor.clone();
    match (shared.tls, acceptor) {
        (SinkTls::Implicit, Some(acceptor)) => {
            let stream = acceptor.accept(stream).await?;
            session(stream, &shared, true).await.map(|_| ())
        }
        (SinkTls::Starttls, Some(acceptor)) => {
            let Some(stream) = session(stream, &shared, false).await? else {
                return Ok(());
            };
            let stream = acceptor.accept(stream).await?;
            session(stream, &shared, true).await.map(|_| ())
        }
        _ => session(stream, &shared, false).await.map(|_| ()),
    }
}

/// Speaks SMTP until QUIT or the end of the stream; returns the stream when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    shared: &Shared,
    tls: bool,
) -> std::io::Result<Option<S>> {
    let mut lines = BufReader::new(stream);
    if !tls || shared.tls == SinkTls::Implicit {
        lines.get_mut().write_all(b"220 sink ESMTP\r\n").await?;
    }
    let offer_starttls = shared.tls == SinkTls::Starttls && !tls;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let command = line.trim_end().to_owned();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" if offer_starttls => b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 STARTTLS\r\n",
            "EHLO" => b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN\r\n",
            "STARTTLS" if offer_starttls => {
                lines.get_mut().write_all(b"220 ready to start TLS\r\n").await?;
                return Ok(Some(lines.into_inner()));
            }
            "HELO" | "NOOP" => b"250 ok\r\n",
            "AUTH" if command.split_whitespace().count() == 3 => b"235 accepted\r\n",
            "MAIL" => {
                from = address(&command);
                to.clear();
                b"250 ok\r\n"
            }
            "RCPT" if shared.refused.lock().unwrap_or_else(|p| p.into_inner()).contains(&address(&command)) => {
                b"550 5.1.1 no such user here\r\n"
            }
            "RCPT" => {
                to.push(address(&command));
                b"250 ok\r\n"
            }
            "DATA" => {
                lines.get_mut().write_all(b"354 go ahead\r\n").await?;
                let data = read_data(&mut lines).await?;
                shared.received.lock().unwrap_or_else(|p| p.into_inner()).push(Received {
                    mail_from: std::mem::take(&mut from),
                    rcpt_to: std::mem::take(&mut to),
                    data,
                    tls,
                });
                shared.arrived.notify_waiters();
                b"250 queued\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 ok\r\n"
            }
            "QUIT" => {
                lines.get_mut().write_all(b"221 bye\r\n").await?;
                return Ok(None);
            }
            _ => b"502 not implemented\r\n",
        };
        lines.get_mut().write_all(reply).await?;
    }
}

async fn read_data<S: AsyncRead + Unpin>(lines: &mut BufReader<S>) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(data);
        }
        if line == ".\r\n" || line == ".\n" {
            return Ok(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}

/// The address inside `MAIL FROM:<a@b> SIZE=1` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    command.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map_or_else(String::new, |(a, _)| a.to_owned())
}
