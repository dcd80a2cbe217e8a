//! `cargo xtask ci` and `cargo xtask openapi`: the checks CI runs, and the committed OpenAPI document.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::cmd::{cargo, root, run, target_dir};
use crate::fuzz::{self, fuzz};
use crate::tidy::tidy;

/// Crates `authtoken-core` must never depend on, directly or not.
const FORBIDDEN_IN_CORE: [&str; 8] = ["tokio", "sqlx", "poem", "poem-openapi", "lettre", "hyper", "mio", "argon2"];

/// The crates published for other applications to use; `cargo package` must succeed for each.
const LIBRARIES: [&str; 6] =
    ["authtoken-core", "authtoken-argon2", "authtoken-sql", "authtoken-mail", "authtoken-http", "authtoken-testkit"];

/// Runs every check CI runs; `with_tests` adds `cargo test --workspace`, and `with_fuzz` the bounded run of the fuzz
/// targets (`cargo xtask fuzz`, 20 seconds each).
pub(crate) fn ci(with_tests: bool, with_fuzz: bool) -> anyhow::Result<()> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    tidy()?;
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    if with_tests {
        run(cargo().args(["test", "--workspace"]))?;
    }
    check_openapi()?;
    check_core_purity()?;
    run(cargo().args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    check_packages()?;
    if with_fuzz {
        fuzz(&fuzz::Options::ci())?;
    }
    println!("xtask ci: all checks passed");
    Ok(())
}

/// Every library crate packages and its package builds on its own, as it would from crates.io; the packages
/// depend on each other through a local registry that cargo makes for the run.
///
/// Cargo takes a registry crate of a given version to be the same forever, and these crates change without a new
/// version: so the copies that an earlier run unpacked and built are forgotten first, or a package would be
/// checked against the old code of another. The packages build in a target directory of their own, which keeps
/// everything else they build between runs.
fn check_packages() -> anyhow::Result<()> {
    let target = target_dir()?.join("package-check");
    let registries = std::fs::read_dir(cargo_home()?.join("registry/src")).into_iter().flatten().flatten();
    for registry in registries {
        forget_libraries(&registry.path())?;
    }
    forget_libraries(&target.join("debug/.fingerprint"))?;
    let mut command = cargo();
    command.args(["package", "--allow-dirty", "--target-dir"]).arg(&target);
    for library in LIBRARIES {
        command.args(["-p", library]);
    }
    run(&mut command)
}

/// Removes what `dir` holds of the library crates: entries named after one, a dash, and a version or a hash
/// (`authtoken-core-0.1.0`, `authtoken-core-9d3c2e2907a7489a`).
fn forget_libraries(dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if LIBRARIES.iter().any(|library| names_a_copy_of(&name, library)) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Whether `name` is `library`, a dash, and one more part without a dash (a version or a hash).
fn names_a_copy_of(name: &str, library: &str) -> bool {
    let rest = name.strip_prefix(library).and_then(|rest| rest.strip_prefix('-'));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.contains('-'))
}

/// Where cargo keeps its registries: `CARGO_HOME`, or `~/.cargo`.
fn cargo_home() -> anyhow::Result<std::path::PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Ok(home.into());
    }
    let home = std::env::var_os("HOME").context("neither CARGO_HOME nor HOME is set")?;
    Ok(Path::new(&home).join(".cargo"))
}

/// Regenerates `docs/openapi.json`.
pub(crate) fn openapi() -> anyhow::Result<()> {
    let path = root().join("docs/openapi.json");
    std::fs::write(&path, openapi_document()?).with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}", path.display());
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

/// The full document: registration, email confirmation and password reset on, default prefix. `authtoken openapi`
/// opens no database.
fn openapi_document() -> anyhow::Result<String> {
    let output = cargo()
        .args(["run", "--quiet", "--bin", "authtoken", "--", "openapi"])
        .env("AUTHTOKEN_REGISTRATION_ENABLED", "true")
        .env("AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM", "true")
        .env("AUTHTOKEN_PASSWORD_RESET_ENABLED", "true")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(name: &str, expected: bool) {
        assert_eq!(LIBRARIES.iter().any(|library| names_a_copy_of(name, library)), expected, "{name}");
    }

    #[test]
    fn only_copies_of_the_library_crates_are_forgotten() {
        check("authtoken-core-0.1.0", true);
        check("authtoken-core-9d3c2e2907a7489a", true);
        check("authtoken-testkit-0.2.0", true);
        check("authtoken-core", false);
        check("authtoken-server-0.1.0", false);
        check("authtoken-core-extra-0.1.0", false);
        check("serde-1.0.229", false);
    }
}
