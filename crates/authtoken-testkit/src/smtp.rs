//! A real SMTP server on loopback that keeps what it receives, for mail tests.
//!
//! It speaks enough of RFC 5321 for a client such as lettre: EHLO/HELO, AUTH PLAIN (accepting any
//! credentials), MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP and QUIT, several messages per connection.
//! It can be taken down (it refuses connections and drops open ones) and brought back on the same port.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One message as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message (headers and body) with CRLF line ends, dot-unstuffed.
    pub data: String,
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

/// The SMTP server; stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    up: Arc<AtomicBool>,
    arrived: Arc<Notify>,
    cut: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on `127.0.0.1:0`.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Listens on `127.0.0.1:port` (0 picks a free one).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("the SMTP sink binds");
        let addr = listener.local_addr().expect("a local address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let up = Arc::new(AtomicBool::new(true));
        let (arrived, cut) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let task = tokio::spawn(accept(listener, received.clone(), up.clone(), arrived.clone(), cut.clone()));
        Self { addr, received, up, arrived, cut, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `smtp://127.0.0.1:PORT?tls=none`.
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until at least `count` messages arrived, or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.arrived.notified();
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
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(
    listener: TcpListener,
    received: Arc<Mutex<Vec<Received>>>,
    up: Arc<AtomicBool>,
    arrived: Arc<Notify>,
    cut: Arc<Notify>,
) {
    while let Ok((mut stream, _)) = listener.accept().await {
        if !up.load(Ordering::SeqCst) {
            let _ = stream.write_all(b"421 sink is down\r\n").await;
            continue;
        }
        let (received, arrived, cut) = (received.clone(), arrived.clone(), cut.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = session(stream, received, arrived) => {}
                () = cut.notified() => {}
            }
        });
    }
}

async fn session(stream: TcpStream, received: Arc<Mutex<Vec<Received>>>, arrived: Arc<Notify>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN\r\n",
            "HELO" | "NOOP" => b"250 ok\r\n",
            "AUTH" if command.split_whitespace().count() == 3 => b"235 accepted\r\n",
            "MAIL" => {
                from = address(&command);
                to.clear();
                b"250 ok\r\n"
            }
            "RCPT" => {
                to.push(address(&command));
                b"250 ok\r\n"
            }
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let data = read_data(&mut lines).await?;
                received.lock().unwrap_or_else(|p| p.into_inner()).push(Received {
                    mail_from: std::mem::take(&mut from),
                    rcpt_to: std::mem::take(&mut to),
                    data,
                });
                arrived.notify_waiters();
                b"250 queued\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 ok\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<String> {
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
