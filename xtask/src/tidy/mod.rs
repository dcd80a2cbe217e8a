//! `cargo xtask tidy`: the house style and the map in `docs/ARCHITECTURE.md` turned into checks, as in
//! rust-analyzer's `xtask/src/tidy.rs`; discipline decays, checks do not.

mod arrows;
mod circles;
mod files;
mod map;

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::cmd::{metadata, root};
use arrows::Package;
use files::SourceFile;
use map::Member;

/// The directories whose Rust files must follow the conventions, besides every workspace member's own (`fuzz` is
/// a package outside the workspace).
const SOURCE_DIRS: [&str; 4] = ["crates", "xtask", "examples", "fuzz"];

/// Checks the whole repository and fails with every violation found, one per line.
pub(crate) fn tidy() -> anyhow::Result<()> {
    let root = root();
    let packages = arrows::packages(&metadata()?)?;
    let files = source_files(&root, &packages)?;
    let architecture_path = root.join(map::ARCHITECTURE);
    let architecture = std::fs::read_to_string(&architecture_path)
        .with_context(|| format!("cannot read {}", architecture_path.display()))?;

    let mut violations = files::violations(&files);
    let members = members(&packages, &files);
    violations.extend(map::violations(&architecture, &members));
    violations.extend(circles::violations(&members, |path| {
        files.iter().find(|file| file.path == path).map(|file| file.text.clone())
    }));
    violations.extend(arrows::forbidden_arrows(&packages));

    if !violations.is_empty() {
        bail!("tidy found {} violations:\n{}", violations.len(), violations.join("\n"));
    }
    println!("tidy: {} Rust files and {} packages follow the conventions", files.len(), packages.len());
    Ok(())
}

/// Each package's directory with the paths of its `.rs` files under `src/`.
fn members(packages: &[Package], files: &[SourceFile]) -> Vec<Member> {
    packages
        .iter()
        .map(|package| {
            let src = if package.dir.is_empty() { "src/".to_owned() } else { format!("{}/src/", package.dir) };
            let sources = files.iter().filter_map(|file| file.path.strip_prefix(&src)).map(str::to_owned).collect();
            Member { dir: package.dir.clone(), sources }
        })
        .collect()
}

/// Every `.rs` file under the source directories and the packages' directories, outside `target/`, by path.
fn source_files(root: &Path, packages: &[Package]) -> anyhow::Result<Vec<SourceFile>> {
    let mut paths = Vec::new();
    let package_dirs = packages.iter().map(|package| package.dir.as_str());
    for dir in SOURCE_DIRS.into_iter().chain(package_dirs) {
        walk(&root.join(dir), &mut paths)?;
    }
    paths.sort();
    paths.dedup();
    let mut files = Vec::new();
    for path in paths {
        let relative = path.strip_prefix(root).with_context(|| format!("{} is outside the root", path.display()))?;
        let relative = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {relative}"))?;
        files.push(SourceFile { path: relative, text });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Collects the `.rs` files under `dir`, skipping `target` and hidden directories and symbolic links; a missing
/// `dir` has none.
fn walk(dir: &Path, found: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let kind = entry.file_type().with_context(|| format!("cannot inspect {}", entry.path().display()))?;
        let path = entry.path();
        let name = entry.file_name();
        if kind.is_dir() && name != "target" && !name.to_string_lossy().starts_with('.') {
            walk(&path, found)?;
        } else if kind.is_file() && path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
    Ok(())
}
