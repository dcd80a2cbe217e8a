//! `cargo xtask fuzz`: builds the libFuzzer targets in `fuzz/` with nightly and cargo-fuzz, and runs each for a
//! bounded time from its checked-in seeds; a crash fails the run and leaves its input in `fuzz/artifacts/`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::cmd::{root, run, target_dir};

/// The cargo-fuzz that CI installs when it is missing or another version.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The fuzz targets, as `fuzz/Cargo.toml` names them; each has `fuzz/seeds/<name>/` and
/// `fuzz/dictionaries/<name>.dict`.
pub(crate) const TARGETS: [&str; 3] = ["authorization", "body", "settings"];

pub(crate) const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [--release] [TARGET...]

Builds the fuzz targets with nightly and cargo-fuzz (installed when missing) and runs each for N seconds
(default 20) from its seeds in fuzz/seeds/, keeping the corpus it grows in the target directory; a crash fails
and leaves its input in fuzz/artifacts/TARGET/.

  --seconds N  how long each target runs
  --release    an optimised build: slower to build, several times as many runs a second (for long runs)
  TARGET       authorization, body or settings; all three when none is named";

/// What to fuzz, for how long, and with which build.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Options {
    pub seconds: u64,
    pub release: bool,
    pub targets: Vec<String>,
}

impl Options {
    /// The bounded run of `cargo xtask ci`: every target for 20 seconds, on the quicker debug build.
    pub(crate) fn ci() -> Self {
        Self { seconds: 20, release: false, targets: TARGETS.map(str::to_owned).to_vec() }
    }

    pub(crate) fn parse(args: &[&str]) -> anyhow::Result<Self> {
        let mut options = Self { seconds: 20, release: false, targets: Vec::new() };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match *arg {
                "--seconds" => {
                    let value = args.next().context("--seconds needs a number")?;
                    options.seconds = value.parse().ok().filter(|seconds| *seconds > 0).with_context(|| {
                        format!("--seconds takes a whole number of seconds above zero, not `{value}`")
                    })?;
                }
                "--release" => options.release = true,
                target if TARGETS.contains(&target) => options.targets.push(target.to_owned()),
                other => bail!("unknown argument `{other}`\n\n{USAGE}"),
            }
        }
        if options.targets.is_empty() {
            options.targets = TARGETS.map(str::to_owned).to_vec();
        }
        Ok(options)
    }
}

/// Builds every target, then runs the chosen ones one after the other.
pub(crate) fn fuzz(options: &Options) -> anyhow::Result<()> {
    install_cargo_fuzz()?;
    let target = target_dir()?.join("fuzz");
    let started = Instant::now();
    run(&mut cargo_fuzz(&["build"], options.release, &target))?;
    println!("fuzz: built the targets in {:.0?}", started.elapsed());
    for name in &options.targets {
        let corpus = target.join("corpus").join(name);
        std::fs::create_dir_all(&corpus).with_context(|| format!("cannot create {}", corpus.display()))?;
        let started = Instant::now();
        let mut command = cargo_fuzz(&["run", name], options.release, &target);
        command
            .arg(&corpus)
            .arg(Path::new("fuzz/seeds").join(name))
            .arg("--")
            .arg(format!("-max_total_time={}", options.seconds))
            .arg(format!("-dict=fuzz/dictionaries/{name}.dict"))
            // An input that takes this long is a hang, and fails the run like a crash.
            .arg("-timeout=10")
            .arg("-print_final_stats=1");
        run(&mut command).with_context(|| {
            format!(
                "fuzz target `{name}` failed: its input is in fuzz/artifacts/{name}/; run it again with \
                 `cargo +nightly fuzz run{} --fuzz-dir fuzz {name} fuzz/artifacts/{name}/<file>`",
                if options.release { " -O" } else { " --dev" }
            )
        })?;
        println!("fuzz: `{name}` ran {:.0?} without a crash", started.elapsed());
    }
    Ok(())
}

/// `cargo fuzz <args>` on nightly from the workspace root, with the build profile and a target directory of its own.
fn cargo_fuzz(args: &[&str], release: bool, target: &Path) -> Command {
    let mut command = Command::new("rustup");
    command.current_dir(root()).args(["run", "nightly", "cargo", "fuzz"]).args(args);
    command.arg(if release { "--release" } else { "--dev" });
    command.args(["--fuzz-dir", "fuzz", "--target-dir"]).arg(target);
    // `cargo xtask` runs under stable cargo, which sets `CARGO` to itself; cargo-fuzz must find nightly's.
    command.env_remove("CARGO");
    command
}

/// Installs the pinned cargo-fuzz when `cargo fuzz` is missing or another version.
fn install_cargo_fuzz() -> anyhow::Result<()> {
    let installed = Command::new("cargo").args(["fuzz", "--version"]).env_remove("CARGO").output();
    let wanted = format!("cargo-fuzz {CARGO_FUZZ_VERSION}");
    if installed.is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == wanted) {
        return Ok(());
    }
    println!("fuzz: installing {wanted}");
    run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked", "--version", CARGO_FUZZ_VERSION]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(args: &[&str], seconds: u64, release: bool, targets: &[&str]) {
        let expected = Options { seconds, release, targets: targets.iter().map(|t| (*t).to_owned()).collect() };
        assert_eq!(Options::parse(args).unwrap(), expected, "{args:?}");
    }

    #[track_caller]
    fn check_error(args: &[&str], expected: &str) {
        let error = Options::parse(args).unwrap_err().to_string();
        assert!(error.contains(expected), "{args:?}: {error}");
    }

    #[test]
    fn options_name_the_time_the_build_and_the_targets() {
        check(&[], 20, false, &TARGETS);
        check(&["--seconds", "600", "--release"], 600, true, &TARGETS);
        check(&["body", "--seconds", "5", "settings"], 5, false, &["body", "settings"]);
        check_error(&["--seconds"], "needs a number");
        check_error(&["--seconds", "0"], "above zero");
        check_error(&["--seconds", "ten"], "not `ten`");
        check_error(&["headers"], "unknown argument `headers`");
    }

    #[test]
    fn every_target_has_seeds_and_a_dictionary() {
        let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
        for name in TARGETS {
            assert!(manifest.contains(&format!("name = \"{name}\"")), "fuzz/Cargo.toml has no target `{name}`");
            let seeds = std::fs::read_dir(root().join("fuzz/seeds").join(name)).unwrap().count();
            assert!(seeds > 0, "fuzz/seeds/{name}/ is empty");
            assert!(root().join(format!("fuzz/dictionaries/{name}.dict")).is_file(), "no dictionary for `{name}`");
        }
    }
}
