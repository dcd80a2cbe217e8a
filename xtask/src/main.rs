//! Project automation: `cargo xtask ci` runs every check CI runs, `cargo xtask tidy` checks the conventions,
//! `cargo xtask openapi` regenerates `docs/openapi.json`, `cargo xtask fuzz` runs the fuzz targets, and
//! `cargo xtask bench` measures the release binary under load.

mod bench;
mod ci;
mod cmd;
mod fuzz;
mod tidy;

use anyhow::bail;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci [--no-test] [--no-fuzz]
                   fmt check, tidy, clippy -D warnings, all tests, docs/openapi.json check, core purity check,
                   cargo doc without warnings, cargo package of the library crates, 20 seconds of each fuzz target
  fuzz [options]   build the fuzz targets and run each for a bounded time; `cargo xtask fuzz --help` lists the
                   options
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
        ["ci", flags @ ..] => {
            let (with_tests, with_fuzz) = ci_flags(flags)?;
            ci::ci(with_tests, with_fuzz)
        }
        ["fuzz", "--help" | "-h"] => {
            println!("{}", fuzz::USAGE);
            Ok(())
        }
        ["fuzz", rest @ ..] => fuzz::fuzz(&fuzz::Options::parse(rest)?),
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

/// `--no-test` and `--no-fuzz`, each at most once and in any order: whether the tests and the fuzz run are kept.
fn ci_flags(flags: &[&str]) -> anyhow::Result<(bool, bool)> {
    let (mut with_tests, mut with_fuzz) = (true, true);
    for flag in flags {
        match *flag {
            "--no-test" if with_tests => with_tests = false,
            "--no-fuzz" if with_fuzz => with_fuzz = false,
            _ => bail!("{USAGE}"),
        }
    }
    Ok((with_tests, with_fuzz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(flags: &[&str], expected: Option<(bool, bool)>) {
        assert_eq!(ci_flags(flags).ok(), expected, "{flags:?}");
    }

    #[test]
    fn ci_leaves_out_the_tests_and_the_fuzz_run_when_told() {
        check(&[], Some((true, true)));
        check(&["--no-test"], Some((false, true)));
        check(&["--no-fuzz"], Some((true, false)));
        check(&["--no-fuzz", "--no-test"], Some((false, false)));
        check(&["--no-test", "--no-test"], None);
        check(&["--no-tests"], None);
    }
}
