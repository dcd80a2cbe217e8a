//! The command line of the `authtoken` binary.

use std::path::PathBuf;

use anyhow::Context as _;
use authtoken_core::ports::{Clock as _, SystemClock};

use crate::settings::{Resolved, Settings};
use crate::startup;

/// authtoken: per-login tokens that can be revoked one session at a time.
#[derive(Debug, clap::Parser)]
#[command(version)]
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
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage login tokens.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
}

#[derive(Debug, clap::Subcommand)]
enum TokensCommand {
    /// Delete every expired login token now.
    Purge,
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        init_logging();
        let settings = Settings::load(self.config.as_deref())?.resolve()?;
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        runtime.block_on(self.command.run(&settings))
    }
}

impl Command {
    async fn run(self, settings: &Resolved) -> anyhow::Result<()> {
        match self {
            Self::Serve => startup::serve(settings, startup::shutdown_signal()).await,
            Self::Openapi => {
                let wired = startup::wire(settings).await?;
                println!("{}", authtoken_http::openapi_json(&wired.service, &settings.http));
                Ok(())
            }
            Self::Migrate => {
                startup::wire(settings).await?;
                println!("database is up to date");
                Ok(())
            }
            Self::Tokens { command: TokensCommand::Purge } => {
                let wired = startup::wire(settings).await?;
                let purged =
                    authtoken_core::ports::TokenRepo::purge_expired(wired.store.as_ref(), SystemClock.now()).await?;
                println!("deleted {purged} expired login tokens");
                Ok(())
            }
        }
    }
}

/// Logs to stderr; `AUTHTOKEN_LOG` (or `RUST_LOG`) sets the filter, `info` by default.
fn init_logging() {
    let filter =
        std::env::var("AUTHTOKEN_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
