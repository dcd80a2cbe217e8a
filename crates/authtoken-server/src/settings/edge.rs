//! The settings of the HTTP edge: what login tokens start with, the origins allowed to call the API from a
//! browser, and the longest request head.

use std::net::SocketAddr;

use authtoken_core::TokenPrefix;
use authtoken_http::AllowedOrigins;

use super::Settings;

/// The shortest `http_max_header_bytes`: below it, ordinary browsers' heads would be refused.
const MIN_HEADER_BYTES: usize = 1024;
/// The longest `http_max_header_bytes`: hyper refuses a head of about 400 KB by itself.
const MAX_HEADER_BYTES: usize = 256 * 1024;

/// Where `/metrics` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAt {
    /// Nowhere (`metrics_enabled = false`).
    Off,
    /// On `bind`, beside the API.
    Api,
    /// On an address of its own (`metrics_bind`), alone, so that it can stay on a private network.
    Own(SocketAddr),
}

/// An address and a port, as `bind` and `metrics_bind` take them; a port alone is refused with the fix.
pub(super) fn socket_address(name: &str, text: &str) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        anyhow::bail!(
            "invalid setting `{name}`: `{text}` is a port alone: write an address and a port, such as \
             `127.0.0.1:{port}` (this machine only) or `0.0.0.0:{port}` (every network interface)"
        );
    }
    text.parse().map_err(|_| {
        anyhow::anyhow!(
            "invalid setting `{name}`: `{text}` is not an address and a port such as `127.0.0.1:8000` or `[::1]:8000`"
        )
    })
}

impl Settings {
    /// `metrics_enabled` and `metrics_bind`; the metrics' own address must differ from `bind`.
    pub(super) fn metrics(&self, bind: SocketAddr) -> anyhow::Result<MetricsAt> {
        match (self.metrics_enabled, self.metrics_bind.as_deref()) {
            (false, _) => Ok(MetricsAt::Off),
            (true, None) => Ok(MetricsAt::Api),
            (true, Some(text)) => {
                let own = socket_address("metrics_bind", text)?;
                if own == bind && own.port() != 0 {
                    anyhow::bail!(
                        "invalid setting `metrics_bind`: {own} is `bind` too; leave `metrics_bind` unset to serve \
                         /metrics beside the API, or give it another port"
                    );
                }
                Ok(MetricsAt::Own(own))
            }
        }
    }

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
