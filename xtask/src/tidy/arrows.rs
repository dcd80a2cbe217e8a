//! The dependency arrows between workspace packages that the map allows, and the ones `cargo metadata` shows.

use std::path::Path;

use anyhow::Context as _;

/// The arrows allowed between workspace packages; it mirrors the diagram in docs/ARCHITECTURE.md, so change both
/// together.
const ALLOWED: Arrows = Arrows {
    // Normal and build dependencies; the first row that applies to a package is its row.
    rows: &[
        Row { who: Who::Package("authtoken-core"), may: May::Only(&[]) },
        Row { who: Who::Package("authtoken-argon2"), may: May::Only(&["authtoken-core"]) },
        Row { who: Who::Package("authtoken-sql"), may: May::Only(&["authtoken-core"]) },
        Row { who: Who::Package("authtoken-mail"), may: May::Only(&["authtoken-core"]) },
        Row { who: Who::Package("authtoken-http"), may: May::Only(&["authtoken-core"]) },
        Row { who: Who::Package("authtoken-testkit"), may: May::Only(&["authtoken-core"]) },
        Row { who: Who::Package("authtoken-server"), may: May::AnyBut(&[]) },
        Row { who: Who::Package("xtask"), may: May::AnyBut(&[]) },
        Row { who: Who::Under("examples/"), may: May::AnyBut(&["authtoken-server", "authtoken-testkit"]) },
    ],
    // Dev-dependencies follow the rows, and every package may also take these.
    dev_everywhere: &["authtoken-testkit"],
    // These may be dev-dependencies of the packages listed and of no other, whatever the rows say.
    dev_only_of: &[("authtoken-server", &["authtoken-server", "xtask"])],
};

/// A workspace package as `cargo metadata` describes it.
#[derive(Debug)]
pub(super) struct Package {
    pub name: String,
    /// The package's directory relative to the repository root, such as `crates/authtoken-core`.
    pub dir: String,
    pub dependencies: Vec<Dependency>,
}

/// One entry of a package's dependency tables.
#[derive(Debug)]
pub(super) struct Dependency {
    /// The package depended on (its real name, not a rename).
    pub name: String,
    pub kind: Kind,
}

/// Build dependencies count as normal ones: they run as part of the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Normal,
    Dev,
}

/// The packages to which a row applies.
#[derive(Debug)]
enum Who {
    /// The package of this name.
    Package(&'static str),
    /// Every package whose directory is under this one.
    Under(&'static str),
}

/// The workspace packages a row allows.
#[derive(Debug)]
enum May {
    Only(&'static [&'static str]),
    AnyBut(&'static [&'static str]),
}

/// A table of allowed arrows.
#[derive(Debug)]
struct Arrows {
    rows: &'static [Row],
    dev_everywhere: &'static [&'static str],
    dev_only_of: &'static [(&'static str, &'static [&'static str])],
}

/// One line of the table: which packages it is for, and which workspace packages they may depend on.
#[derive(Debug)]
struct Row {
    who: Who,
    may: May,
}

/// The workspace members of `cargo metadata --format-version 1 --no-deps` output.
pub(super) fn packages(metadata: &serde_json::Value) -> anyhow::Result<Vec<Package>> {
    let root = metadata["workspace_root"].as_str().context("cargo metadata names no workspace root")?;
    let members = metadata["workspace_members"].as_array().context("cargo metadata lists no workspace members")?;
    let all = metadata["packages"].as_array().context("cargo metadata lists no packages")?;
    let mut packages = Vec::new();
    for package in all.iter().filter(|package| members.contains(&package["id"])) {
        let name = package["name"].as_str().context("a package without a name")?;
        let manifest = package["manifest_path"].as_str().with_context(|| format!("{name} has no manifest path"))?;
        let dir = Path::new(manifest)
            .parent()
            .and_then(|dir| dir.strip_prefix(root).ok())
            .with_context(|| format!("{manifest} is not under the workspace root {root}"))?;
        let dependencies = package["dependencies"]
            .as_array()
            .with_context(|| format!("{name} has no dependency list"))?
            .iter()
            .map(|dependency| {
                let name = dependency["name"].as_str().context("a dependency without a name")?.to_owned();
                let kind = if dependency["kind"] == "dev" { Kind::Dev } else { Kind::Normal };
                Ok(Dependency { name, kind })
            })
            .collect::<anyhow::Result<_>>()?;
        packages.push(Package { name: name.to_owned(), dir: slashed(dir), dependencies });
    }
    packages.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(packages)
}

/// Every dependency between workspace packages that the map does not allow, one line each, and every package
/// without a row in the table.
pub(super) fn forbidden_arrows(packages: &[Package]) -> Vec<String> {
    ALLOWED.forbidden(packages)
}

impl Arrows {
    fn forbidden(&self, packages: &[Package]) -> Vec<String> {
        let workspace: Vec<&str> = packages.iter().map(|package| package.name.as_str()).collect();
        let mut found = Vec::new();
        for package in packages {
            let manifest =
                if package.dir.is_empty() { "Cargo.toml".to_owned() } else { format!("{}/Cargo.toml", package.dir) };
            let Some(row) = self.rows.iter().find(|row| row.applies_to(package)) else {
                found.push(format!(
                    "{manifest}: {} has no row in the dependency table of xtask/src/tidy/arrows.rs",
                    package.name
                ));
                continue;
            };
            for dependency in &package.dependencies {
                let to = dependency.name.as_str();
                if to == package.name || !workspace.contains(&to) {
                    continue;
                }
                let (allowed, verb) = match dependency.kind {
                    Kind::Normal => (row.may.allows(to), "depend"),
                    Kind::Dev => (self.dev_allows(&package.name, row, to), "dev-depend"),
                };
                let line = format!("{manifest}: {} must not {verb} on {to} (see docs/ARCHITECTURE.md)", package.name);
                if !allowed && !found.contains(&line) {
                    found.push(line);
                }
            }
        }
        found
    }

    fn dev_allows(&self, from: &str, row: &Row, to: &str) -> bool {
        let restricted = self.dev_only_of.iter().any(|(only, of)| *only == to && !of.contains(&from));
        !restricted && (row.may.allows(to) || self.dev_everywhere.contains(&to))
    }
}

impl Row {
    fn applies_to(&self, package: &Package) -> bool {
        match self.who {
            Who::Package(name) => package.name == name,
            Who::Under(dir) => package.dir.starts_with(dir),
        }
    }
}

impl May {
    fn allows(&self, to: &str) -> bool {
        match self {
            May::Only(these) => these.contains(&to),
            May::AnyBut(those) => !those.contains(&to),
        }
    }
}

/// A relative path with `/` between its components, as the map writes it.
fn slashed(path: &Path) -> String {
    path.components().map(|component| component.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    use Kind::{Dev, Normal};

    /// A package written as its directory, its name and its dependencies.
    type Spec<'a> = (&'a str, &'a str, &'a [(&'a str, Kind)]);

    /// The workspace as it stands, with every arrow the map draws; each case adds one package or one arrow.
    const WORKSPACE: &[Spec<'_>] = &[
        ("crates/authtoken-core", "authtoken-core", &[("authtoken-testkit", Dev), ("thiserror", Normal)]),
        ("crates/authtoken-argon2", "authtoken-argon2", &[("authtoken-core", Normal), ("argon2", Normal)]),
        ("crates/authtoken-sql", "authtoken-sql", &[("authtoken-core", Normal), ("authtoken-sql", Dev)]),
        ("crates/authtoken-mail", "authtoken-mail", &[("authtoken-core", Normal), ("authtoken-testkit", Dev)]),
        ("crates/authtoken-http", "authtoken-http", &[("authtoken-core", Normal), ("authtoken-core", Dev)]),
        ("crates/authtoken-testkit", "authtoken-testkit", &[("authtoken-core", Normal)]),
        (
            "crates/authtoken-server",
            "authtoken-server",
            &[
                ("authtoken-http", Normal),
                ("authtoken-sql", Normal),
                ("authtoken-mail", Normal),
                ("authtoken-sql", Dev),
            ],
        ),
        ("xtask", "xtask", &[("authtoken-core", Normal), ("authtoken-server", Dev)]),
        ("examples/demo", "demo", &[("authtoken-http", Normal), ("authtoken-sql", Normal), ("authtoken-testkit", Dev)]),
    ];

    #[track_caller]
    fn check(extra: &[Spec<'_>], expected: &[&str]) {
        let packages: Vec<Package> = WORKSPACE
            .iter()
            .chain(extra)
            .map(|(dir, name, dependencies)| Package {
                name: (*name).to_owned(),
                dir: (*dir).to_owned(),
                dependencies: dependencies
                    .iter()
                    .map(|(name, kind)| Dependency { name: (*name).to_owned(), kind: *kind })
                    .collect(),
            })
            .collect();
        assert_eq!(forbidden_arrows(&packages), expected, "{extra:?}");
    }

    #[test]
    fn only_the_arrows_of_the_map_are_allowed() {
        check(&[], &[]);
        check(
            &[("crates/authtoken-core", "authtoken-core", &[("authtoken-testkit", Normal)])],
            &[
                "crates/authtoken-core/Cargo.toml: authtoken-core must not depend on authtoken-testkit (see docs/ARCHITECTURE.md)",
            ],
        );
        check(
            &[("crates/authtoken-http", "authtoken-http", &[("authtoken-sql", Normal), ("authtoken-sql", Normal)])],
            &[
                "crates/authtoken-http/Cargo.toml: authtoken-http must not depend on authtoken-sql (see docs/ARCHITECTURE.md)",
            ],
        );
        check(
            &[("crates/authtoken-mail", "authtoken-mail", &[("authtoken-argon2", Normal)])],
            &[
                "crates/authtoken-mail/Cargo.toml: authtoken-mail must not depend on authtoken-argon2 (see docs/ARCHITECTURE.md)",
            ],
        );
        check(
            &[("crates/authtoken-testkit", "authtoken-testkit", &[("authtoken-sql", Normal), ("authtoken-core", Dev)])],
            &[
                "crates/authtoken-testkit/Cargo.toml: authtoken-testkit must not depend on authtoken-sql (see docs/ARCHITECTURE.md)",
            ],
        );
        check(&[("crates/authtoken-server", "authtoken-server", &[("authtoken-argon2", Normal)])], &[]);
        check(&[("xtask", "xtask", &[("authtoken-sql", Normal), ("authtoken-testkit", Normal)])], &[]);
    }

    #[test]
    fn dev_dependencies_may_add_the_testkit_but_the_server_only_for_itself_and_xtask() {
        check(&[("crates/authtoken-argon2", "authtoken-argon2", &[("authtoken-testkit", Dev)])], &[]);
        check(
            &[("crates/authtoken-sql", "authtoken-sql", &[("authtoken-mail", Dev)])],
            &[
                "crates/authtoken-sql/Cargo.toml: authtoken-sql must not dev-depend on authtoken-mail (see docs/ARCHITECTURE.md)",
            ],
        );
        check(
            &[("crates/authtoken-http", "authtoken-http", &[("authtoken-server", Dev)])],
            &[
                "crates/authtoken-http/Cargo.toml: authtoken-http must not dev-depend on authtoken-server (see docs/ARCHITECTURE.md)",
            ],
        );
        check(&[("crates/authtoken-server", "authtoken-server", &[("authtoken-server", Dev)])], &[]);
    }

    #[test]
    fn a_dev_only_of_entry_outweighs_the_rows() {
        let lax = Arrows {
            rows: &[Row { who: Who::Under(""), may: May::AnyBut(&[]) }],
            dev_everywhere: &[],
            dev_only_of: &[("s", &["s", "t"])],
        };
        let package = |name: &str, kind: Kind| Package {
            name: name.to_owned(),
            dir: name.to_owned(),
            dependencies: vec![Dependency { name: "s".to_owned(), kind }],
        };
        let packages = [package("s", Dev), package("t", Dev), package("a", Normal), package("b", Dev)];

        assert_eq!(lax.forbidden(&packages), ["b/Cargo.toml: b must not dev-depend on s (see docs/ARCHITECTURE.md)"]);
    }

    #[test]
    fn examples_may_use_everything_but_the_server_and_the_testkit_outside_tests() {
        check(&[("examples/other", "other", &[("authtoken-mail", Normal), ("authtoken-core", Dev)])], &[]);
        check(
            &[("examples/other", "other", &[("authtoken-server", Normal), ("authtoken-testkit", Normal)])],
            &[
                "examples/other/Cargo.toml: other must not depend on authtoken-server (see docs/ARCHITECTURE.md)",
                "examples/other/Cargo.toml: other must not depend on authtoken-testkit (see docs/ARCHITECTURE.md)",
            ],
        );
        check(
            &[("examples/other", "other", &[("authtoken-server", Dev)])],
            &["examples/other/Cargo.toml: other must not dev-depend on authtoken-server (see docs/ARCHITECTURE.md)"],
        );
    }

    #[test]
    fn a_package_without_a_row_is_a_violation() {
        check(
            &[("crates/authtoken-ldap", "authtoken-ldap", &[("authtoken-core", Normal)])],
            &[
                "crates/authtoken-ldap/Cargo.toml: authtoken-ldap has no row in the dependency table of xtask/src/tidy/arrows.rs",
            ],
        );
        check(
            &[("tools/lint", "lint", &[])],
            &["tools/lint/Cargo.toml: lint has no row in the dependency table of xtask/src/tidy/arrows.rs"],
        );
    }

    #[test]
    fn packages_are_read_from_cargo_metadata() {
        let metadata = serde_json::json!({
            "workspace_root": "/repo",
            "workspace_members": ["path+file:///repo/crates/a#0.1.0", "path+file:///repo/xtask#0.1.0"],
            "packages": [
                {
                    "id": "path+file:///repo/xtask#0.1.0",
                    "name": "xtask",
                    "manifest_path": "/repo/xtask/Cargo.toml",
                    "dependencies": [{ "name": "a", "kind": null, "rename": "alias" }, { "name": "cc", "kind": "build" }],
                },
                {
                    "id": "path+file:///repo/crates/a#0.1.0",
                    "name": "a",
                    "manifest_path": "/repo/crates/a/Cargo.toml",
                    "dependencies": [{ "name": "a", "kind": "dev" }],
                },
                { "id": "registry+x#1", "name": "outside", "manifest_path": "/elsewhere/Cargo.toml", "dependencies": [] },
            ],
        });

        let got: Vec<String> = packages(&metadata)
            .unwrap()
            .iter()
            .map(|package| {
                let dependencies: Vec<String> =
                    package.dependencies.iter().map(|d| format!("{}:{:?}", d.name, d.kind)).collect();
                format!("{} {} {}", package.dir, package.name, dependencies.join(","))
            })
            .collect();

        assert_eq!(got, ["crates/a a a:Dev", "xtask xtask a:Normal,cc:Normal"]);
        assert!(packages(&serde_json::json!({})).is_err());
    }
}
