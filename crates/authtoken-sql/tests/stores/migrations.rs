//! The SQLite and PostgreSQL migrations are twins: the same names, in the same order.

use std::path::Path;

fn names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_migration_twins_have_the_same_names_in_the_same_order() {
    let sqlite = names("sqlite");
    let postgres = names("postgres");

    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres have drifted apart");
}

#[test]
fn the_twins_create_the_same_tables_and_indexes() {
    for name in names("sqlite") {
        let read = |backend: &str| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(backend).join(&name);
            std::fs::read_to_string(path).unwrap()
        };
        let objects = |sql: &str| -> Vec<String> {
            sql.lines()
                .map(str::trim)
                .filter(|line| line.starts_with("CREATE "))
                // An UNLOGGED table is PostgreSQL's way of keeping a table out of the write-ahead log; SQLite has
                // no such thing, and it is the same table.
                .map(|line| line.replacen("CREATE UNLOGGED TABLE", "CREATE TABLE", 1))
                .map(|line| line.split('(').next().unwrap_or(&line).trim().to_owned())
                .collect()
        };

        assert_eq!(objects(&read("sqlite")), objects(&read("postgres")), "{name}");
    }
}
