//! Connections are bounded in number, time and head size: the server closes idle, slow and half-open connections
//! by itself, answers a head over `http_max_header_bytes` with 431, keeps answering while all that goes on, and
//! waits instead of spinning when it runs out of file descriptors.
//!
//! The timeouts are short here (a second or a few), so every test ends within seconds.

use std::time::Duration;

use authtoken_sql::Backend;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::support::{Server, database};

/// The longest any test here waits for the server to close a connection whose timeout is a second.
const CLOSE_BOUND: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_slow_and_half_open_connections_are_closed_while_healthz_keeps_answering() {
    let database = database(Backend::Sqlite).await.unwrap();
    let server = Server::start(&database.options.url, &one_second_timeouts());
    let addr = server.addr();
    let mut attackers = Vec::new();

    for _ in 0..20 {
        attackers.push(idle(&addr).await);
        attackers.push(trickling_head(&addr).await);
    }
    for _ in 0..10 {
        attackers.push(idle_after_one_request(&addr).await);
        attackers.push(half_open(&addr).await);
    }
    let mut stalled_bodies = Vec::new();
    for _ in 0..10 {
        stalled_bodies.push(stalled_body(&addr).await);
    }
    let healthz = healthz_during(&server, Duration::from_millis(2500)).await;

    assert!(healthz.iter().all(|status| *status == Some(StatusCode::OK)), "{healthz:?}");
    for (i, attacker) in attackers.into_iter().enumerate() {
        assert!(attacker.await.unwrap().is_some(), "connection {i} is still open after {CLOSE_BOUND:?}");
    }
    for body in stalled_bodies {
        let answer =
            body.await.unwrap().unwrap_or_else(|| panic!("a stalled body is still open after {CLOSE_BOUND:?}"));
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_within_the_timeouts_keeps_its_connection() {
    let database = database(Backend::Sqlite).await.unwrap();
    let settings = [("AUTHTOKEN_HTTP_HEADER_TIMEOUT", "3s"), ("AUTHTOKEN_HTTP_IDLE_TIMEOUT", "3s")];
    let server = Server::start(&database.options.url, &settings);
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();

    for piece in ["GET /healthz HTTP/1.1\r\n", "Host: test\r\n", "\r\n"] {
        stream.write_all(piece.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first = read_answer(&mut stream).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    let second = read_answer(&mut stream).await;

    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
}

/// The server runs with 64 open files at most, soft and hard, and a connection limit far above that, so only
/// running out of descriptors stops it from accepting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_the_server_waits_without_spinning_and_recovers() {
    const OPEN_FILES: usize = 64;
    let database = database(Backend::Sqlite).await.unwrap();
    let settings = [
        ("AUTHTOKEN_HTTP_HEADER_TIMEOUT", "3s"),
        ("AUTHTOKEN_HTTP_IDLE_TIMEOUT", "3s"),
        ("AUTHTOKEN_HTTP_MAX_CONNECTIONS", "1000"),
    ];
    let server = Server::start_with_open_files(&database.options.url, &settings, OPEN_FILES);
    let pid = server.pid();
    assert!(
        std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap().lines().any(|line| {
            line.starts_with("Max open files") && line.split_whitespace().filter(|w| *w == "64").count() == 2
        }),
        "the server does not run with 64 open files"
    );
    let mut idle_connections = Vec::new();

    for _ in 0..80 {
        // The server takes them in batches as descriptors free up, 3 s a batch.
        idle_connections.push(idle_for(&server.addr(), Duration::from_secs(40)).await);
    }
    wait_for(|| open_files(pid) >= OPEN_FILES - 2, "the server to use up its descriptors").await;
    let (cpu_before, wall_before) = (cpu_time(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let busy = (cpu_time(pid) - cpu_before).as_secs_f64() / wall_before.elapsed().as_secs_f64();
    let still_exhausted = open_files(pid) >= OPEN_FILES - 2;
    let healthz = reqwest::Client::new().get(server.url("/healthz")).timeout(Duration::from_secs(30)).send().await;

    assert!(busy < 0.3, "the server kept {:.0}% of a CPU busy while out of descriptors", busy * 100.0);
    assert!(still_exhausted, "the server was not out of descriptors all the while");
    assert_eq!(healthz.unwrap().status(), StatusCode::OK);
    for (i, connection) in idle_connections.into_iter().enumerate() {
        assert!(connection.await.unwrap().is_some(), "idle connection {i} was never closed");
    }
    let log = server.log();
    assert!(log.contains("cannot accept connections"), "the exhaustion is not logged:\n{log}");
    assert!(log.contains("accepting connections again"), "the recovery is not logged:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_over_the_limit_is_answered_431_while_healthz_keeps_answering() {
    let database = database(Backend::Sqlite).await.unwrap();
    let server = Server::start(&database.options.url, &[("AUTHTOKEN_HTTP_HEADER_TIMEOUT", "3s")]);
    let addr = server.addr();
    let mut big_heads = Vec::new();

    for _ in 0..10 {
        big_heads.push(tokio::spawn(one_request(addr.clone(), head_of(20 * 1024))));
        big_heads.push(tokio::spawn(after_one_request(addr.clone(), 20 * 1024)));
    }
    let endless = endless_head(&addr).await;
    let healthz = healthz_during(&server, Duration::from_millis(1500)).await;
    let just_under = one_request(addr.clone(), head_of(16 * 1024 - 200)).await;

    assert!(healthz.iter().all(|status| *status == Some(StatusCode::OK)), "{healthz:?}");
    for (i, answer) in big_heads.into_iter().enumerate() {
        let answer = answer.await.unwrap().unwrap_or_else(|| panic!("connection {i} is still open"));
        assert!(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "connection {i}: {answer}");
        assert!(answer.ends_with(r#"{"detail":"Request header fields too large."}"#), "connection {i}: {answer}");
    }
    let endless = endless.await.unwrap().expect("a head without end is closed");
    assert!(endless.is_empty() || endless.starts_with("HTTP/1.1 431"), "{endless}");
    let just_under = just_under.expect("a head under the limit is answered");
    assert!(just_under.starts_with("HTTP/1.1 200"), "{just_under}");
    assert!(server.log().contains("http_max_header_bytes"), "the refusal is not logged");
}

/// A `GET /healthz` head of about `bytes` bytes in all, with `Connection: close`.
fn head_of(bytes: usize) -> Vec<u8> {
    let start = "GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-Big: ";
    let mut head = start.as_bytes().to_vec();
    head.resize(bytes.saturating_sub(4).max(head.len()), b'a');
    head.extend_from_slice(b"\r\n\r\n");
    head
}

/// Sends `head` on a new connection at once and reads until the server closes it; `None` if it is still open after
/// [`CLOSE_BOUND`].
async fn one_request(addr: String, head: Vec<u8>) -> Option<String> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&head).await.unwrap();
    closed_within(stream, CLOSE_BOUND).await
}

/// Asks once on a keep-alive connection, then sends a head of about `bytes` bytes in 4 KiB pieces, 20 ms apart, and
/// reads what follows the first answer until the server closes the connection.
async fn after_one_request(addr: String, bytes: usize) -> Option<String> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    let first = read_answer(&mut stream).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    for piece in head_of(bytes).chunks(4096) {
        if stream.write_all(piece).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    closed_within(stream, CLOSE_BOUND).await
}

/// A connection that sends a head without end as fast as it can, up to 4 MB; the task ends with what the server
/// sent before it closed the connection (the 431, or nothing when it reset the connection), or `None` when it was
/// still open after [`CLOSE_BOUND`].
async fn endless_head(addr: &str) -> JoinHandle<Option<String>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    tokio::spawn(async move {
        let flood = async {
            writer.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Endless: ").await?;
            let piece = vec![b'a'; 64 * 1024];
            for _ in 0..64 {
                writer.write_all(&piece).await?;
            }
            std::future::pending::<std::io::Result<()>>().await
        };
        let closed = async {
            let mut received = Vec::new();
            let _ = reader.read_to_end(&mut received).await;
            String::from_utf8_lossy(&received).into_owned()
        };
        tokio::time::timeout(CLOSE_BOUND, async {
            tokio::select! {
                result = flood => { let _: std::io::Result<()> = result; String::new() }
                text = closed => text,
            }
        })
        .await
        .ok()
    })
}

fn one_second_timeouts() -> [(&'static str, &'static str); 3] {
    [
        ("AUTHTOKEN_HTTP_HEADER_TIMEOUT", "1s"),
        ("AUTHTOKEN_HTTP_BODY_TIMEOUT", "1s"),
        ("AUTHTOKEN_HTTP_IDLE_TIMEOUT", "1s"),
    ]
}

/// A connection that never sends a byte; the task ends with what the server sent when it closed the connection, or
/// `None` when it was still open after [`CLOSE_BOUND`].
async fn idle(addr: &str) -> JoinHandle<Option<String>> {
    idle_for(addr, CLOSE_BOUND).await
}

/// As [`idle`], waiting up to `bound` for the server to close it.
async fn idle_for(addr: &str, bound: Duration) -> JoinHandle<Option<String>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    tokio::spawn(closed_within(stream, bound))
}

/// A connection that sends a request head one byte every 100 ms, and never its end (a slow loris).
async fn trickling_head(addr: &str) -> JoinHandle<Option<String>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    tokio::spawn(async move {
        let trickle = async {
            writer.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ").await?;
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                writer.write_all(b"a").await?;
            }
        };
        let closed = async {
            let mut received = Vec::new();
            let _ = reader.read_to_end(&mut received).await;
            String::from_utf8_lossy(&received).into_owned()
        };
        tokio::time::timeout(CLOSE_BOUND, async {
            tokio::select! {
                result = trickle => { let _: std::io::Result<()> = result; String::new() }
                text = closed => text,
            }
        })
        .await
        .ok()
    })
}

/// A keep-alive connection that asks once, reads the answer, and then sends nothing.
async fn idle_after_one_request(addr: &str) -> JoinHandle<Option<String>> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::spawn(closed_within(stream, CLOSE_BOUND))
}

/// A connection that sends half a request head and then nothing, as a client that vanished without closing.
async fn half_open(addr: &str) -> JoinHandle<Option<String>> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"POST /auth/login/ HTTP/1.1\r\nHost: te").await.unwrap();
    tokio::spawn(closed_within(stream, CLOSE_BOUND))
}

/// A login whose head is complete but whose body stops after a few bytes.
async fn stalled_body(addr: &str) -> JoinHandle<Option<String>> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head =
        "POST /auth/login/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"{\"username\": \"dora\"").await.unwrap();
    tokio::spawn(closed_within(stream, CLOSE_BOUND))
}

/// Reads until the server closes the connection; `None` if it is still open after `bound`.
async fn closed_within(mut stream: TcpStream, bound: Duration) -> Option<String> {
    let mut received = Vec::new();
    match tokio::time::timeout(bound, stream.read_to_end(&mut received)).await {
        Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
        Err(_) => None,
    }
}

/// Reads one answer whose body is short (it arrives with the head).
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.unwrap().unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// `/healthz` on a new connection every 100 ms for `period`; each status, or `None` for a failure.
async fn healthz_during(server: &Server, period: Duration) -> Vec<Option<StatusCode>> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(2)).build().unwrap();
    let end = Instant::now() + period;
    let mut statuses = Vec::new();
    while Instant::now() < end {
        statuses.push(client.get(server.url("/healthz")).send().await.ok().map(|r| r.status()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    statuses
}

/// Polls `condition` every 50 ms for up to 10 s.
async fn wait_for(mut condition: impl FnMut() -> bool, what: &str) {
    let end = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < end, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many descriptors the process holds.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|entries| entries.count()).unwrap_or(0)
}

/// The CPU time the process has used, in user and kernel mode.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}
