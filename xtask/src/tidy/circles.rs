//! No module imports a module that imports it: within a crate, the top-level modules that `crate::` paths connect
//! must form no circle. Shared types move down into a module of their own instead (house style, rule 29).
//!
//! A file belongs to the top-level module its path under `src/` starts with (`service/login.rs` to `service`);
//! a module's children reaching their parent through `super::` stay inside the module and are not arrows.

use std::collections::{BTreeMap, BTreeSet};

use super::map::Member;

/// A circle of top-level modules of one crate, for each crate that has one.
pub(super) fn violations(members: &[Member], text_of: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut found = Vec::new();
    for member in members {
        let src = if member.dir.is_empty() { "src/".to_owned() } else { format!("{}/src/", member.dir) };
        let sources: Vec<(String, String)> = member
            .sources
            .iter()
            .filter_map(|source| Some((source.clone(), text_of(&format!("{src}{source}"))?)))
            .collect();
        for circle in circles(&sources) {
            found.push(format!(
                "{src}: the modules {} import each other; move what they share down",
                circle.join(" -> ")
            ));
        }
    }
    found
}

/// Every circle of imports between the top-level modules of the files, as `[a, b, a]`, each circle once.
pub(super) fn circles(sources: &[(String, String)]) -> Vec<Vec<String>> {
    let graph = imports(sources);
    let mut found = BTreeSet::new();
    for start in graph.keys() {
        walk(&graph, vec![start.clone()], &mut found);
    }
    found.into_iter().collect()
}

/// The modules each top-level module names through `crate::` (a group `crate::{a, b::c}` names each), outside
/// comments; the crate root is no module.
fn imports(sources: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources {
        let module = top_module(path);
        if matches!(module, "lib" | "main") {
            continue;
        }
        let code: String =
            text.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let targets = graph.entry(module.to_owned()).or_default();
        targets.extend(named_modules(&code).into_iter().filter(|name| name != module));
    }
    graph
}

/// The first segment of every `crate::` path in `code`, whatever its group.
fn named_modules(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => names.extend(group_heads(group)),
            None => names.push(identifier(rest)),
        }
    }
    names.retain(|name| !name.is_empty() && name != "self");
    names
}

/// The first identifier of each item of a group, from after its `{` to its matching `}`.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut item_start = true;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                heads.push(identifier(&group[at..]));
                item_start = false;
            }
            _ => {}
        }
    }
    heads
}

/// The identifier `text` starts with.
fn identifier(text: &str) -> String {
    text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// `service/login.rs` and `service/mod.rs` belong to `service`, `ports.rs` to `ports`.
fn top_module(path: &str) -> &str {
    let first = path.split('/').next().unwrap_or(path);
    first.strip_suffix(".rs").unwrap_or(first)
}

/// Follows every import from the last module of `path`; a module already on the path closes a circle, which is
/// kept rotated to start at its smallest name, so that each circle is found once.
fn walk(graph: &BTreeMap<String, BTreeSet<String>>, path: Vec<String>, found: &mut BTreeSet<Vec<String>>) {
    let Some(last) = path.last() else { return };
    for next in graph.get(last).into_iter().flatten() {
        if let Some(at) = path.iter().position(|module| module == next) {
            let mut circle: Vec<String> = path[at..].to_vec();
            let smallest = (0..circle.len()).min_by_key(|&i| &circle[i]).unwrap_or(0);
            circle.rotate_left(smallest);
            circle.push(circle[0].clone());
            found.insert(circle);
        } else if graph.contains_key(next) {
            let mut longer = path.clone();
            longer.push(next.clone());
            walk(graph, longer, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(files: &[(&str, &str)], expected: &[&[&str]]) {
        let sources: Vec<(String, String)> =
            files.iter().map(|(path, text)| ((*path).to_owned(), (*text).to_owned())).collect();
        let expected: Vec<Vec<String>> =
            expected.iter().map(|circle| circle.iter().map(|m| (*m).to_owned()).collect()).collect();
        assert_eq!(circles(&sources), expected);
    }

    #[test]
    fn modules_that_import_each_other_form_a_circle() {
        check(
            &[("ports.rs", "use crate::confirmation::Link;"), ("confirmation.rs", "use crate::ports::Mail;")],
            &[&["confirmation", "ports", "confirmation"]],
        );
        check(
            &[
                ("backend.rs", "use crate::row::Row;"),
                ("row.rs", "crate::store::store_error"),
                ("store/mod.rs", "mod users;"),
                ("store/users.rs", "use crate::backend::Pool;"),
            ],
            &[&["backend", "row", "store", "backend"]],
        );
    }

    #[test]
    fn arrows_that_go_one_way_are_no_circle() {
        check(
            &[
                ("lib.rs", "pub use crate::service::AuthService;"),
                ("service/mod.rs", "use crate::ports::TokenRepo;\nuse super::login;"),
                ("service/login.rs", "use super::AuthService;\nuse crate::ports::TokenRepo;"),
                ("ports.rs", "use crate::outbox::Mail;"),
                ("outbox.rs", "//! Delivered by [`crate::service::Delivery`].\nuse crate::time::Timestamp;"),
            ],
            &[],
        );
    }

    #[test]
    fn every_module_of_a_group_is_an_import() {
        check(
            &[
                ("cli.rs", "use crate::{\n    admin,\n    startup::{self, Wired},\n};"),
                ("startup.rs", "use crate::settings::Resolved;"),
                ("settings/mod.rs", "pub(crate) fn f() { crate::cli::run() }"),
            ],
            &[&["cli", "startup", "settings", "cli"]],
        );
    }

    #[test]
    fn paths_that_only_end_in_crate_are_not_imports() {
        check(
            &[
                ("a.rs", "use other_crate::b::X; let s = \"$crate::b\"; use my_crate::b::Y;"),
                ("b.rs", "use crate::a::Z;"),
            ],
            &[],
        );
    }
}
