//! The checks each Rust source file must pass on its own: a module doc, a length limit, no ignored or panicking tests.

/// A file may be this long; a longer one is split by use case.
pub(super) const MAX_LINES: usize = 500;

/// The attribute that skips a test, built here so that this file does not contain it.
pub(super) const IGNORE: &str = concat!("#[", "ignore");

/// The attribute that expects a panic, built here so that this file does not contain it.
pub(super) const SHOULD_PANIC: &str = concat!("should", "_panic");

/// A Rust source file: its path relative to the repository root, with `/` between components, and its text.
#[derive(Debug)]
pub(super) struct SourceFile {
    pub path: String,
    pub text: String,
}

/// Every violation in `files`, one line each, grouped by check.
pub(super) fn violations(files: &[SourceFile]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        if module_doc_missing(&file.text) {
            found.push(format!("{}: the first line is not a `//!` module doc", file.path));
        }
    }
    for file in files {
        let lines = file.text.lines().count();
        if lines > MAX_LINES {
            found.push(format!("{}: {lines} lines, more than {MAX_LINES}; split it by use case", file.path));
        }
    }
    for file in files {
        for (line, needle) in forbidden_attributes(&file.text) {
            found.push(format!(
                "{}:{line}: `{needle}`: a test is never skipped and never expects a panic; assert on the `Err`",
                file.path
            ));
        }
    }
    found
}

/// Whether the first non-empty line fails to start with `//!`.
pub(super) fn module_doc_missing(text: &str) -> bool {
    let first = text.lines().map(str::trim).find(|line| !line.is_empty());
    !first.is_some_and(|line| line.starts_with("//!"))
}

/// Each line (counted from 1) that holds a forbidden test attribute, with the attribute; anywhere in the text.
pub(super) fn forbidden_attributes(text: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for needle in [IGNORE, SHOULD_PANIC] {
            if line.contains(needle) {
                found.push((index + 1, needle));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_doc(text: &str, missing: bool) {
        assert_eq!(module_doc_missing(text), missing, "{text:?}");
    }

    #[track_caller]
    fn check_attributes(text: &str, expected: &[(usize, &str)]) {
        assert_eq!(forbidden_attributes(text), expected, "{text:?}");
    }

    #[test]
    fn a_file_must_open_with_a_module_doc() {
        check_doc("//! What this is for.\nfn main() {}\n", false);
        check_doc("\n\n   \n//! After blank lines.\n", false);
        check_doc("  //! Indented.\n", false);
        check_doc("", true);
        check_doc("\n\n", true);
        check_doc("fn main() {}\n//! Too late.\n", true);
        check_doc("// A plain comment.\n//! Then the doc.\n", true);
        check_doc("/// An item doc.\nfn main() {}\n", true);
        check_doc("#![allow(dead_code)]\n//! After an attribute.\n", true);
        check_doc("/*! A block doc. */\n", true);
    }

    #[test]
    fn ignored_and_panicking_tests_are_found_on_every_line() {
        let ignored = format!("{IGNORE}]\nfn slow() {{}}\n");
        let both = format!("//! Tests.\n#[test]\n{IGNORE} = \"flaky\"]\n#[{SHOULD_PANIC}]\nfn a() {{}}\n");
        let twice = format!("{IGNORE}] #[{SHOULD_PANIC}(expected = \"x\")]\n");

        check_attributes("//! Tests.\n#[test]\nfn fine() {}\n", &[]);
        check_attributes("// We ignore nothing and nothing should panic.\n#[should]\n", &[]);
        check_attributes(&ignored, &[(1, IGNORE)]);
        check_attributes(&both, &[(3, IGNORE), (4, SHOULD_PANIC)]);
        check_attributes(&twice, &[(1, IGNORE), (1, SHOULD_PANIC)]);
    }

    #[test]
    fn violations_name_the_file_and_come_grouped_by_check() {
        let long = format!("//! Long.\n{}", "fn f() {}\n".repeat(MAX_LINES));
        let files = [
            SourceFile { path: "crates/a/src/lib.rs".to_owned(), text: "fn a() {}\n".to_owned() },
            SourceFile { path: "crates/a/src/long.rs".to_owned(), text: long },
            SourceFile { path: "crates/a/src/ok.rs".to_owned(), text: "//! Fine.\n".repeat(MAX_LINES) },
            SourceFile { path: "xtask/src/t.rs".to_owned(), text: format!("//! T.\n\n{IGNORE}]\n") },
        ];

        assert_eq!(
            violations(&files),
            [
                "crates/a/src/lib.rs: the first line is not a `//!` module doc".to_owned(),
                "crates/a/src/long.rs: 501 lines, more than 500; split it by use case".to_owned(),
                format!(
                    "xtask/src/t.rs:3: `{IGNORE}`: a test is never skipped and never expects a panic; assert on the `Err`"
                ),
            ]
        );
    }
}
