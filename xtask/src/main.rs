//! Project automation: `cargo xtask ci` runs every check CI runs; `cargo xtask openapi` regenerates `docs/openapi.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci [--no-test]   fmt check, clippy -D warnings, all tests, docs/openapi.json check, core purity check
  openapi          regenerate docs/openapi.json from the service";

/// Crates `authtoken-core` must never depend on, directly or not.
const FORBIDDEN_IN_CORE: [&str; 7] = ["tokio", "sqlx", "poem", "poem-openapi", "lettre", "hyper", "mio"];

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
        ["ci"] => ci(true),
        ["ci", "--no-test"] => ci(false),
        ["openapi"] => {
            let path = root().join("docs/openapi.json");
            std::fs::write(&path, openapi_document()?).with_context(|| format!("cannot write {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}

fn ci(with_tests: bool) -> anyhow::Result<()> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    if with_tests {
        run(cargo().args(["test", "--workspace"]))?;
    }
    check_openapi()?;
    check_core_purity()?;
    println!("xtask ci: all checks passed");
    Ok(())
}

/// The committed document must be what the service generates now.
fn check_openapi() -> anyhow::Result<()> {
    let path = root().join("docs/openapi.json");
    let committed = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if committed != openapi_document()? {
        bail!("docs/openapi.json is out of date: run `cargo xtask openapi` and commit the result");
    }
    println!("docs/openapi.json is up to date");
    Ok(())
}

/// The full document: registration enabled, default prefix, in-memory database.
fn openapi_document() -> anyhow::Result<String> {
    let output = cargo()
        .args(["run", "--quiet", "--bin", "authtoken", "--", "openapi"])
        .env("AUTHTOKEN_REGISTRATION_ENABLED", "true")
        .env("AUTHTOKEN_DATABASE_URL", "sqlite::memory:")
        .env("AUTHTOKEN_PREFIX", "/auth")
        .env("AUTHTOKEN_LOG", "warn")
        .output()
        .context("cannot run the authtoken binary")?;
    if !output.status.success() {
        bail!("`authtoken openapi` failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    String::from_utf8(output.stdout).context("the document is not UTF-8")
}

/// `authtoken-core` stays free of runtimes, databases, HTTP and mail.
fn check_core_purity() -> anyhow::Result<()> {
    let output = cargo()
        .args(["tree", "--package", "authtoken-core", "--edges", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .context("cannot run cargo tree")?;
    if !output.status.success() {
        bail!("cargo tree failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let found: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| FORBIDDEN_IN_CORE.contains(name))
        .collect();
    if !found.is_empty() {
        bail!("authtoken-core must not depend on {found:?}; see docs/ARCHITECTURE.md");
    }
    println!("authtoken-core depends on none of {FORBIDDEN_IN_CORE:?}");
    Ok(())
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    println!("running: {shown}");
    let status = command.status().with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("failed: {shown}");
    }
    Ok(())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace root").to_owned()
}
