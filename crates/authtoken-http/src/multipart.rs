//! `multipart/form-data` bodies (RFC 7578) read into their text fields, as leniently as Django reads them.
//!
//! Part headers are not HTTP header lines: browsers write a field name as it is, UTF-8 and control characters
//! included, escaping only `"`, CR and LF (the WHATWG encoding), and some clients send RFC 2231's `name*=UTF-8''…`.
//! A strict HTTP header parser refuses such a part, so an unknown field with an odd name would fail the whole body.
//! Here an odd name is just a name that no rule reads; only a body whose structure is broken is an error.

/// Why a multipart body could not be read; the text becomes the 400's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MultipartError {
    #[error("the content type names no boundary")]
    NoBoundary,
    #[error("the body has no part delimiter")]
    NoDelimiter,
    #[error("a part delimiter is not followed by a line break")]
    BadDelimiter,
    #[error("a part has no end of its headers")]
    UnendedHeaders,
    #[error("the body ends inside a part")]
    UnendedPart,
}

/// The text fields of a body, in order; file parts (those with a `filename`) and parts without a name are left out.
pub(crate) fn text_fields(content_type: &str, body: &[u8]) -> Result<Vec<(String, String)>, MultipartError> {
    let boundary = content_type
        .parse::<mime::Mime>()
        .ok()
        .and_then(|m| m.get_param(mime::BOUNDARY).map(|b| b.as_str().to_owned()))
        .filter(|b| !b.is_empty())
        .ok_or(MultipartError::NoBoundary)?;
    let delimiter = [b"--", boundary.as_bytes()].concat();
    let next_delimiter = [b"\r\n", delimiter.as_slice()].concat();
    let mut rest = if body.starts_with(&delimiter) {
        &body[delimiter.len()..]
    } else {
        let at = find(body, &next_delimiter).ok_or(MultipartError::NoDelimiter)?;
        &body[at + next_delimiter.len()..]
    };
    let mut fields = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(fields);
        }
        let padding = rest.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        rest = rest[padding..].strip_prefix(b"\r\n").ok_or(MultipartError::BadDelimiter)?;
        let (headers, content) = match rest.strip_prefix(b"\r\n") {
            Some(content) => (&rest[..0], content),
            None => {
                let end = find(rest, b"\r\n\r\n").ok_or(MultipartError::UnendedHeaders)?;
                (&rest[..end], &rest[end + 4..])
            }
        };
        let end = find(content, &next_delimiter).ok_or(MultipartError::UnendedPart)?;
        if let Some(name) = field_name(headers) {
            fields.push((name, String::from_utf8_lossy(&content[..end]).into_owned()));
        }
        rest = &content[end + next_delimiter.len()..];
    }
}

/// The field name of a part that is a text field: its `Content-Disposition` has a `name` and no `filename`.
fn field_name(headers: &[u8]) -> Option<String> {
    let disposition = header_lines(headers).find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        line[..colon].trim_ascii().eq_ignore_ascii_case(b"content-disposition").then(|| line[colon + 1..].to_vec())
    })?;
    let parameters = parameters(&disposition);
    let named = |wanted: &str| parameters.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted));
    if named("filename").is_some() || named("filename*").is_some() {
        return None;
    }
    named("name*").and_then(|(_, value)| extended_value(value)).or_else(|| named("name").map(|(_, v)| text(v)))
}

/// The header lines of a part, with folded continuation lines joined to the line they continue.
fn header_lines(headers: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for line in headers.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line)) {
        match lines.last_mut() {
            Some(last) if line.first().is_some_and(|b| matches!(b, b' ' | b'\t')) => last.extend_from_slice(line),
            _ => lines.push(line.to_vec()),
        }
    }
    lines.into_iter()
}

/// The `;`-separated parameters after the disposition type, as (name, raw value); a quoted value is unquoted as
/// Django does (`\\` and `\"` are escapes, any other backslash is itself).
fn parameters(value: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut parameters = Vec::new();
    let mut rest = value;
    // Skip the disposition type.
    let Some(first) = rest.iter().position(|&b| b == b';') else { return parameters };
    rest = &rest[first + 1..];
    while !rest.is_empty() {
        let end_of_name = rest.iter().position(|&b| b == b'=' || b == b';').unwrap_or(rest.len());
        let name = String::from_utf8_lossy(rest[..end_of_name].trim_ascii()).into_owned();
        if rest.get(end_of_name) != Some(&b'=') {
            rest = rest.get(end_of_name + 1..).unwrap_or_default();
            continue;
        }
        let after = rest[end_of_name + 1..].trim_ascii_start();
        let (raw, remainder) = match after.strip_prefix(b"\"") {
            Some(quoted) => unquote(quoted),
            None => {
                let end = after.iter().position(|&b| b == b';').unwrap_or(after.len());
                (after[..end].trim_ascii().to_vec(), &after[end..])
            }
        };
        parameters.push((name, raw));
        let next = remainder.iter().position(|&b| b == b';').map_or(remainder.len(), |at| at + 1);
        rest = &remainder[next..];
    }
    parameters
}

/// A quoted string's content and what follows its closing quote (everything, when it has none).
fn unquote(quoted: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut content = Vec::with_capacity(quoted.len());
    let mut i = 0;
    while i < quoted.len() {
        match (quoted[i], quoted.get(i + 1)) {
            (b'\\', Some(&escaped @ (b'\\' | b'"'))) => {
                content.push(escaped);
                i += 2;
            }
            (b'"', _) => return (content, &quoted[i + 1..]),
            (byte, _) => {
                content.push(byte);
                i += 1;
            }
        }
    }
    (content, &quoted[quoted.len()..])
}

/// RFC 2231's `charset'language'percent-encoded` value; UTF-8 and ISO-8859-1 are read, other charsets not.
fn extended_value(value: &[u8]) -> Option<String> {
    let mut pieces = value.splitn(3, |&b| b == b'\'');
    let (charset, _language, encoded) = (pieces.next()?, pieces.next()?, pieces.next()?);
    let bytes = percent_decode(encoded);
    if charset.eq_ignore_ascii_case(b"utf-8") {
        return String::from_utf8(bytes).ok();
    }
    if charset.eq_ignore_ascii_case(b"iso-8859-1") {
        return Some(bytes.into_iter().map(char::from).collect());
    }
    None
}

fn percent_decode(encoded: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        let pair = (encoded.get(i + 1).copied().and_then(hex), encoded.get(i + 2).copied().and_then(hex));
        match (encoded[i], pair) {
            (b'%', (Some(high), Some(low))) => {
                bytes.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _) => {
                bytes.push(byte);
                i += 1;
            }
        }
    }
    bytes
}

/// A header's bytes as text: UTF-8 as browsers send it, anything else replaced.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=XX";

    #[track_caller]
    fn check(body: &str, expected: Result<&[(&str, &str)], MultipartError>) {
        let fields = text_fields(TYPE, body.as_bytes());
        let expected = expected.map(|pairs| pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect());
        assert_eq!(fields, expected, "{body:?}");
    }

    fn part(disposition: &str, value: &str) -> String {
        format!("--XX\r\nContent-Disposition: form-data; {disposition}\r\n\r\n{value}\r\n")
    }

    #[test]
    fn text_fields_are_read_with_any_name_a_client_may_write() {
        let body = |disposition: &str| format!("{}{}--XX--\r\n", part("name=\"a\"", "1"), part(disposition, "2"));
        check(&body("name=\"n\u{e4}me\""), Ok(&[("a", "1"), ("n\u{e4}me", "2")]));
        check(&body("name=\"a\u{e}b\u{7f}\""), Ok(&[("a", "1"), ("a\u{e}b\u{7f}", "2")]));
        check(&body("name*=UTF-8''n%C3%A4me"), Ok(&[("a", "1"), ("n\u{e4}me", "2")]));
        check(&body("name*=iso-8859-1'de'n%E4me"), Ok(&[("a", "1"), ("n\u{e4}me", "2")]));
        check(&body("name=\"x\"; name*=utf-8''y"), Ok(&[("a", "1"), ("y", "2")]));
        check(&body("name=plain"), Ok(&[("a", "1"), ("plain", "2")]));
        check(&body("name=\"q\\\"uo\\\\te\\d\""), Ok(&[("a", "1"), ("q\"uo\\te\\d", "2")]));
        check(&body("name=\"semi;colon\"; x=1"), Ok(&[("a", "1"), ("semi;colon", "2")]));
        check(&body("filename=\"f.txt\"; name=\"file\""), Ok(&[("a", "1")]));
        check(&body("name=\"file\"; filename*=UTF-8''f.txt"), Ok(&[("a", "1")]));
        check(&body("nameless=\"x\""), Ok(&[("a", "1")]));
    }

    #[test]
    fn the_structure_around_the_parts_is_read_as_rfc_2046_writes_it() {
        check("preamble\r\n--XX\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XX--", Ok(&[("a", "v")]));
        check(
            "--XX  \r\nContent-Disposition: form-data; name=a\r\n\r\nline\r\nline\r\n--XX--\r\nepilogue",
            Ok(&[("a", "line\r\nline")]),
        );
        check(
            "--XX\r\nContent-Type: text/plain\r\ncontent-disposition:\r\n form-data; name=a\r\n\r\nv\r\n--XX--",
            Ok(&[("a", "v")]),
        );
        check("--XX\r\n\r\nno headers\r\n--XX--", Ok(&[]));
        check("--XX--", Ok(&[]));
    }

    #[test]
    fn a_broken_structure_is_an_error() {
        check("garbage", Err(MultipartError::NoDelimiter));
        check("", Err(MultipartError::NoDelimiter));
        check("--XXjunk\r\n", Err(MultipartError::BadDelimiter));
        check("--XX\r\nContent-Disposition: form-data; name=a", Err(MultipartError::UnendedHeaders));
        check("--XX\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue", Err(MultipartError::UnendedPart));
        assert_eq!(text_fields("multipart/form-data", b"--XX--"), Err(MultipartError::NoBoundary));
        assert_eq!(text_fields("multipart/form-data; boundary=\"\"", b"----"), Err(MultipartError::NoBoundary));
    }
}
