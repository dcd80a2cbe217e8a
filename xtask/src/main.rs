//! Project automation: `cargo xtask ci` runs every check CI runs, `cargo xtask tidy` checks the conventions,
//! `cargo xtask openapi` regenerates `docs/openapi.json`, and `cargo xtask bench` measures the release binary under
//! load.

mod bench;
mod ci;
mod cmd;
mod tidy;

use anyhow::bail;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci [--no-test]   fmt check, tidy, clippy -D warnings, all tests, docs/openapi.json check, core purity check,
                   cargo doc without warnings, cargo package of the library crates
  tidy             convention checks: module docs, file length, no ignored tests, every crate and module on the
                   map in docs/ARCHITECTURE.md, only the dependency arrows the map draws, no circle of
                   imports between modules
  openapi          regenerate docs/openapi.json from the service
  bench [options]  load-test the release binary with wrk; `cargo xtask bench --help` lists the options";

fn main() -> std::process::ExitCode {
    match run_command() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_command() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["ci"] => ci::ci(true),
        ["ci", "--no-test"] => ci::ci(false),
        ["tidy"] => tidy::tidy(),
        ["openapi"] => ci::openapi(),
        ["bench", "--help" | "-h"] => {
            println!("{}", bench::USAGE);
            Ok(())
        }
        ["bench", rest @ ..] => bench::bench(&bench::Options::parse(rest)?),
        _ => bail!("{USAGE}"),
    }
}
