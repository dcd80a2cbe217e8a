//! Configuration: defaults, then an optional TOML file, then `AUTHTOKEN_*` environment variables.
//!
//! Every default is written here, once. A bad value stops start-up with a message that names the setting.

mod confirmation;
mod describe;
mod edge;
mod effective;
mod lenient;
mod parse;
mod reset;
mod summary;
mod throttle;

pub use confirmation::MailSetup;
pub use edge::MetricsAt;
pub use parse::{MAX_DURATION, duration, rate};
pub use summary::masked_url;
pub use throttle::{ThrottleStoreKind, Throttles};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use authtoken_argon2::Argon2Params;
use authtoken_core::Config;
use authtoken_core::config::ConfirmationSettings;
use authtoken_http::{HttpConfig, TrustedProxies, parse_prefix, parse_user_fields};
use authtoken_sql::DatabaseOptions;
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::listener::Limits;

/// The settings as written in the file and the environment (names follow the contract, section 6).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(deserialize_with = "lenient::text")]
    pub bind: String,
    /// How long a new connection has to send its first request head, and any later head from its first byte.
    /// `text` (one line a record, for people) or `json` (one object a line, for log collectors).
    #[serde(deserialize_with = "lenient::text")]
    pub log_format: String,
    #[serde(deserialize_with = "lenient::text")]
    pub http_header_timeout: String,
    /// How long a request body may take to arrive.
    #[serde(deserialize_with = "lenient::text")]
    pub http_body_timeout: String,
    /// How long a connection may stay open without a request after its last answer.
    #[serde(deserialize_with = "lenient::text")]
    pub http_idle_timeout: String,
    /// How many connections may be open at once; 0 means three quarters of the open-files limit, at most 10 000.
    pub http_max_connections: usize,
    /// The longest request head, in bytes; a longer one is answered 431.
    pub http_max_header_bytes: usize,
    /// Comma list of the addresses and networks of reverse proxies whose `X-Forwarded-For` or `Forwarded` names
    /// the client; empty trusts none.
    #[serde(deserialize_with = "lenient::text")]
    pub trusted_proxies: String,
    /// Comma list of the origins whose pages may call the API from a browser; empty sends no CORS header.
    #[serde(deserialize_with = "lenient::text")]
    pub cors_allowed_origins: String,
    #[serde(deserialize_with = "lenient::text")]
    pub database_url: String,
    pub database_max_connections: u32,
    #[serde(deserialize_with = "lenient::text")]
    pub database_connect_timeout: String,
    #[serde(deserialize_with = "lenient::text")]
    pub database_statement_timeout: String,
    #[serde(deserialize_with = "lenient::text")]
    pub prefix: String,
    #[serde(deserialize_with = "lenient::text")]
    pub auth_token_validity: String,
    /// How long a session may go unused before it ends; unset keeps sessions until they expire.
    #[serde(default, deserialize_with = "lenient::maybe_text")]
    pub auth_token_idle_timeout: Option<String>,
    /// How stale a session's recorded last use may get before a request writes it again.
    #[serde(deserialize_with = "lenient::text")]
    pub last_used_resolution: String,
    /// The most sessions one user may have; unset is unlimited.
    pub max_sessions_per_user: Option<u32>,
    /// What new login tokens start with, such as `at_`; empty for none.
    #[serde(deserialize_with = "lenient::text")]
    pub token_prefix: String,
    #[serde(deserialize_with = "lenient::text")]
    pub expired_token_purge_interval: String,
    /// How long the audit trail keeps an event.
    #[serde(deserialize_with = "lenient::text")]
    pub auth_event_retention: String,
    #[serde(default, deserialize_with = "lenient::maybe_text")]
    pub user_fields: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub username_case_insensitive: bool,
    pub password_min_length: usize,
    #[serde(deserialize_with = "lenient::flag")]
    pub registration_enabled: bool,
    pub password_hash_memory_kib: u32,
    pub password_hash_iterations: u32,
    pub password_hash_parallelism: u32,
    /// How many password hashes may run at once; 0 means half the CPUs, at least one.
    pub password_hash_concurrency: usize,
    #[serde(deserialize_with = "lenient::flag")]
    pub registration_email_confirm: bool,
    #[serde(deserialize_with = "lenient::text")]
    pub registration_email_confirm_token_validity: String,
    #[serde(deserialize_with = "lenient::flag")]
    pub require_confirmed_email_for_login: bool,
    #[serde(deserialize_with = "lenient::text")]
    pub registration_email_base_url: String,
    #[serde(deserialize_with = "lenient::text")]
    pub registration_email_from: String,
    #[serde(deserialize_with = "lenient::text")]
    pub registration_email_subject: String,
    #[serde(deserialize_with = "lenient::text")]
    pub registration_email_message: String,
    /// Per-language variants of the subject and message, by language tag (`de`, `pt-BR`).
    pub registration_email_languages: BTreeMap<String, MailVariant>,
    /// Where a working link redirects; unset: the built-in page that says the address is confirmed.
    #[serde(default, deserialize_with = "lenient::maybe_text")]
    pub registration_confirm_redirect_path: Option<String>,
    #[serde(default, deserialize_with = "lenient::maybe_text")]
    pub registration_confirm_invalid_redirect_path: Option<String>,
    /// Comma list of hosts allowed in absolute redirect URLs.
    #[serde(deserialize_with = "lenient::text")]
    pub allowed_redirect_hosts: String,
    #[serde(deserialize_with = "lenient::flag")]
    pub confirm_via_post: bool,
    #[serde(deserialize_with = "lenient::flag")]
    pub password_reset_enabled: bool,
    #[serde(deserialize_with = "lenient::text")]
    pub password_reset_token_validity: String,
    /// The mailed reset URL with `{token}`; unset: the built-in form.
    #[serde(default, deserialize_with = "lenient::maybe_text")]
    pub password_reset_url: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub password_reset_email_subject: String,
    #[serde(deserialize_with = "lenient::text")]
    pub password_reset_email_message: String,
    /// Per-language variants of the reset mail, by language tag.
    pub password_reset_email_languages: BTreeMap<String, MailVariant>,
    /// Whether a notice is mailed after a password change or reset.
    #[serde(deserialize_with = "lenient::flag")]
    pub password_change_notice: bool,
    #[serde(deserialize_with = "lenient::text")]
    pub password_change_notice_subject: String,
    #[serde(deserialize_with = "lenient::text")]
    pub password_change_notice_message: String,
    /// Whether `/openapi.json` and `/docs` are served.
    #[serde(deserialize_with = "lenient::flag")]
    pub docs_enabled: bool,
    /// Whether `/metrics` answers in the Prometheus text format.
    #[serde(deserialize_with = "lenient::flag")]
    pub metrics_enabled: bool,
    /// Another address to serve `/metrics` on, alone; unset serves it on `bind` beside the API.
    #[serde(default, deserialize_with = "lenient::maybe_text")]
    pub metrics_bind: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub mail_url: String,
    #[serde(deserialize_with = "lenient::text")]
    pub mail_timeout: String,
    /// A PEM file of certificates to trust for SMTP over TLS, besides the public roots.
    #[serde(default, deserialize_with = "lenient::maybe_text")]
    pub mail_tls_ca_file: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub outbox_poll_interval: String,
    /// The wait after a failed delivery; it doubles with each further failure, up to an hour.
    #[serde(deserialize_with = "lenient::text")]
    pub outbox_retry_delay: String,
    pub outbox_max_attempts: u32,
    #[serde(deserialize_with = "lenient::flag")]
    pub throttle_enabled: bool,
    /// `memory` or `database`; unset, `database` on PostgreSQL and `memory` on SQLite.
    #[serde(default, deserialize_with = "lenient::maybe_text")]
    pub throttle_store: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub throttle_login_ip: String,
    #[serde(deserialize_with = "lenient::text")]
    pub throttle_login_failures_ip_account: String,
    #[serde(deserialize_with = "lenient::text")]
    pub throttle_login_failures_account: String,
    #[serde(deserialize_with = "lenient::text")]
    pub throttle_register_ip: String,
    #[serde(deserialize_with = "lenient::text")]
    pub throttle_mail_ip: String,
    #[serde(deserialize_with = "lenient::text")]
    pub throttle_mail_address: String,
}

/// The confirmation mail in one language.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailVariant {
    pub subject: String,
    pub message: String,
}

impl Settings {
    /// The defaults: they work on a fresh machine.
    pub fn defaults() -> Self {
        Self {
            bind: "127.0.0.1:8000".to_owned(),
            log_format: "text".to_owned(),
            http_header_timeout: "10s".to_owned(),
            http_body_timeout: "30s".to_owned(),
            http_idle_timeout: "1m".to_owned(),
            http_max_connections: 0,
            http_max_header_bytes: 16 * 1024,
            trusted_proxies: String::new(),
            cors_allowed_origins: String::new(),
            database_url: "sqlite://authtoken.sqlite3".to_owned(),
            database_max_connections: 8,
            database_connect_timeout: "5s".to_owned(),
            database_statement_timeout: "5s".to_owned(),
            prefix: "/auth".to_owned(),
            auth_token_validity: "1d".to_owned(),
            auth_token_idle_timeout: None,
            last_used_resolution: "1m".to_owned(),
            max_sessions_per_user: None,
            token_prefix: String::new(),
            expired_token_purge_interval: "1h".to_owned(),
            auth_event_retention: "90d".to_owned(),
            user_fields: None,
            username_case_insensitive: false,
            password_min_length: 8,
            registration_enabled: false,
            password_hash_memory_kib: Argon2Params::RECOMMENDED.memory_kib,
            password_hash_iterations: Argon2Params::RECOMMENDED.iterations,
            password_hash_parallelism: Argon2Params::RECOMMENDED.parallelism,
            password_hash_concurrency: 0,
            registration_email_confirm: false,
            registration_email_confirm_token_validity: "1d".to_owned(),
            require_confirmed_email_for_login: false,
            registration_email_base_url: "http://127.0.0.1:8000".to_owned(),
            registration_email_from: "authtoken <noreply@localhost>".to_owned(),
            registration_email_subject: "Confirm your email address".to_owned(),
            registration_email_message:
                "Hello {username},\n\nplease confirm your email address by opening this link:\n\n{url}\n".to_owned(),
            registration_email_languages: BTreeMap::new(),
            registration_confirm_redirect_path: None,
            registration_confirm_invalid_redirect_path: None,
            allowed_redirect_hosts: String::new(),
            confirm_via_post: false,
            password_reset_enabled: false,
            password_reset_token_validity: "1h".to_owned(),
            password_reset_url: None,
            password_reset_email_subject: "Reset your password".to_owned(),
            password_reset_email_message: "Hello {username},\n\nopen this link to set a new password:\n\n{url}\n\n\
                If you did not ask for it, ignore this mail: your password stays as it is.\n"
                .to_owned(),
            password_reset_email_languages: BTreeMap::new(),
            password_change_notice: true,
            password_change_notice_subject: "Your password was changed".to_owned(),
            password_change_notice_message: "Hello {username},\n\nthe password of your account has just been \
                changed. If you did not change it, reset your password now and tell us.\n"
                .to_owned(),
            docs_enabled: true,
            metrics_enabled: true,
            metrics_bind: None,
            mail_url: "file://./mail".to_owned(),
            mail_timeout: "10s".to_owned(),
            mail_tls_ca_file: None,
            outbox_poll_interval: "2s".to_owned(),
            outbox_retry_delay: "10s".to_owned(),
            outbox_max_attempts: 10,
            throttle_enabled: true,
            throttle_store: None,
            throttle_login_ip: "100/1m".to_owned(),
            throttle_login_failures_ip_account: "10/15m".to_owned(),
            throttle_login_failures_account: "100/1d".to_owned(),
            throttle_register_ip: "20/1h".to_owned(),
            throttle_mail_ip: "10/1h".to_owned(),
            throttle_mail_address: "3/1h".to_owned(),
        }
    }

    /// Reads the defaults, then `file` (when given), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Self::defaults()));
        if let Some(file) = file {
            if !file.is_file() {
                bail!("configuration file {} not found", file.display());
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        // `AUTHTOKEN_CONFIG` and `AUTHTOKEN_LOG` are read elsewhere; `AUTHTOKEN_TEST_*` belong to the test suite.
        let env = Env::prefixed("AUTHTOKEN_").ignore(&["config", "log"]).filter(|key| !key.starts_with("test_"));
        figment = figment.merge(env);
        figment.extract().map_err(describe::describe)
    }

    /// Checks every value and turns the settings into what the crates take.
    pub fn resolve(&self) -> anyhow::Result<Resolved> {
        let bind = self.bind()?;
        let prefix =
            parse_prefix(&self.prefix).with_context(|| format!("invalid setting `prefix`: `{}`", self.prefix))?;
        let user_fields = self
            .user_fields
            .as_deref()
            .map(parse_user_fields)
            .transpose()
            .map_err(|e| anyhow::anyhow!("invalid setting `user_fields`: {e}"))?;
        if self.password_min_length == 0 || self.password_min_length > authtoken_core::user::PASSWORD_MAX_CHARS {
            bail!("invalid setting `password_min_length`: {} is not between 1 and 128", self.password_min_length);
        }
        let database = self.database()?;
        let throttles = self.throttles(database.backend()?)?;
        let concurrency = match self.password_hash_concurrency {
            0 => {
                authtoken_argon2::default_hash_concurrency(std::thread::available_parallelism().map_or(1, usize::from))
            }
            n => n,
        };
        Ok(Resolved {
            bind,
            metrics: self.metrics(bind)?,
            log_format: self.log_format()?,
            connections: self.connections()?,
            database,
            core: Config {
                auth_token_validity: duration("auth_token_validity", &self.auth_token_validity)?,
                username_case_insensitive: self.username_case_insensitive,
                password_min_length: self.password_min_length,
                require_confirmed_email_for_login: self.require_confirmed_email_for_login,
                auth_token_idle_timeout: self
                    .auth_token_idle_timeout
                    .as_deref()
                    .map(|text| duration("auth_token_idle_timeout", text))
                    .transpose()?,
                last_used_resolution: duration("last_used_resolution", &self.last_used_resolution)?,
                max_sessions_per_user: self
                    .max_sessions_per_user
                    .map(|max| {
                        NonZeroU32::new(max).ok_or_else(|| {
                            anyhow::anyhow!(
                                "invalid setting `max_sessions_per_user`: 0 would refuse every login; leave it unset \
                                 for no limit"
                            )
                        })
                    })
                    .transpose()?,
                auth_event_retention: duration("auth_event_retention", &self.auth_event_retention)?,
                token_prefix: self.token_prefix()?,
            },
            confirmation: self.confirmation(&prefix)?,
            reset: self.reset(&prefix)?,
            notice: self.notice()?,
            mail: self.mail()?,
            throttles,
            http: HttpConfig {
                confirm_redirect: self
                    .registration_confirm_redirect_path
                    .as_deref()
                    .map(|target| self.redirect("registration_confirm_redirect_path", target))
                    .transpose()?,
                confirm_invalid_redirect: self
                    .registration_confirm_invalid_redirect_path
                    .as_deref()
                    .map(|target| self.redirect("registration_confirm_invalid_redirect_path", target))
                    .transpose()?,
                confirm_via_post: self.confirm_via_post,
                docs_enabled: self.docs_enabled,
                password_reset_form: self.password_reset_url.is_none(),
                prefix,
                registration_enabled: self.registration_enabled,
                user_fields,
                trusted_proxies: TrustedProxies::parse(&self.trusted_proxies)
                    .map_err(|e| anyhow::anyhow!("invalid setting `trusted_proxies`: {e}"))?,
                cors_allowed_origins: self.cors_allowed_origins()?,
            },
            argon2: Argon2Params {
                memory_kib: self.password_hash_memory_kib,
                iterations: self.password_hash_iterations,
                parallelism: self.password_hash_parallelism,
            },
            hash_concurrency: concurrency,
            purge_interval: duration("expired_token_purge_interval", &self.expired_token_purge_interval)?,
        })
    }
}

/// How log records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One line a record, for people.
    Text,
    /// One JSON object a line, with the request's id and the spans around the record.
    Json,
}

impl Settings {
    fn log_format(&self) -> anyhow::Result<LogFormat> {
        match self.log_format.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => bail!("invalid setting `log_format`: `{}` is neither `text` nor `json`", self.log_format),
        }
    }

    fn bind(&self) -> anyhow::Result<SocketAddr> {
        edge::socket_address("bind", &self.bind)
    }

    fn connections(&self) -> anyhow::Result<Limits> {
        Ok(Limits {
            header_timeout: duration("http_header_timeout", &self.http_header_timeout)?,
            body_timeout: duration("http_body_timeout", &self.http_body_timeout)?,
            idle_timeout: duration("http_idle_timeout", &self.http_idle_timeout)?,
            max_connections: (self.http_max_connections > 0).then_some(self.http_max_connections),
            max_header_bytes: self.http_max_header_bytes()?,
        })
    }

    fn database(&self) -> anyhow::Result<DatabaseOptions> {
        if self.database_max_connections == 0 {
            bail!("invalid setting `database_max_connections`: must be at least 1");
        }
        let options = DatabaseOptions {
            url: self.database_url.clone(),
            max_connections: self.database_max_connections,
            connect_timeout: duration("database_connect_timeout", &self.database_connect_timeout)?,
            statement_timeout: duration("database_statement_timeout", &self.database_statement_timeout)?,
        };
        options.backend().map_err(|e| anyhow::anyhow!("invalid setting `database_url`: {e}"))?;
        Ok(options)
    }
}

/// Checked settings, in the types the crates take.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub bind: SocketAddr,
    /// Where `/metrics` answers, if anywhere.
    pub metrics: MetricsAt,
    pub log_format: LogFormat,
    /// How many connections the server holds, and for how long.
    pub connections: Limits,
    pub database: DatabaseOptions,
    pub core: Config,
    pub http: HttpConfig,
    pub argon2: Argon2Params,
    pub hash_concurrency: usize,
    pub purge_interval: Duration,
    /// Email confirmation, when `registration_email_confirm` is on.
    pub confirmation: Option<ConfirmationSettings>,
    /// Password reset by email, when `password_reset_enabled` is on.
    pub reset: Option<authtoken_core::config::ResetSettings>,
    /// The notice after a password change or reset, when `password_change_notice` is on.
    pub notice: Option<authtoken_core::template::MailTemplates>,
    pub mail: MailSetup,
    /// The throttles, when `throttle_enabled` is on.
    pub throttles: Option<Throttles>,
}

#[cfg(test)]
mod tests;
