//! Parsing of the `Authorization: Token <t>` request header, before any store is asked.

use crate::token::{PlainToken, TokenPrefix};

/// What an `Authorization` header says about token authentication.
#[derive(Debug)]
pub enum Credentials {
    /// No header, an empty one, or another scheme such as `Bearer`: the request is anonymous.
    Absent,
    /// The keyword `Token` alone.
    Missing,
    /// Three or more words, or a second word that is not the prefix followed by a well-formed token.
    Malformed,
    /// A well-formed token, still to be looked up.
    Token(PlainToken),
}

/// Reads a raw header value.
///
/// Words are separated by runs of ASCII whitespace; the keyword `token` is compared case-insensitively.
/// The token must start with `prefix` (byte for byte) and be exactly 64 characters after it, so with a prefix set a
/// bare token is malformed, and without one a prefixed token is.
/// The value is taken as bytes, so a header that is not valid UTF-8 is still judged by these rules.
pub fn parse_authorization(value: Option<&[u8]>, prefix: &TokenPrefix) -> Credentials {
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
    match prefix.strip(token).map(PlainToken::parse) {
        Some(Ok(token)) => Credentials::Token(token),
        Some(Err(_)) | None => Credentials::Malformed,
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
        check_with(TokenPrefix::NONE, value, expected);
    }

    #[track_caller]
    fn check_with(prefix: TokenPrefix, value: Option<&str>, expected: &str) {
        let got = match parse_authorization(value.map(str::as_bytes), &prefix) {
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

        assert!(matches!(parse_authorization(Some(&value), &TokenPrefix::NONE), Credentials::Malformed));
        assert!(matches!(parse_authorization(Some(b"\xa0Token x"), &TokenPrefix::NONE), Credentials::Absent));
    }

    #[test]
    fn with_a_prefix_only_the_prefixed_token_is_well_formed() {
        let at = TokenPrefix::parse("at_").unwrap();
        let token = format!("token {GOOD}");
        check_with(at, Some(&format!("Token at_{GOOD}")), &token);
        check_with(at, Some(&format!("token\tat_{GOOD} ")), &token);
        check_with(at, Some(&format!("Token {GOOD}")), "malformed");
        check_with(at, Some(&format!("Token AT_{GOOD}")), "malformed");
        check_with(at, Some(&format!("Token at{GOOD}")), "malformed");
        check_with(at, Some(&format!("Token at_at_{GOOD}")), "malformed");
        check_with(at, Some(&format!("Token at_{}", &GOOD[..63])), "malformed");
        check_with(at, Some(&format!("Token at_{GOOD}A")), "malformed");
        check_with(at, Some(&format!("Token at_ {GOOD}")), "malformed");
        check_with(at, Some("Token at_"), "malformed");
        check_with(at, Some("Token"), "missing");
        check_with(at, Some(&format!("Bearer at_{GOOD}")), "absent");
    }

    #[test]
    fn without_a_prefix_a_prefixed_token_is_malformed() {
        check(Some(&format!("Token at_{GOOD}")), "malformed");
        // 64 characters that happen to begin like a prefix are a token of their own.
        check(Some(&format!("Token at_{}", &GOOD[3..])), &format!("token at_{}", &GOOD[3..]));
    }
}
