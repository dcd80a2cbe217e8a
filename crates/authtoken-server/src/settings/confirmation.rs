//! The settings of email confirmation and mail: templates, links, redirects, the mail transport and the outbox.

use std::time::Duration;

use anyhow::{Context as _, bail};
use authtoken_core::config::ConfirmationSettings;
use authtoken_core::delivery::RetryPolicy;
use authtoken_core::template::{MailTemplate, MailTemplates, Template};
use authtoken_http::parse_redirect;
use authtoken_mail::{MailSettings, MailUrl};

use super::{Settings, duration};

/// How mail leaves the service, and how the outbox retries.
#[derive(Debug, Clone)]
pub struct MailSetup {
    pub url: MailUrl,
    pub settings: MailSettings,
    pub poll_interval: Duration,
    pub retry: RetryPolicy,
}

impl Settings {
    /// Checked at start-up even when confirmation is off, so a later switch does not reveal a broken template.
    pub(super) fn confirmation(&self, prefix: &str) -> anyhow::Result<Option<ConfirmationSettings>> {
        let templates = self.templates(
            "registration_email",
            &self.registration_email_subject,
            &self.registration_email_message,
            &self.registration_email_languages,
        )?;
        let base_url = self.base_url()?;
        if !self.registration_email_confirm {
            return Ok(None);
        }
        if !self.registration_enabled {
            bail!("invalid setting `registration_email_confirm`: it needs `registration_enabled = true`");
        }
        Ok(Some(ConfirmationSettings {
            token_validity: duration(
                "registration_email_confirm_token_validity",
                &self.registration_email_confirm_token_validity,
            )?,
            link_prefix: format!("{base_url}{prefix}/register/confirm/"),
            templates,
        }))
    }

    /// `registration_email_base_url` without a trailing slash, checked: the start of every mailed link.
    pub(super) fn base_url(&self) -> anyhow::Result<&str> {
        let base_url = self.registration_email_base_url.trim_end_matches('/');
        let parsed = url::Url::parse(base_url)
            .with_context(|| format!("invalid setting `registration_email_base_url`: `{base_url}` is not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            bail!(
                "invalid setting `registration_email_base_url`: use an http(s) URL without a query, such as https://example.org"
            );
        }
        Ok(base_url)
    }

    pub(super) fn mail(&self) -> anyhow::Result<MailSetup> {
        let url = MailUrl::parse(&self.mail_url).map_err(|e| anyhow::anyhow!("invalid setting `mail_url`: {e}"))?;
        if self.outbox_max_attempts == 0 {
            bail!("invalid setting `outbox_max_attempts`: must be at least 1");
        }
        let timeout = duration("mail_timeout", &self.mail_timeout)?;
        // One delivery: the statements that write the mail (a link is minted and stored), the SMTP exchange, and the
        // statement that records it, each statement bounded by the wait for a connection and its own timeout.
        let statement = duration("database_connect_timeout", &self.database_connect_timeout)?
            .saturating_add(duration("database_statement_timeout", &self.database_statement_timeout)?);
        let delivery_time = timeout.saturating_add(statement.saturating_mul(4));
        Ok(MailSetup {
            url,
            settings: MailSettings {
                from: self.registration_email_from.clone(),
                timeout,
                extra_root_certificates: self
                    .mail_tls_ca_file
                    .as_deref()
                    .map(|path| {
                        std::fs::read(path)
                            .with_context(|| format!("invalid setting `mail_tls_ca_file`: cannot read `{path}`"))
                    })
                    .transpose()?,
            },
            poll_interval: duration("outbox_poll_interval", &self.outbox_poll_interval)?,
            retry: RetryPolicy {
                first_delay: duration("outbox_retry_delay", &self.outbox_retry_delay)?,
                max_delay: Duration::from_secs(60 * 60),
                max_attempts: self.outbox_max_attempts,
                lease: delivery_time.saturating_mul(3).max(Duration::from_secs(60)),
                delivery_time,
                batch: 50,
            },
        })
    }

    pub(super) fn redirect(&self, name: &str, target: &str) -> anyhow::Result<String> {
        let hosts: Vec<String> = self
            .allowed_redirect_hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
        parse_redirect(target, &hosts).map_err(|e| anyhow::anyhow!("invalid setting `{name}`: {e}"))
    }

    /// The templates of a mail: the default and one per language of `languages` (named `{name}_languages.{tag}`).
    pub(super) fn templates(
        &self,
        name: &str,
        subject: &str,
        message: &str,
        languages: &std::collections::BTreeMap<String, super::MailVariant>,
    ) -> anyhow::Result<MailTemplates> {
        let default = self.template(name, subject, message)?;
        let languages = languages
            .iter()
            .map(|(tag, variant)| {
                let name = format!("{name}_languages.{tag}");
                Ok((tag.clone(), self.template(&name, &variant.subject, &variant.message)?))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(MailTemplates::new(default, languages))
    }

    fn template(&self, name: &str, subject: &str, message: &str) -> anyhow::Result<MailTemplate> {
        Ok(MailTemplate {
            subject: Template::parse(subject).map_err(|e| anyhow::anyhow!("invalid setting `{name}_subject`: {e}"))?,
            message: Template::parse(message).map_err(|e| anyhow::anyhow!("invalid setting `{name}_message`: {e}"))?,
        })
    }
}
