//! The long commands' progress: plain lines on stderr when it is not a terminal (here: a pipe), a bar when it is (a
//! pseudo-terminal from `script`), and their answers on stdout either way.

use crate::operator::{cli, create, ids};

#[test]
fn users_list_all_shows_every_user_in_one_table_and_its_progress_on_stderr() {
    let database = authtoken_sql::testing::sqlite();
    let url = &database.options.url;
    for n in 0..12 {
        create(url, &format!("user{n:02}"));
    }

    let ran = cli(url, &["users", "list", "--all"], None);

    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ids(&ran.stdout).len(), 12, "{}", ran.stdout);
    assert!(!ran.stdout.contains("more users follow"), "{}", ran.stdout);
    assert!(ran.stderr.contains("12 of 12 users"), "plain lines when stderr is not a terminal: {}", ran.stderr);
    assert!(!ran.stderr.contains('\u{1b}'), "no terminal codes in a pipe: {:?}", ran.stderr);
    let conflict = cli(url, &["users", "list", "--all", "--limit", "5"], None);
    assert_eq!(conflict.code, Some(2), "{conflict:?}");
}

#[test]
fn tokens_purge_reports_its_progress() {
    let database = authtoken_sql::testing::sqlite();
    let url = &database.options.url;
    create(url, "jane");

    let purge = cli(url, &["tokens", "purge"], None);

    assert_eq!(purge.code, Some(0), "{purge:?}");
    assert!(purge.stdout.starts_with("deleted 0 expired or idle login tokens"), "{}", purge.stdout);
    assert!(purge.stderr.contains("4 of 4 purges"), "{}", purge.stderr);
}

#[test]
fn on_a_terminal_the_progress_is_a_bar() {
    let database = authtoken_sql::testing::sqlite();
    let url = &database.options.url;
    create(url, "jane");
    let binary = env!("CARGO_BIN_EXE_authtoken");
    // `script` runs the command on a pseudo-terminal and copies what it wrote there to stdout.
    let shown = std::process::Command::new("script")
        .args(["-qec", &format!("{binary} users list --all"), "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        // What a terminal's shell sets; without it, the console crate takes the terminal for a dumb one.
        .env("TERM", "xterm")
        .env("AUTHTOKEN_DATABASE_URL", url)
        .output()
        .expect("script(1) from util-linux runs");
    let text = String::from_utf8_lossy(&shown.stdout);

    assert!(shown.status.success(), "{text}");
    assert!(text.contains("jane"), "{text}");
    assert!(text.contains("1/1 users"), "the bar's position and length: {text:?}");
    assert!(!text.contains("1 of 1 users"), "no plain line on a terminal: {text:?}");
}
