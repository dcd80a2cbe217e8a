//! A minimal blocking HTTP/1.1 client for seeding users and tokens before the load starts (not for load).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context as _, bail};

/// A response's status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Response {
    pub status: u16,
    pub body: String,
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole response.
pub(super) fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<Response> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).with_context(|| format!("cannot send {method} {path}"))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).with_context(|| format!("cannot read the response to {method} {path}"))?;
    parse_response(&raw).with_context(|| format!("bad response to {method} {path}"))
}

/// Like [`send`], with a JSON body; a status other than `expected` is an error that shows the body.
pub(super) fn post_json(
    addr: SocketAddr,
    path: &str,
    body: &serde_json::Value,
    expected: u16,
) -> anyhow::Result<String> {
    let response = send(addr, "POST", path, &[("Content-Type", "application/json")], &body.to_string())?;
    if response.status != expected {
        bail!("POST {path} answered {} instead of {expected}: {}", response.status, response.body);
    }
    Ok(response.body)
}

fn parse_response(raw: &[u8]) -> anyhow::Result<Response> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").context("no end of headers")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .context("no status line")?;
    let chunked = lines.any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked { dechunk(body)? } else { body.to_owned() };
    Ok(Response { status, body })
}

fn dechunk(mut rest: &str) -> anyhow::Result<String> {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").context("a chunk has no size line")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).context("bad chunk size")?;
        if size == 0 {
            return Ok(body);
        }
        body.push_str(after.get(..size).context("a chunk is cut short")?);
        rest = after.get(size + 2..).context("a chunk has no end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(raw: &str, status: u16, body: &str) {
        assert_eq!(parse_response(raw.as_bytes()).unwrap(), Response { status, body: body.to_owned() }, "{raw:?}");
    }

    #[test]
    fn responses_are_read_with_and_without_chunking() {
        check("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", 200, "{}");
        check("HTTP/1.1 201 Created\r\n\r\n", 201, "");
        check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 200, "abcde");
    }

    #[test]
    fn a_response_without_headers_is_an_error() {
        assert!(parse_response(b"HTTP/1.1 200 OK").is_err());
        assert!(parse_response(b"\r\n\r\n").is_err());
    }
}
