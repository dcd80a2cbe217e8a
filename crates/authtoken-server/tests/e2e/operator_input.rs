//! The operator CLI's refusals and its output: every bad input exits non-zero with one message that names what is
//! wrong and changes nothing; `users list` pages; a closed stdout is no panic.

use std::process::Stdio;

use authtoken_sql::Backend;

use crate::operator::{PASSWORD, cli, command, create, ids, ok};
use crate::support::database;

/// A refusal: the arguments, what stdin holds (`None`: nothing, and not a terminal), the exit code, and a part of
/// the one message on stderr.
type Case<'a> = (&'a [&'a str], Option<&'a str>, i32, &'a str);

const UNKNOWN_ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_exits_non_zero_with_a_message_and_changes_nothing_on_sqlite() {
    bad_inputs(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn every_bad_input_exits_non_zero_with_a_message_and_changes_nothing_on_postgres() {
    bad_inputs(Backend::Postgres).await;
}

async fn bad_inputs(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    create(url, "alice");
    let before = ok(url, &["users", "list"], None);
    let pw = Some("correct horse\n");
    let cases: &[Case<'_>] = &[
        (
            &["users", "create", "alice", "--email", "a@example.org", "--password-stdin"],
            pw,
            1,
            "error: cannot create the user `alice`: username: A user with that username already exists.",
        ),
        (
            &["users", "create", "bob smith", "--email", "b@example.org", "--password-stdin"],
            Some("short\n"),
            1,
            "username: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ \
             characters.; password: password too short",
        ),
        (&["users", "create", "bob", "--password-stdin"], pw, 1, "`bob`: email: This field is required."),
        (
            &["users", "create", "bob", "--email", "bob@", "--password-stdin"],
            pw,
            1,
            "email: Enter a valid email address.",
        ),
        (&["users", "create", "bob", "--email", "b@example.org"], None, 1, "no password given: pass --password-stdin"),
        (&["users", "create", "bob", "--email", "b@example.org", "--password-stdin"], None, 1, "stdin is empty"),
        (&["users", "create", "bob", "--password", "correct horse"], None, 2, "unexpected argument '--password'"),
        (&["users", "set-password", "nobody", "--password-stdin"], pw, 1, "error: no user named `nobody`"),
        (
            &["users", "set-password", "alice", "--password-stdin"],
            Some("\n"),
            1,
            "cannot set the password of `alice`: password: This field may not be blank.",
        ),
        (&["users", "set-password", "alice"], None, 1, "no password given: pass --password-stdin"),
        (&["users", "deactivate", "nobody"], None, 1, "error: no user named `nobody`"),
        (&["users", "activate", "nobody"], None, 1, "error: no user named `nobody`"),
        (&["users", "delete", "nobody"], None, 1, "error: no user named `nobody`"),
        (&["users", "delete"], None, 2, "required arguments were not provided"),
        (&["users", "list", "--limit", "0"], None, 2, "invalid value '0' for '--limit <N>'"),
        (&["users", "list", "--after", "alice"], None, 2, "invalid value 'alice' for '--after <ID>'"),
        (&["sessions", "list", "--user", "nobody"], None, 1, "error: no user named `nobody`"),
        (&["sessions", "list"], None, 2, "required arguments were not provided"),
        (&["sessions", "revoke", "--user", "nobody"], None, 1, "error: no user named `nobody`"),
        (&["sessions", "revoke", "--id", "../../etc/passwd"], None, 1, "`../../etc/passwd` is not a session id"),
        (&["sessions", "revoke", "--id", UNKNOWN_ID], None, 1, "no session with the id `AAAAAAAAAAAAAAAAAAAAAA`"),
        (&["sessions", "revoke", "--user", "alice", "--all-users"], None, 2, "cannot be used with"),
        (&["sessions", "revoke", "--id", UNKNOWN_ID, "--user", "alice"], None, 2, "cannot be used with"),
        (&["sessions", "revoke"], None, 2, "<--user <NAME>|--id <ID>|--all-users>"),
    ];

    for (args, stdin, code, message) in cases {
        let ran = cli(url, args, *stdin);

        assert_eq!(ran.code, Some(*code), "authtoken {args:?}: {ran:?}");
        assert!(ran.stderr.contains(message), "authtoken {args:?}: {:?} lacks {message:?}", ran.stderr);
        assert_eq!(ran.stdout, "", "authtoken {args:?}");
        if *code == 1 {
            assert_eq!(ran.stderr.lines().count(), 1, "one message: {:?}", ran.stderr);
        }
        assert!(!ran.stderr.contains(PASSWORD), "the password is never shown: {:?}", ran.stderr);
    }
    assert_eq!(ok(url, &["users", "list"], None), before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_list_pages_and_says_how_to_get_the_next_page_on_sqlite() {
    users_list_pages(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn users_list_pages_and_says_how_to_get_the_next_page_on_postgres() {
    users_list_pages(Backend::Postgres).await;
}

async fn users_list_pages(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let url = database.options.url.as_str();
    assert_eq!(ok(url, &["users", "list"], None), "no users\n");
    for name in ["ann", "ben", "cem", "dan", "eve"] {
        create(url, name);
    }

    let first = ok(url, &["users", "list", "--limit", "2"], None);
    let second = ok(url, &["users", "list", "--limit", "2", "--after", "2"], None);
    let last = ok(url, &["users", "list", "--limit", "2", "--after", "4"], None);
    let exact = ok(url, &["users", "list", "--limit", "5"], None);
    let past = ok(url, &["users", "list", "--after", "5"], None);
    let whole = ok(url, &["users", "list"], None);

    assert!(first.ends_with("\nmore users follow: authtoken users list --after 2 --limit 2\n"), "{first}");
    assert!(second.ends_with("\nmore users follow: authtoken users list --after 4 --limit 2\n"), "{second}");
    assert!(!last.contains("more users"), "the last page says nothing more: {last}");
    assert!(!exact.contains("more users"), "a page that ends with the last user says nothing more: {exact}");
    let listed: Vec<String> = [&first, &second, &last].iter().flat_map(|page| ids(&without_hint(page))).collect();
    assert_eq!(listed, ["1", "2", "3", "4", "5"]);
    assert_eq!(past, "no more users\n");
    assert_eq!(ids(&whole), ["1", "2", "3", "4", "5"]);
}

fn without_hint(page: &str) -> String {
    page.lines().filter(|line| !line.starts_with("more users")).map(|line| format!("{line}\n")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_the_command_quietly() {
    let database = database(Backend::Sqlite).await.unwrap();
    let url = database.options.url.as_str();
    create(url, "alice");
    let mut child = command(url, &["users", "list"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    // The command opens the database before it writes, long after the reading end is gone.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
