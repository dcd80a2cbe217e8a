//! The `authtoken` binary: parses the command line and hands over to the library.

use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    authtoken_server::cli::Cli::parse().run()
}
