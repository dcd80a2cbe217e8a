//! The settings of the HTTP edge: what login tokens start with, the origins allowed to call the API from a
//! browser, and the longest request head.

use authtoken_core::TokenPrefix;
use authtoken_http::AllowedOrigins;

use super::Settings;

/// The shortest `http_max_header_bytes`: below it, ordinary browsers' heads would be refused.
const MIN_HEADER_BYTES: usize = 1024;
/// The longest `http_max_header_bytes`: hyper refuses a head of about 400 KB by itself.
const MAX_HEADER_BYTES: usize = 256 * 1024;

impl Settings {
    /// `token_prefix`: empty, or at most 16 of `A-Z a-z 0-9 - _`.
    pub(super) fn token_prefix(&self) -> anyhow::Result<TokenPrefix> {
        TokenPrefix::parse(&self.token_prefix)
            .map_err(|e| anyhow::anyhow!("invalid setting `token_prefix`: `{}`: {e}", self.token_prefix))
    }

    /// `cors_allowed_origins`: a comma list of origins, each as a browser sends it; `*` is refused.
    pub(super) fn cors_allowed_origins(&self) -> anyhow::Result<AllowedOrigins> {
        AllowedOrigins::parse(&self.cors_allowed_origins)
            .map_err(|e| anyhow::anyhow!("invalid setting `cors_allowed_origins`: {e}"))
    }

    /// `http_max_header_bytes`: from 1 KiB to 256 KiB.
    pub(super) fn http_max_header_bytes(&self) -> anyhow::Result<usize> {
        let bytes = self.http_max_header_bytes;
        if !(MIN_HEADER_BYTES..=MAX_HEADER_BYTES).contains(&bytes) {
            anyhow::bail!(
                "invalid setting `http_max_header_bytes`: {bytes} is not between {MIN_HEADER_BYTES} and \
                 {MAX_HEADER_BYTES}"
            );
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_prefix(text: &str, expected: Result<&str, &str>) {
        let settings = Settings { token_prefix: text.to_owned(), ..Settings::defaults() };

        let resolved = settings.resolve().map(|r| r.core.token_prefix.as_str().to_owned()).map_err(|e| e.to_string());

        match (resolved, expected) {
            (Ok(prefix), Ok(expected)) => assert_eq!(prefix, expected, "{text:?}"),
            (Err(error), Err(expected)) => assert!(error.contains(expected), "{text:?}: {error}"),
            (got, _) => panic!("{text:?}: {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn the_token_prefix_is_empty_by_default_and_a_short_url_safe_run() {
        assert!(Settings::defaults().resolve().unwrap().core.token_prefix.is_empty());
        check_prefix("at_", Ok("at_"));
        check_prefix("acme-prod_", Ok("acme-prod_"));
        check_prefix("at.", Err("invalid setting `token_prefix`: `at.`"));
        check_prefix("at ", Err("`token_prefix`"));
        check_prefix("abcdefghijklmnopq", Err("at most 16 characters"));
    }

    #[test]
    fn the_longest_head_is_16_kib_by_default_and_between_1_and_256_kib() {
        let with = |bytes: usize| Settings { http_max_header_bytes: bytes, ..Settings::defaults() }.resolve();

        assert_eq!(Settings::defaults().resolve().unwrap().connections.max_header_bytes, 16_384);
        assert_eq!(with(1024).unwrap().connections.max_header_bytes, 1024);
        assert_eq!(with(262_144).unwrap().connections.max_header_bytes, 262_144);
        for bad in [0, 1023, 262_145] {
            let error = with(bad).unwrap_err().to_string();
            assert!(error.contains("invalid setting `http_max_header_bytes`"), "{bad}: {error}");
        }
    }

    #[track_caller]
    fn check_origins(text: &str, expected: Result<&[&str], &str>) {
        let settings = Settings { cors_allowed_origins: text.to_owned(), ..Settings::defaults() };

        let resolved = settings.resolve().map(|r| r.http.cors_allowed_origins).map_err(|e| e.to_string());

        match (resolved, expected) {
            (Ok(origins), Ok(expected)) => assert_eq!(origins.iter().collect::<Vec<_>>(), expected, "{text:?}"),
            (Err(error), Err(expected)) => assert!(error.contains(expected), "{text:?}: {error}"),
            (got, _) => panic!("{text:?}: {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn cors_is_off_by_default_and_takes_a_list_of_origins() {
        check_origins("", Ok(&[]));
        check_origins(
            "https://app.example.org, http://localhost:3000",
            Ok(&["https://app.example.org", "http://localhost:3000"]),
        );
        check_origins(
            "https://app.example.org/",
            Err("invalid setting `cors_allowed_origins`: `https://app.example.org/`"),
        );
        check_origins("*", Err("invalid setting `cors_allowed_origins`: `*` is refused"));
    }
}
