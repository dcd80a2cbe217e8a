//! The configuration in effect, as `authtoken config check` prints it: every setting as TOML, secrets masked.

use super::{Settings, masked_url};

impl Settings {
    /// Every setting as TOML, in the order of the README's table; the URLs' passwords masked, and each setting that
    /// is unset written as a comment that says so.
    pub fn effective_toml(&self) -> anyhow::Result<String> {
        let mut shown = self.clone();
        shown.database_url = masked_url(&self.database_url);
        shown.mail_url = masked_url(&self.mail_url);
        let mut text = toml::to_string(&shown)?;
        let unset: Vec<String> = serde_json::to_value(&shown)?
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, value)| value.is_null())
            .map(|(name, _)| format!("# {name} is unset\n"))
            .collect();
        if !unset.is_empty() {
            text = format!("{}{text}", unset.concat());
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_configuration_reads_back_as_the_settings_and_masks_passwords() {
        let mut settings = Settings::defaults();
        settings.database_url = "postgres://app:s3cret@db:5432/auth".to_owned();
        settings.mail_url = "smtp://mailer:pw@mail.example.org:587".to_owned();
        settings.registration_email_languages.insert(
            "de".to_owned(),
            super::super::MailVariant { subject: "Betreff".to_owned(), message: "Hallo {username}: {url}".to_owned() },
        );

        let text = settings.effective_toml().unwrap();

        assert!(!text.contains("s3cret") && !text.contains(":pw@"), "{text}");
        assert!(text.contains("database_url = \"postgres://app:***@db:5432/auth\"\n"), "{text}");
        assert!(text.contains("# auth_token_idle_timeout is unset\n"), "{text}");
        let read: Settings = toml::from_str(&text).unwrap();
        assert_eq!(read.registration_email_languages["de"].subject, "Betreff");
        assert_eq!(read.bind, settings.bind);
        assert_eq!(read.throttle_login_ip, settings.throttle_login_ip);
    }
}
