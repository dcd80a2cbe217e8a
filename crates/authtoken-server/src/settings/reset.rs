//! The settings of password reset by email and of the notice after a password change.

use anyhow::bail;
use authtoken_core::config::ResetSettings;
use authtoken_core::template::MailTemplates;

use super::{Settings, duration};

impl Settings {
    /// Checked at start-up even when reset is off, so a later switch does not reveal a broken template.
    pub(super) fn reset(&self, prefix: &str) -> anyhow::Result<Option<ResetSettings>> {
        let templates = self.templates(
            "password_reset_email",
            &self.password_reset_email_subject,
            &self.password_reset_email_message,
            &self.password_reset_email_languages,
        )?;
        let url = match &self.password_reset_url {
            Some(url) => reset_url(url)?,
            None => format!("{}{prefix}/password/reset/confirm/{{token}}/", self.base_url()?),
        };
        let token_validity = duration("password_reset_token_validity", &self.password_reset_token_validity)?;
        if !self.password_reset_enabled {
            return Ok(None);
        }
        Ok(Some(ResetSettings { token_validity, url, templates }))
    }

    /// The notice's templates; checked even when the notice is off.
    pub(super) fn notice(&self) -> anyhow::Result<Option<MailTemplates>> {
        let templates = self.templates(
            "password_change_notice",
            &self.password_change_notice_subject,
            &self.password_change_notice_message,
            &Default::default(),
        )?;
        Ok(self.password_change_notice.then_some(templates))
    }
}

/// A `password_reset_url`: an http(s) URL with `{token}` exactly once, where the token goes.
fn reset_url(url: &str) -> anyhow::Result<String> {
    if url.matches("{token}").count() != 1 {
        bail!(
            "invalid setting `password_reset_url`: put `{{token}}` exactly once where the token goes, such as https://app.example.org/reset#{{token}}"
        );
    }
    let sample = url.replacen("{token}", &"A".repeat(64), 1);
    let parsed = url::Url::parse(&sample)
        .map_err(|e| anyhow::anyhow!("invalid setting `password_reset_url`: `{url}` is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!(
            "invalid setting `password_reset_url`: use an http or https URL, such as https://app.example.org/reset#{{token}}"
        );
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_url_defaults_to_the_built_in_form() {
        let settings = Settings { password_reset_enabled: true, ..Settings::defaults() };

        let reset = settings.reset("/auth").unwrap().expect("reset is on");

        assert_eq!(reset.url, "http://127.0.0.1:8000/auth/password/reset/confirm/{token}/");
        assert_eq!(reset.token_validity, std::time::Duration::from_secs(3600));
        assert!(Settings::defaults().reset("/auth").unwrap().is_none(), "off by default");
        assert!(Settings::defaults().notice().unwrap().is_some(), "the notice is on by default");
    }

    #[test]
    fn a_reset_url_needs_the_token_once_and_http() {
        let with = |url: &str| Settings { password_reset_url: Some(url.to_owned()), ..Settings::defaults() };

        assert_eq!(with("https://app.example.org/reset#{token}").reset("/auth").unwrap(), None);
        for bad in
            ["https://app.example.org/reset", "https://a.example/{token}/{token}", "ftp://a.example/{token}", "{token}"]
        {
            let error = with(bad).reset("/auth").unwrap_err().to_string();
            assert!(error.contains("`password_reset_url`"), "{bad}: {error}");
        }
        let error = Settings { password_reset_email_message: "{link}".into(), ..Settings::defaults() }.reset("/auth");
        assert!(error.unwrap_err().to_string().contains("`password_reset_email_message`"));
    }
}
