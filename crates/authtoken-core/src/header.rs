//! Parsing of the `Authorization: Token <t>` request header, before any store is asked.

use crate::token::PlainToken;

/// What an `Authorization` header says about token authentication.
#[derive(Debug)]
pub enum Credentials {
    /// No header, an empty one, or another scheme such as `Bearer`: the request is anonymous.
    Absent,
    /// The keyword `Token` alone.
    Missing,
    /// Three or more words, or a second word that is not a well-formed token.
    Malformed,
    /// A well-formed token, still to be looked up.
    Token(PlainToken),
}

/// Reads a raw header value.
///
/// Words are separated by runs of ASCII whitespace; the keyword `token` is compared case-insensitively.
/// The value is taken as bytes, so a header that is not valid UTF-8 is still judged by these rules.
pub fn parse_authorization(value: Option<&[u8]>) -> Credentials {
    let Some(value) = value else {
        return Credentials::Absent;
    };
    let mut words = value.split(|b| is_ascii_whitespace(*b)).filter(|word| !word.is_empty());
    match words.next() {
        Some(keyword) if keyword.eq_ignore_ascii_case(b"token") => {}
        _ => return Credentials::Absent,
    }
    let Some(token) = words.next() else {
        return Credentials::Missing;
    };
    if words.next().is_some() {
        return Credentials::Malformed;
    }
    match PlainToken::parse(token) {
        Ok(token) => Credentials::Token(token),
        Err(_) => Credentials::Malformed,
    }
}

/// Python's `bytes.split()` whitespace: space, tab, LF, VT, FF and CR.
fn is_ascii_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz";

    #[track_caller]
    fn check(value: Option<&str>, expected: &str) {
        let got = match parse_authorization(value.map(str::as_bytes)) {
            Credentials::Absent => "absent".to_owned(),
            Credentials::Missing => "missing".to_owned(),
            Credentials::Malformed => "malformed".to_owned(),
            Credentials::Token(token) => format!("token {}", token.expose()),
        };
        assert_eq!(got, expected, "{value:?}");
    }

    #[test]
    fn parses_the_header_like_upstream_but_strictly() {
        let token = format!("token {GOOD}");
        check(None, "absent");
        check(Some(""), "absent");
        check(Some("   "), "absent");
        check(Some("Bearer abc"), "absent");
        check(Some("Basic dXNlcjpwYXNz"), "absent");
        check(Some("Tokens abc"), "absent");
        check(Some(&format!("Bearer {GOOD}")), "absent");
        check(Some("Token"), "missing");
        check(Some("  token  "), "missing");
        check(Some("Token a b"), "malformed");
        check(Some(&format!("Token {GOOD} extra")), "malformed");
        check(Some("Token abc"), "malformed");
        check(Some(&format!("Token {GOOD}=")), "malformed");
        check(Some(&format!("Token {GOOD}!")), "malformed");
        check(Some(&format!("Token {}+{}", &GOOD[..31], &GOOD[32..])), "malformed");
        check(Some(&format!("Token {GOOD}")), &token);
        check(Some(&format!("TOKEN {GOOD}")), &token);
        check(Some(&format!("tOkEn\t{GOOD}")), &token);
        check(Some(&format!(" \r\n Token \x0b\x0c {GOOD} \t")), &token);
    }

    #[test]
    fn non_utf8_bytes_are_judged_as_bytes() {
        let mut value = b"Token ".to_vec();
        value.extend_from_slice(&GOOD.as_bytes()[..63]);
        value.push(0xe9);

        assert!(matches!(parse_authorization(Some(&value)), Credentials::Malformed));
        assert!(matches!(parse_authorization(Some(b"\xa0Token x")), Credentials::Absent));
    }
}
