//! Login tokens: generation from the OS CSPRNG, the one strict text form, the digest that stores keep, and the
//! optional prefix that login tokens carry on the wire.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;
use sha2::{Digest as _, Sha512};
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize as _, Zeroizing};

/// Raw bytes of a token.
pub const TOKEN_BYTES: usize = 48;
/// Characters of a token's text form (URL-safe base64 without padding of [`TOKEN_BYTES`]).
pub const TOKEN_CHARS: usize = 64;
/// Bytes of a [`TokenDigest`] (SHA-512).
pub const DIGEST_BYTES: usize = 64;
/// The most characters a [`TokenPrefix`] may have.
pub const TOKEN_PREFIX_MAX_CHARS: usize = 16;

/// A token in plain text: it exists only here and in the one response that issues it.
///
/// Its `Debug` output is redacted and its bytes are zeroised on drop.
pub struct PlainToken(Zeroizing<[u8; TOKEN_BYTES]>);

/// Why a text is not a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed token")]
pub struct MalformedToken;

/// The OS random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomnessUnavailable(#[source] pub(crate) crate::error::BoxError);

impl PlainToken {
    /// Draws a new token from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        rand::rngs::SysRng.try_fill_bytes(bytes.as_mut_slice()).map_err(|e| RandomnessUnavailable(e.into()))?;
        Ok(Self(bytes))
    }

    /// Parses the strict text form: exactly 64 characters of `A-Z a-z 0-9 - _`, nothing else.
    ///
    /// There is one spelling per token: no padding, no standard-alphabet `+` or `/`, no junk.
    pub fn parse(text: &[u8]) -> Result<Self, MalformedToken> {
        if text.len() != TOKEN_CHARS || !text.iter().copied().all(is_token_char) {
            return Err(MalformedToken);
        }
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        let written = URL_SAFE_NO_PAD.decode_slice(text, bytes.as_mut_slice()).map_err(|_| MalformedToken)?;
        if written != TOKEN_BYTES {
            return Err(MalformedToken);
        }
        Ok(Self(bytes))
    }

    /// The text form, for the one response that hands the token to its owner.
    pub fn expose(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_slice())
    }

    /// The digest stores keep instead of the token: SHA-512 of the 48 raw bytes.
    pub fn digest(&self) -> TokenDigest {
        let mut out = [0u8; DIGEST_BYTES];
        out.copy_from_slice(&Sha512::digest(self.0.as_slice()));
        TokenDigest(out)
    }
}

/// What every login token starts with on the wire, such as `at_`, so that secret scanners recognise a leaked token
/// (`token_prefix`); empty by default.
///
/// The prefix is not part of the token: the digest is of the 48 raw bytes alone, as without a prefix, so sessions
/// stored before the prefix was set (or imported from Django) keep their rows. Their holders must send them with
/// the prefix, though: [`crate::header::parse_authorization`] refuses a token without it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenPrefix {
    bytes: [u8; TOKEN_PREFIX_MAX_CHARS],
    len: u8,
}

/// Why a text is not a token prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a token prefix is at most 16 characters, each a letter, a digit, `-` or `_`")]
pub struct InvalidTokenPrefix;

impl TokenPrefix {
    /// No prefix: tokens are the 64 characters alone, as upstream's.
    pub const NONE: Self = Self { bytes: [0; TOKEN_PREFIX_MAX_CHARS], len: 0 };

    /// Parses a prefix: at most [`TOKEN_PREFIX_MAX_CHARS`] of `A-Z a-z 0-9 - _` (the token's own alphabet, so a
    /// prefixed token is still one URL-safe word); empty means none.
    pub fn parse(text: &str) -> Result<Self, InvalidTokenPrefix> {
        if text.len() > TOKEN_PREFIX_MAX_CHARS || !text.bytes().all(is_token_char) {
            return Err(InvalidTokenPrefix);
        }
        let len = u8::try_from(text.len()).map_err(|_| InvalidTokenPrefix)?;
        let mut bytes = [0; TOKEN_PREFIX_MAX_CHARS];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Self { bytes, len })
    }

    /// The prefix as written; empty for none.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes from a `&str` are ever stored.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// Whether there is no prefix.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// What follows the prefix in `text`, or `None` when `text` does not start with it (byte for byte).
    pub fn strip<'a>(&self, text: &'a [u8]) -> Option<&'a [u8]> {
        text.strip_prefix(self.as_bytes())
    }
}

impl fmt::Debug for TokenPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokenPrefix").field(&self.as_str()).finish()
    }
}

/// A new session's token as its owner receives it: the [`TokenPrefix`], then the token's 64 characters.
///
/// Its `Debug` output is redacted, and the token inside is a [`PlainToken`], zeroised on drop.
pub struct IssuedToken {
    prefix: TokenPrefix,
    token: PlainToken,
}

impl IssuedToken {
    /// `token` as it is handed out under `prefix`.
    pub fn new(prefix: TokenPrefix, token: PlainToken) -> Self {
        Self { prefix, token }
    }

    /// The text form with its prefix, for the one response that hands the token to its owner.
    pub fn expose(&self) -> String {
        let mut text = String::with_capacity(self.prefix.as_str().len() + TOKEN_CHARS);
        text.push_str(self.prefix.as_str());
        text.push_str(&self.token.expose());
        text
    }

    /// The token without its prefix.
    pub fn plain(&self) -> &PlainToken {
        &self.token
    }

    /// The digest stores keep: of the token's raw bytes, never of the prefix.
    pub fn digest(&self) -> TokenDigest {
        self.token.digest()
    }
}

impl From<IssuedToken> for PlainToken {
    fn from(issued: IssuedToken) -> Self {
        issued.token
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuedToken(<redacted>)")
    }
}

/// `A-Z a-z 0-9 - _`: URL-safe base64's alphabet.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(<redacted>)")
    }
}

/// SHA-512 of a token's raw bytes: the key under which stores keep a session.
///
/// Its `Debug` output is redacted, and equality is constant-time.
#[derive(Clone)]
pub struct TokenDigest([u8; DIGEST_BYTES]);

impl TokenDigest {
    /// Rebuilds a digest read back from a store; `None` when the length is wrong.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; DIGEST_BYTES]>::try_from(bytes).ok().map(Self)
    }

    /// The 64 bytes of the digest, for a store to keep.
    pub fn as_bytes(&self) -> &[u8; DIGEST_BYTES] {
        &self.0
    }
}

impl PartialEq for TokenDigest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for TokenDigest {}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(<redacted>)")
    }
}

impl Drop for TokenDigest {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[track_caller]
    fn check_malformed(text: &str) {
        assert_eq!(PlainToken::parse(text.as_bytes()).map(|_| ()), Err(MalformedToken), "{text:?}");
    }

    fn sample() -> String {
        PlainToken::generate().unwrap().expose()
    }

    #[test]
    fn generated_tokens_are_64_url_safe_characters_and_differ() {
        let a = sample();
        let b = sample();

        assert_eq!(a.len(), TOKEN_CHARS);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn parse_round_trips_the_text_form() {
        let token = PlainToken::generate().unwrap();

        let parsed = PlainToken::parse(token.expose().as_bytes()).unwrap();

        assert_eq!(parsed.expose(), token.expose());
        assert_eq!(parsed.digest(), token.digest());
    }

    #[test]
    fn parse_rejects_every_other_spelling() {
        let good = sample();
        check_malformed("");
        check_malformed(&good[..63]);
        check_malformed(&format!("{good}A"));
        check_malformed(&format!("{good}="));
        check_malformed(&format!("{good}=="));
        check_malformed(&format!("{}!", &good[..63]));
        check_malformed(&format!("{}.{}", &good[..31], &good[32..]));
        check_malformed(&format!("{}+", &good[..63]));
        check_malformed(&format!("{}/", &good[..63]));
        check_malformed(&format!("{}é", &good[..62]));
        check_malformed(&" ".repeat(64));
    }

    #[test]
    fn digest_is_sha512_of_the_raw_bytes_not_of_the_text() {
        let text = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let token = PlainToken::parse(text.as_bytes()).unwrap();

        let expected: [u8; 64] = Sha512::digest([0u8; 48]).into();

        assert_eq!(token.digest().as_bytes(), &expected);
        assert_ne!(token.digest().as_bytes().as_slice(), Sha512::digest(text.as_bytes()).as_slice());
    }

    #[test]
    fn debug_output_is_redacted() {
        let token = PlainToken::generate().unwrap();
        let text = token.expose();

        let shown = format!("{token:?} {:?}", token.digest());

        assert!(!shown.contains(&text));
        assert_eq!(shown, "PlainToken(<redacted>) TokenDigest(<redacted>)");
    }

    #[track_caller]
    fn check_prefix(text: &str, valid: bool) {
        let parsed = TokenPrefix::parse(text);

        assert_eq!(
            parsed.map(|prefix| prefix.as_str().to_owned()),
            if valid { Ok(text.to_owned()) } else { Err(InvalidTokenPrefix) },
            "{text:?}"
        );
    }

    #[test]
    fn a_prefix_is_a_short_run_of_the_token_alphabet() {
        check_prefix("", true);
        check_prefix("at_", true);
        check_prefix("Acme-Prod_2", true);
        check_prefix(&"p".repeat(16), true);
        check_prefix(&"p".repeat(17), false);
        check_prefix("at.", false);
        check_prefix("at ", false);
        check_prefix("a/t", false);
        check_prefix("at+", false);
        check_prefix("é", false);
        assert!(TokenPrefix::parse("").unwrap().is_empty());
        assert_eq!(TokenPrefix::parse("").unwrap(), TokenPrefix::NONE);
    }

    #[test]
    fn strip_takes_the_prefix_byte_for_byte() {
        let prefix = TokenPrefix::parse("at_").unwrap();

        assert_eq!(prefix.strip(b"at_xyz"), Some(&b"xyz"[..]));
        assert_eq!(prefix.strip(b"AT_xyz"), None);
        assert_eq!(prefix.strip(b"at"), None);
        assert_eq!(prefix.strip(b"xyz"), None);
        assert_eq!(TokenPrefix::NONE.strip(b"at_xyz"), Some(&b"at_xyz"[..]));
    }

    #[test]
    fn an_issued_token_is_the_prefix_then_the_64_characters_and_keeps_the_plain_digest() {
        let token = PlainToken::generate().unwrap();
        let text = token.expose();
        let digest = token.digest();

        let issued = IssuedToken::new(TokenPrefix::parse("at_").unwrap(), token);

        assert_eq!(issued.expose(), format!("at_{text}"));
        assert_eq!(issued.digest(), digest);
        assert_eq!(issued.plain().expose(), text);
        assert_eq!(IssuedToken::new(TokenPrefix::NONE, PlainToken::from(issued)).expose(), text);
    }

    #[test]
    fn an_issued_token_and_a_prefix_show_no_secret_in_debug() {
        let issued = IssuedToken::new(TokenPrefix::parse("at_").unwrap(), PlainToken::generate().unwrap());

        let shown = format!("{issued:?} {:?}", TokenPrefix::parse("at_").unwrap());

        assert_eq!(shown, r#"IssuedToken(<redacted>) TokenPrefix("at_")"#);
    }

    #[test]
    fn digest_from_slice_checks_the_length() {
        assert!(TokenDigest::from_slice(&[0u8; 63]).is_none());
        assert!(TokenDigest::from_slice(&[0u8; 64]).is_some());
    }

    #[test]
    fn generated_tokens_round_trip_through_their_text() {
        for _ in 0..256 {
            let token = PlainToken::generate().unwrap();

            let parsed = PlainToken::parse(token.expose().as_bytes()).unwrap();

            assert_eq!(parsed.digest(), token.digest());
            assert_eq!(parsed.expose(), token.expose());
        }
    }

    /// Ways to change a token's text: each gives another text, which must not parse to the same token.
    #[derive(Clone, Debug)]
    enum Respelling {
        /// Flip the case of the letter at an index (modulo the length), if it is a letter.
        FlipCase(usize),
        /// Insert one of the given bytes at an index: whitespace, padding, the standard alphabet, junk.
        Insert(usize, u8),
        /// Replace the byte at an index.
        Replace(usize, u8),
        /// Drop the byte at an index.
        Drop(usize),
    }

    fn respellings() -> impl Strategy<Value = Respelling> {
        let byte = prop_oneof![
            proptest::sample::select(b" \t\r\n\x0b\x0c=+/.!%\0".to_vec()),
            any::<u8>(),
            proptest::sample::select(URL_SAFE_ALPHABET.to_vec()),
        ];
        prop_oneof![
            any::<usize>().prop_map(Respelling::FlipCase),
            (any::<usize>(), byte.clone()).prop_map(|(at, byte)| Respelling::Insert(at, byte)),
            (any::<usize>(), byte).prop_map(|(at, byte)| Respelling::Replace(at, byte)),
            any::<usize>().prop_map(Respelling::Drop),
        ]
    }

    const URL_SAFE_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// Applies a change to a text of at least one byte.
    fn respell(text: &[u8], respelling: &Respelling) -> Vec<u8> {
        let mut text = text.to_vec();
        let len = text.len();
        match *respelling {
            Respelling::FlipCase(at) => {
                let byte = &mut text[at % len];
                *byte = if byte.is_ascii_uppercase() { byte.to_ascii_lowercase() } else { byte.to_ascii_uppercase() };
            }
            Respelling::Insert(at, byte) => text.insert(at % (len + 1), byte),
            Respelling::Replace(at, byte) => text[at % len] = byte,
            Respelling::Drop(at) => {
                text.remove(at % len);
            }
        }
        text
    }

    proptest! {
        #[test]
        fn any_48_bytes_round_trip_through_the_one_text_form(bytes in any::<[u8; TOKEN_BYTES]>()) {
            let text = URL_SAFE_NO_PAD.encode(bytes);

            let token = PlainToken::parse(text.as_bytes()).unwrap();

            prop_assert_eq!(token.expose(), text);
            let expected: [u8; DIGEST_BYTES] = Sha512::digest(bytes).into();
            prop_assert_eq!(*token.digest().as_bytes(), expected);
        }

        #[test]
        fn no_other_spelling_parses_to_the_same_token(
            bytes in any::<[u8; TOKEN_BYTES]>(),
            changes in proptest::collection::vec(respellings(), 1..4),
        ) {
            let text = URL_SAFE_NO_PAD.encode(bytes);
            let token = PlainToken::parse(text.as_bytes()).unwrap();
            let other = changes.iter().fold(text.clone().into_bytes(), |other, change| respell(&other, change));

            let parsed = PlainToken::parse(&other);

            match parsed {
                Ok(parsed) if other == text.as_bytes() => prop_assert_eq!(parsed.digest(), token.digest()),
                Ok(parsed) => {
                    prop_assert_ne!(parsed.digest(), token.digest());
                    prop_assert_eq!(parsed.expose().into_bytes(), other);
                }
                Err(MalformedToken) => prop_assert_ne!(other.as_slice(), text.as_bytes()),
            }
        }

        #[test]
        fn exactly_the_texts_of_64_url_safe_characters_parse_and_render_back_to_themselves(
            text in proptest::collection::vec(
                prop_oneof![100 => proptest::sample::select(URL_SAFE_ALPHABET.to_vec()), 1 => any::<u8>()],
                62..=66,
            ),
        ) {
            let well_formed = text.len() == TOKEN_CHARS && text.iter().all(|byte| URL_SAFE_ALPHABET.contains(byte));

            let parsed = PlainToken::parse(&text);

            prop_assert_eq!(parsed.is_ok(), well_formed, "{:?}", String::from_utf8_lossy(&text));
            if let Ok(token) = parsed {
                prop_assert_eq!(token.expose().into_bytes(), text);
            }
        }
    }
}
