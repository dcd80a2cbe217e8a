//! The map in `docs/ARCHITECTURE.md` must show every workspace crate and, in the crate's section, every top-level
//! module of its `src/`.

/// Where the map lives, relative to the repository root.
pub(super) const ARCHITECTURE: &str = "docs/ARCHITECTURE.md";

/// A workspace member as the map sees it.
#[derive(Debug)]
pub(super) struct Member {
    /// The member's directory relative to the repository root, such as `crates/authtoken-core` or `xtask`.
    pub dir: String,
    /// The paths of its `.rs` files relative to its `src/`, such as `lib.rs` or `service/login.rs`.
    pub sources: Vec<String>,
}

/// A `### ` section of the map: its heading line and the text up to the next heading of level three or above.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Section<'a> {
    pub heading: &'a str,
    pub text: String,
}

/// A top-level module of a member's `src/`, as the map must name it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Module {
    /// The path relative to `src/` that a violation shows: `config.rs`, `service/` or `bin/tool.rs`.
    pub path: String,
    /// The backticked spellings that name it in the map; any one is enough.
    pub names: Vec<String>,
}

/// Every crate missing from the map and every module missing from its crate's section, one line each.
pub(super) fn violations(architecture: &str, members: &[Member]) -> Vec<String> {
    let sections = sections(architecture);
    let mut missing_crates = Vec::new();
    let mut missing_modules = Vec::new();
    for member in members {
        let mine: Vec<&Section<'_>> =
            sections.iter().filter(|section| backticked(section.heading).contains(&member.dir.as_str())).collect();
        if mine.is_empty() {
            missing_crates.push(format!("{}: no \"### `{}`\" section in {ARCHITECTURE}", member.dir, member.dir));
            continue;
        }
        let text: String = mine.iter().map(|section| section.text.as_str()).collect();
        for module in modules(&member.sources) {
            if !module.names.iter().any(|name| text.contains(&format!("`{name}`"))) {
                missing_modules.push(format!(
                    "{}/src/{}: not named as {} in the `{}` section of {ARCHITECTURE}",
                    member.dir,
                    module.path,
                    spellings(&module.names),
                    member.dir
                ));
            }
        }
    }
    missing_crates.extend(missing_modules);
    missing_crates
}

/// The `### ` sections of a Markdown text; lines inside code fences are never headings.
pub(super) fn sections(architecture: &str) -> Vec<Section<'_>> {
    let mut sections: Vec<Section<'_>> = Vec::new();
    let mut open = false;
    let mut fenced = false;
    for line in architecture.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let heading = !fenced && ["# ", "## ", "### "].iter().any(|prefix| line.starts_with(prefix));
        if heading {
            open = line.starts_with("### ");
            if open {
                sections.push(Section { heading: line, text: String::new() });
            }
            continue;
        }
        if let Some(section) = sections.last_mut().filter(|_| open) {
            section.text.push_str(line);
            section.text.push('\n');
        }
    }
    sections
}

/// The top-level modules that the `.rs` files under `src/` make, named by their paths relative to `src/`.
/// `lib.rs` and `main.rs` are the crate itself; each binary under `bin/` counts as a module of its own.
pub(super) fn modules(sources: &[String]) -> Vec<Module> {
    let mut modules: Vec<Module> = Vec::new();
    for source in sources {
        let (prefix, rest) = match source.strip_prefix("bin/") {
            Some(rest) => ("bin/", rest),
            None => ("", source.as_str()),
        };
        let (stem, name) = match rest.split_once('/') {
            Some((dir, _)) => (dir, format!("{dir}/")),
            None if prefix.is_empty() && (rest == "lib.rs" || rest == "main.rs") => continue,
            None => match rest.strip_suffix(".rs") {
                Some(stem) => (stem, rest.to_owned()),
                None => continue,
            },
        };
        let mut names = vec![name.clone()];
        if !prefix.is_empty() {
            names.push(format!("{prefix}{name}"));
        }
        match modules.iter_mut().find(|module| module_stem(&module.path) == format!("{prefix}{stem}")) {
            Some(module) => {
                for name in names {
                    if !module.names.contains(&name) {
                        module.names.push(name);
                    }
                }
            }
            None => modules.push(Module { path: format!("{prefix}{name}"), names }),
        }
    }
    modules.sort_by(|a, b| a.path.cmp(&b.path));
    modules
}

/// `service/` and `service.rs` are one module, `service`.
fn module_stem(path: &str) -> &str {
    path.strip_suffix('/').or_else(|| path.strip_suffix(".rs")).unwrap_or(path)
}

/// `` `a.rs` or `a/` ``.
fn spellings(names: &[String]) -> String {
    names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(" or ")
}

/// The spans of a line written between backticks.
fn backticked(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "# Architecture

## Bird's-eye view

```
### `crates/fenced` is a drawing, not a heading
```

## Crates

### `crates/authtoken-core`

Has `token.rs` and `service/`.

#### Details

Also `ports.rs`.

### `xtask` and `examples/demo`

Runs `ci.rs`.

## Cross-cutting concerns

Mentions `bench/` outside any crate section.

### Errors

Nothing here.
";

    #[track_caller]
    fn check_sections(text: &str, expected: &[(&str, &str)]) {
        let sections = sections(text);
        let got: Vec<(&str, &str)> = sections.iter().map(|section| (section.heading, section.text.trim())).collect();
        assert_eq!(got, expected, "{text:?}");
    }

    #[track_caller]
    fn check_modules(sources: &[&str], expected: &[(&str, &[&str])]) {
        let sources: Vec<String> = sources.iter().map(|source| (*source).to_owned()).collect();
        let expected: Vec<Module> = expected
            .iter()
            .map(|(path, names)| Module {
                path: (*path).to_owned(),
                names: names.iter().map(|name| (*name).to_owned()).collect(),
            })
            .collect();
        assert_eq!(modules(&sources), expected, "{sources:?}");
    }

    #[track_caller]
    fn check(dir: &str, sources: &[&str], expected: &[&str]) {
        let member =
            Member { dir: dir.to_owned(), sources: sources.iter().map(|source| (*source).to_owned()).collect() };
        assert_eq!(violations(MAP, &[member]), expected, "{dir} {sources:?}");
    }

    #[test]
    fn a_section_runs_from_its_heading_to_the_next_heading_of_level_three_or_above() {
        check_sections(
            MAP,
            &[
                ("### `crates/authtoken-core`", "Has `token.rs` and `service/`.\n\n#### Details\n\nAlso `ports.rs`."),
                ("### `xtask` and `examples/demo`", "Runs `ci.rs`."),
                ("### Errors", "Nothing here."),
            ],
        );
        check_sections("", &[]);
        check_sections("## Crates\n\nText.\n", &[]);
        check_sections("### `a`\nOne.\n# Top\nTwo.\n", &[("### `a`", "One.")]);
        check_sections("### `a`\n```\n## not a heading\n```\n", &[("### `a`", "```\n## not a heading\n```")]);
    }

    #[test]
    fn top_level_files_and_directories_of_src_are_modules() {
        check_modules(&["lib.rs"], &[]);
        check_modules(&["main.rs", "lib.rs", "cli.rs"], &[("cli.rs", &["cli.rs"])]);
        check_modules(
            &["service/mod.rs", "service/login.rs", "token.rs"],
            &[("service/", &["service/"]), ("token.rs", &["token.rs"])],
        );
        check_modules(&["settings.rs", "settings/file.rs"], &[("settings.rs", &["settings.rs", "settings/"])]);
        check_modules(
            &["bin/tool.rs", "bin/other/main.rs"],
            &[("bin/other/", &["other/", "bin/other/"]), ("bin/tool.rs", &["tool.rs", "bin/tool.rs"])],
        );
        check_modules(&["bin.rs"], &[("bin.rs", &["bin.rs"])]);
    }

    #[test]
    fn every_crate_needs_a_section_and_every_module_a_mention_in_it() {
        check("crates/authtoken-core", &["lib.rs", "token.rs", "service/mod.rs", "ports.rs"], &[]);
        check("xtask", &["main.rs", "ci.rs"], &[]);
        check("examples/demo", &["main.rs"], &[]);
        check(
            "crates/authtoken-core",
            &["lib.rs", "clock.rs", "service/mod.rs", "token/mod.rs"],
            &[
                "crates/authtoken-core/src/clock.rs: not named as `clock.rs` in the `crates/authtoken-core` section of docs/ARCHITECTURE.md",
                "crates/authtoken-core/src/token/: not named as `token/` in the `crates/authtoken-core` section of docs/ARCHITECTURE.md",
            ],
        );
        check(
            "xtask",
            &["main.rs", "bench/mod.rs"],
            &["xtask/src/bench/: not named as `bench/` in the `xtask` section of docs/ARCHITECTURE.md"],
        );
        check(
            "crates/authtoken-argon2",
            &["lib.rs", "pool.rs"],
            &["crates/authtoken-argon2: no \"### `crates/authtoken-argon2`\" section in docs/ARCHITECTURE.md"],
        );
        check("crates/fenced", &[], &["crates/fenced: no \"### `crates/fenced`\" section in docs/ARCHITECTURE.md"]);
        check("authtoken-core", &[], &["authtoken-core: no \"### `authtoken-core`\" section in docs/ARCHITECTURE.md"]);
    }
}
