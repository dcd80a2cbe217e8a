//! The command line of the `authtoken` binary.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::operator::events::EventsCommand;
use crate::operator::sessions::SessionsCommand;
use crate::operator::users::UsersCommand;
use crate::settings::{LogFormat, Resolved, Settings};
use crate::{admin, operator, startup};

/// authtoken: per-login tokens that can be revoked one session at a time.
#[derive(Debug, clap::Parser)]
#[command(name = "authtoken", version)]
pub struct Cli {
    /// A TOML file of settings; environment variables `AUTHTOKEN_<NAME>` override it.
    #[arg(long, global = true, env = "AUTHTOKEN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run the HTTP service (migrating the database first).
    Serve,
    /// Print the OpenAPI document of the service as configured.
    Openapi,
    /// Apply the database migrations that are missing, say which, and exit.
    Migrate {
        /// Only list the migrations, applied and pending; change nothing.
        #[arg(long)]
        status: bool,
    },
    /// Manage login tokens.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Show the mail in the outbox that is pending or has failed; `outbox retry` sends failed mail again.
    Outbox {
        /// Also show delivered mail.
        #[arg(long)]
        all: bool,
        #[command(subcommand)]
        command: Option<OutboxCommand>,
    },
    /// Email confirmation.
    Confirm {
        #[command(subcommand)]
        command: ConfirmCommand,
    },
    /// Manage users: create, list, set a password, deactivate, activate, delete.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// See and revoke users' sessions.
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Check the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Import from another deployment.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Show the audit trail, one line per event, oldest first: logins, logouts, revocations, password changes and
    /// resets, registrations, confirmations, throttled requests and operators' commands.
    Events(EventsCommand),
}

#[derive(Debug, clap::Subcommand)]
enum ConfirmCommand {
    /// Queue a fresh confirmation link (older links of the user stop working).
    Resend {
        /// The user to send to.
        #[arg(long, conflicts_with = "all_unconfirmed", required_unless_present = "all_unconfirmed")]
        user: Option<String>,
        /// Every user whose address is not confirmed yet.
        #[arg(long)]
        all_unconfirmed: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
enum ImportCommand {
    /// Users, their sessions and their pending confirmation links from a Django database that django-rest-authtoken
    /// wrote. Sessions keep working until their Django expiry; passwords keep working, and their first login
    /// replaces Django's hash with Argon2id. A second run changes nothing.
    Django(crate::import::DjangoImport),
}

#[derive(Debug, clap::Subcommand)]
enum ConfigCommand {
    /// Check every setting as `serve` would, without opening the database, and print the configuration in effect
    /// (the defaults, then the file, then `AUTHTOKEN_*` variables) with passwords masked; exits non-zero, naming the
    /// setting, when one is wrong.
    Check,
}

#[derive(Debug, clap::Subcommand)]
enum OutboxCommand {
    /// Make failed mail pending again, with all its attempts ahead of it: every failed mail, or those of `--id`.
    /// A running server sends it within `outbox_poll_interval`.
    Retry {
        /// The id of a failed mail, as `authtoken outbox` shows it (repeatable).
        #[arg(long = "id")]
        ids: Vec<i64>,
    },
}

#[derive(Debug, clap::Subcommand)]
enum TokensCommand {
    /// Delete every expired (or idle) login token, every expired confirmation and reset link, and every event older
    /// than `auth_event_retention` now.
    Purge,
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        // The operator's commands answer on stdout and stderr themselves; their log shows only what went wrong.
        let quiet = matches!(
            self.command,
            Command::Users { .. } | Command::Sessions { .. } | Command::Events(_) | Command::Config { .. }
        );
        let raw = Settings::load(self.config.as_deref())?;
        let settings = raw.resolve()?;
        init_logging(if quiet { "warn" } else { "info" }, settings.log_format);
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        operator::closed_pipe_is_success(runtime.block_on(self.command.run(&raw, &settings)))
    }
}

impl Command {
    /// Runs the command with the settings as read (`raw`) and as checked.
    async fn run(self, raw: &Settings, settings: &Resolved) -> anyhow::Result<()> {
        match self {
            Self::Serve => startup::serve(settings, startup::shutdown_signal()).await,
            Self::Openapi => {
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "{}",
                    authtoken_http::openapi_json(
                        &settings.http,
                        &settings.core,
                        authtoken_http::Features {
                            confirms_email: settings.confirmation.is_some(),
                            resets_passwords: settings.reset.is_some(),
                        },
                    )
                )?;
                Ok(())
            }
            Self::Migrate { status: true } => admin::migration_status(settings).await,
            Self::Migrate { status: false } => admin::migrate(settings).await,
            Self::Tokens { command: TokensCommand::Purge } => admin::purge(&startup::wire(settings).await?).await,
            Self::Outbox { all, command: None } => admin::show_outbox(&startup::wire(settings).await?, all).await,
            Self::Outbox { command: Some(OutboxCommand::Retry { ids }), .. } => {
                admin::retry_outbox(&startup::wire(settings).await?, ids).await
            }
            Self::Confirm { command: ConfirmCommand::Resend { user, all_unconfirmed } } => {
                if settings.confirmation.is_none() {
                    anyhow::bail!(
                        "email confirmation is off, so there is no link to send: set `registration_email_confirm = \
                         true` (AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM=true) in the configuration this command reads"
                    );
                }
                let wired = startup::wire(settings).await?;
                match (user, all_unconfirmed) {
                    (Some(name), _) => admin::resend_one(&wired, &name).await,
                    (None, _) => admin::resend_all(&wired).await,
                }
            }
            Self::Users { command } => command.run(&startup::wire(settings).await?).await,
            Self::Sessions { command } => command.run(&startup::wire(settings).await?).await,
            Self::Events(command) => command.run(&startup::wire(settings).await?).await,
            Self::Config { command: ConfigCommand::Check } => check_config(raw, settings).await,
            Self::Import { command: ImportCommand::Django(import) } => import.run(settings).await,
        }
    }
}

/// Builds what `serve` builds besides the database, then prints the configuration in effect.
async fn check_config(raw: &Settings, settings: &Resolved) -> anyhow::Result<()> {
    startup::hasher_and_mailer(settings)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "# the configuration in effect: the defaults, then the file, then AUTHTOKEN_* variables")?;
    writeln!(out, "# (passwords in URLs masked)")?;
    write!(out, "{}", raw.effective_toml()?)?;
    writeln!(out, "# every setting is valid; `authtoken serve` would start with them (the database was not opened)")?;
    Ok(())
}

/// Logs to stderr in `format`; `AUTHTOKEN_LOG` (or `RUST_LOG`) sets the filter, `default` when neither is set.
fn init_logging(default: &str, format: LogFormat) {
    let filter =
        std::env::var("AUTHTOKEN_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| default.to_owned());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        // Each record names the spans it was logged in, the request's (with its id) among them.
        LogFormat::Json => logs.json().with_current_span(false).with_span_list(true).init(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::Cli;

    #[test]
    fn a_session_id_that_starts_with_a_hyphen_is_read_as_the_id() {
        for id in ["-rULxYHlQTYRQxGbQDJf-w", "--ULxYHlQTYRQxGbQDJf-w", "rULxYHlQTYRQxGbQDJf-w-"] {
            let parsed = Cli::try_parse_from(["authtoken", "sessions", "revoke", "--id", id]);

            let parsed = format!("{:?}", parsed.unwrap());
            assert!(parsed.contains(&format!("id: Some({id:?})")), "{parsed}");
        }
    }
}
