//! The settings of the HTTP edge: what login tokens start with.

use authtoken_core::TokenPrefix;

use super::Settings;

impl Settings {
    /// `token_prefix`: empty, or at most 16 of `A-Z a-z 0-9 - _`.
    pub(super) fn token_prefix(&self) -> anyhow::Result<TokenPrefix> {
        TokenPrefix::parse(&self.token_prefix)
            .map_err(|e| anyhow::anyhow!("invalid setting `token_prefix`: `{}`: {e}", self.token_prefix))
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
}
