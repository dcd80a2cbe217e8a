//! The line logged at start-up that says what is in effect, with every secret in a URL masked.

use authtoken_mail::{MailUrl, SmtpSecurity};

use super::{MetricsAt, Resolved, ThrottleStoreKind};

impl Resolved {
    /// The database, the bind address, the mail transport, and which features are on and off.
    pub fn summary(&self) -> String {
        let throttles = self.throttles.as_ref().map(|t| match t.store {
            ThrottleStoreKind::Memory => "throttles (in memory)",
            ThrottleStoreKind::Database => "throttles (in the database)",
        });
        let metrics = match self.metrics {
            MetricsAt::Own(addr) => format!("metrics on {addr}"),
            MetricsAt::Api | MetricsAt::Off => "metrics at /metrics".to_owned(),
        };
        let features = [
            ("registration", self.http.registration_enabled.then_some("registration")),
            ("email confirmation", self.confirmation.is_some().then_some("email confirmation")),
            ("password reset", self.reset.is_some().then_some("password reset")),
            ("throttles", throttles),
            ("docs at /docs", self.http.docs_enabled.then_some("docs at /docs")),
            ("metrics", (self.metrics != MetricsAt::Off).then_some(metrics.as_str())),
        ];
        let on: Vec<&str> = features.iter().filter_map(|(_, on)| *on).collect();
        let off: Vec<&str> = features.iter().filter(|(_, on)| on.is_none()).map(|(name, _)| *name).collect();
        let list = |names: &[&str]| if names.is_empty() { "nothing".to_owned() } else { names.join(", ") };
        format!(
            "database {}, bind {}, mail {}; on: {}; off: {}",
            masked_url(&self.database.url),
            self.bind,
            transport(&self.mail.url),
            list(&on),
            list(&off)
        )
    }
}

/// Where mail goes, without the SMTP password.
fn transport(url: &MailUrl) -> String {
    match url {
        MailUrl::Smtp(smtp) => {
            let security = match smtp.security {
                SmtpSecurity::None => "plain text",
                SmtpSecurity::Starttls => "STARTTLS when offered",
                SmtpSecurity::Required => "STARTTLS required",
                SmtpSecurity::Implicit => "TLS",
            };
            let user = smtp.credentials.as_ref().map(|(user, _)| format!(" as {user}")).unwrap_or_default();
            format!("by SMTP to {}:{} ({security}){user}", smtp.host, smtp.port)
        }
        MailUrl::File(dir) => format!("to files in {}", dir.display()),
        MailUrl::Log => "to the log".to_owned(),
    }
}

/// `url` with its password, and any query value named like one, shown as `***`; unchanged when it holds none.
pub fn masked_url(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return text.to_owned();
    };
    let secret = |key: &str| ["password", "pass", "secret", "token"].iter().any(|s| key.eq_ignore_ascii_case(s));
    let query_secret = url.query_pairs().any(|(key, _)| secret(&key));
    if url.password().is_none() && !query_secret {
        return text.to_owned();
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if query_secret {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if secret(&key) { "***".to_owned() } else { value.into_owned() };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn passwords_in_urls_are_masked_and_other_urls_kept_as_written() {
        assert_eq!(masked_url("postgres://app:s3cret@db:5432/auth"), "postgres://app:***@db:5432/auth");
        assert_eq!(masked_url("smtp://mailer:pw@mail.example.org:587"), "smtp://mailer:***@mail.example.org:587");
        assert_eq!(
            masked_url("postgres://db/auth?user=app&password=s3cret&sslmode=require"),
            "postgres://db/auth?user=app&password=***&sslmode=require"
        );
        assert_eq!(masked_url("sqlite://authtoken.sqlite3"), "sqlite://authtoken.sqlite3");
        assert_eq!(masked_url("file://./mail"), "file://./mail");
        assert_eq!(masked_url("postgres://postgres@127.0.0.1:5432/test"), "postgres://postgres@127.0.0.1:5432/test");
    }

    #[test]
    fn the_summary_says_what_is_on_and_off_and_masks_the_password() {
        let mut settings = Settings::defaults();
        settings.database_url = "postgres://app:s3cret@db:5432/auth".to_owned();
        settings.registration_enabled = true;
        let mut smtp = Settings::defaults();
        smtp.mail_url = "smtp://mailer:pw@mail.example.org:587".to_owned();
        smtp.docs_enabled = false;

        let summary = settings.resolve().unwrap().summary();

        assert_eq!(
            summary,
            "database postgres://app:***@db:5432/auth, bind 127.0.0.1:8000, mail to files in ./mail; on: registration, \
             throttles (in the database), docs at /docs, metrics at /metrics; off: email confirmation, password reset"
        );
        let summary = smtp.resolve().unwrap().summary();
        assert!(
            summary.contains("mail by SMTP to mail.example.org:587 (STARTTLS when offered) as mailer;"),
            "{summary}"
        );
        assert!(!summary.contains("pw"), "{summary}");
        assert!(summary.ends_with("off: registration, email confirmation, password reset, docs at /docs"), "{summary}");
    }
}
