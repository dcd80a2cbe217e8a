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
    use proptest::prelude::*;

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

    /// What a generated header says, by construction.
    #[derive(Debug, PartialEq, Eq)]
    enum Said {
        Absent,
        Missing,
        Malformed,
        Token(Vec<u8>),
    }

    fn said(credentials: Credentials) -> Said {
        match credentials {
            Credentials::Absent => Said::Absent,
            Credentials::Missing => Said::Missing,
            Credentials::Malformed => Said::Malformed,
            Credentials::Token(token) => Said::Token(token.expose().into_bytes()),
        }
    }

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const WHITESPACE: &[u8; 6] = b" \t\n\x0b\x0c\r";

    /// A word after the keyword: a well-formed token (`true`) or a word that is not one (`false`).
    fn words() -> impl Strategy<Value = (Vec<u8>, bool)> {
        let letter = || proptest::sample::select(ALPHABET.to_vec());
        let token = proptest::collection::vec(letter(), 64).prop_map(|word| (word, true));
        let wrong_length =
            prop_oneof![proptest::collection::vec(letter(), 1..64), proptest::collection::vec(letter(), 65..100)];
        let outside = any::<u8>().prop_filter("not whitespace nor the alphabet", |byte| {
            !WHITESPACE.contains(byte) && !ALPHABET.contains(byte)
        });
        let bad_byte =
            (proptest::collection::vec(letter(), 64), 0..64usize, outside).prop_map(|(mut word, at, byte)| {
                word[at] = byte;
                word
            });
        prop_oneof![2 => token, 1 => wrong_length.prop_map(|word| (word, false)), 1 => bad_byte.prop_map(|word| (word, false))]
    }

    /// A header built from parts, with what it says.
    fn headers() -> impl Strategy<Value = (Vec<u8>, Said)> {
        let keywords = [
            ("Token", true),
            ("token", true),
            ("TOKEN", true),
            ("tOkEn", true),
            ("Bearer", false),
            ("Basic", false),
            ("Tokens", false),
            ("Toke", false),
            ("T0ken", false),
            ("Token:", false),
        ];
        let space = |min: usize| proptest::collection::vec(proptest::sample::select(WHITESPACE.to_vec()), min..3);
        (
            space(0),
            proptest::sample::select(keywords.to_vec()),
            proptest::collection::vec((space(1), words()), 0..4),
            space(0),
        )
            .prop_map(|(lead, (keyword, is_token), rest, trail)| {
                let mut header = lead;
                header.extend_from_slice(keyword.as_bytes());
                for (space, (word, _)) in &rest {
                    header.extend_from_slice(space);
                    header.extend_from_slice(word);
                }
                header.extend_from_slice(&trail);
                let said = match rest.as_slice() {
                    _ if !is_token => Said::Absent,
                    [] => Said::Missing,
                    [(_, (word, true))] => Said::Token(word.clone()),
                    _ => Said::Malformed,
                };
                (header, said)
            })
    }

    /// Bytes made of pieces that matter to the parser: keywords, runs of the alphabet (64 long or not), whitespace,
    /// and any bytes.
    fn pieces() -> impl Strategy<Value = Vec<u8>> {
        let letters = |len: std::ops::RangeInclusive<usize>| {
            proptest::collection::vec(proptest::sample::select(ALPHABET.to_vec()), len)
        };
        let keyword = proptest::sample::select(vec!["Token", "token", "tOKEN", "Bearer"]);
        let piece = prop_oneof![
            3 => keyword.prop_map(|word| word.as_bytes().to_vec()),
            1 => Just(b"tk_".to_vec()),
            3 => proptest::collection::vec(proptest::sample::select(WHITESPACE.to_vec()), 1..3),
            2 => letters(64..=64),
            1 => letters(1..=69),
            1 => proptest::collection::vec(any::<u8>(), 1..4),
        ];
        proptest::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
    }

    /// The simple model: the whitespace-separated words of the value, as Python's `bytes.split()` makes them, and a
    /// token after the prefix.
    fn model(value: &[u8], prefix: &[u8]) -> Said {
        let words: Vec<&[u8]> =
            value.split(|byte| byte.is_ascii_whitespace() || *byte == 0x0b).filter(|word| !word.is_empty()).collect();
        match words.as_slice() {
            [keyword, ..] if !keyword.eq_ignore_ascii_case(b"token") => Said::Absent,
            [] => Said::Absent,
            [_] => Said::Missing,
            [_, word]
                if word.len() == prefix.len() + 64
                    && word.starts_with(prefix)
                    && word[prefix.len()..].iter().all(|byte| ALPHABET.contains(byte)) =>
            {
                Said::Token(word[prefix.len()..].to_vec())
            }
            _ => Said::Malformed,
        }
    }

    proptest! {
        #[test]
        fn a_header_says_what_it_was_built_to_say((header, expected) in headers()) {
            prop_assert_eq!(said(parse_authorization(Some(&header), &TokenPrefix::NONE)), expected);
        }

        #[test]
        fn the_parser_agrees_with_the_simple_model_on_any_bytes(
            value in pieces(),
            prefix in proptest::sample::select(vec!["", "tk_"]),
        ) {
            let parsed = parse_authorization(Some(&value), &TokenPrefix::parse(prefix).unwrap());

            prop_assert_eq!(said(parsed), model(&value, prefix.as_bytes()));
        }

        #[test]
        fn a_canonical_header_renders_back_to_the_same_bytes((word, _) in words()) {
            let header = [b"Token ".as_slice(), &word].concat();

            if let Credentials::Token(token) = parse_authorization(Some(&header), &TokenPrefix::NONE) {
                prop_assert_eq!(format!("Token {}", token.expose()).into_bytes(), header);
            }
        }
    }
}
