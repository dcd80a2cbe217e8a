//! Fuzzes the `Authorization` header parser: any bytes are judged without a panic, as the header's words say, and
//! a token that parses renders back to the very bytes it was written with.

#![no_main]

use authtoken_core::header::{Credentials, parse_authorization};
use authtoken_core::token::{PlainToken, TokenPrefix};
use libfuzzer_sys::fuzz_target;

/// Python's `bytes.split()` whitespace, which separates the header's words.
const WHITESPACE: &[u8] = b" \t\n\x0b\x0c\r";

fuzz_target!(|value: &[u8]| {
    let words: Vec<&[u8]> = value.split(|byte| WHITESPACE.contains(byte)).filter(|word| !word.is_empty()).collect();
    let keyword = words.first().is_some_and(|word| word.eq_ignore_ascii_case(b"token"));

    match parse_authorization(Some(value), &TokenPrefix::NONE) {
        Credentials::Absent => assert!(!keyword, "a `token` keyword was taken as absent"),
        Credentials::Missing => {
            assert!(keyword && words.len() == 1, "missing, but the header has {} words", words.len())
        }
        Credentials::Malformed => {
            assert!(keyword, "malformed without the `token` keyword");
            assert!(
                words.len() > 2 || PlainToken::parse(words[1]).is_err(),
                "a well-formed token was called malformed"
            );
        }
        Credentials::Token(token) => {
            assert!(keyword && words.len() == 2, "a token out of {} words", words.len());
            let text = token.expose();
            assert_eq!(text.as_bytes(), words[1], "the token renders to other bytes than it was written with");
            let canonical = format!("Token {text}");
            if value.starts_with(b"Token ") && value.len() == canonical.len() {
                assert_eq!(canonical.as_bytes(), value, "a canonical header renders to other bytes");
            }
            let again = PlainToken::parse(text.as_bytes()).expect("a rendered token parses");
            assert!(again.digest() == token.digest(), "a rendered token parses to another digest");
        }
    }

    // With a prefix, a token is the prefix and then the 64 characters, and renders back to them.
    let prefix = TokenPrefix::parse("at_").expect("a valid prefix");
    if let Credentials::Token(token) = parse_authorization(Some(value), &prefix) {
        assert_eq!(format!("at_{}", token.expose()).as_bytes(), words[1], "a prefixed token renders otherwise");
    }

    if let Ok(token) = PlainToken::parse(value) {
        assert_eq!(token.expose().as_bytes(), value, "a token has a second spelling");
    }
});
