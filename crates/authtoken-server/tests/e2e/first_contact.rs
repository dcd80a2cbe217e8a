//! What a new operator meets: start-up failures that name the setting and what to do, the CLI in pipes and scripts,
//! `migrate` that says what it did, and failed mail sent again.

use std::process::{Output, Stdio};

use authtoken_sql::Backend;
use authtoken_testkit::SmtpSink;
use reqwest::StatusCode;

use crate::confirmation::{WAIT, confirming, outbox_until, register, start};
use crate::support::{Server, binary, database};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the binary with `args` in a temporary directory, on `database_url`.
fn run(args: &[&str], database_url: &str, extra: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    binary()
        .args(args)
        .current_dir(dir.path())
        .env("AUTHTOKEN_DATABASE_URL", database_url)
        .envs(extra.iter().copied())
        .output()
        .expect("the binary runs")
}

#[track_caller]
fn check_refused_to_start(output: &Output, expected: &[&str]) {
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "it started:\n{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{stderr:?} does not say {part:?}");
    }
    assert!(!stderr.contains("panicked") && !stderr.contains("at line"), "{stderr}");
}

#[test]
fn version_names_the_program() {
    let output = binary().arg("--version").output().unwrap();

    assert!(output.status.success());
    assert_eq!(text(&output.stdout), format!("authtoken {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_reader_that_goes_away_ends_a_command_quietly_and_successfully() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    for args in [&["openapi"][..], &["migrate", "--status"], &["migrate"], &["outbox", "--all"], &["users", "list"]] {
        let mut child = binary()
            .args(args)
            .env("AUTHTOKEN_DATABASE_URL", &url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reading end closes before the command writes a byte, as `| head -0` would.
        drop(child.stdout.take());

        let output = child.wait_with_output().unwrap();

        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_port_in_use_names_bind_before_the_database_is_touched() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("db.sqlite3");

    let output = run(&["serve"], &format!("sqlite://{}", file.display()), &[("AUTHTOKEN_BIND", &addr)]);

    check_refused_to_start(
        &output,
        &[&format!("cannot listen on {addr} (setting `bind`): another process listens there: stop it, or set `bind`")],
    );
    assert!(!file.exists(), "the database was created before the address was found taken");
}

#[test]
fn an_unreachable_postgresql_names_database_url_and_the_server() {
    let output = run(&["migrate"], "postgres://postgres@127.0.0.1:1/test", &[]);

    check_refused_to_start(
        &output,
        &[
            "cannot open the database of `database_url` (postgres://postgres@127.0.0.1:1/test)",
            "nothing accepts connections at 127.0.0.1:1: is PostgreSQL running, and are the host and port right?",
        ],
    );
}

#[test]
fn the_password_in_database_url_never_shows_in_a_message() {
    let output = run(&["migrate"], "postgres://app:s3cret-pw@127.0.0.1:1/test", &[]);

    check_refused_to_start(&output, &["(postgres://app:***@127.0.0.1:1/test)"]);
    assert!(!text(&output.stderr).contains("s3cret-pw"));
}

#[test]
fn a_sqlite_file_that_cannot_be_created_names_its_path_and_why() {
    let output = run(&["migrate"], "sqlite:///no-such-directory/authtoken.sqlite3", &[]);
    check_refused_to_start(
        &output,
        &[
            "cannot open the database of `database_url` (sqlite:///no-such-directory/authtoken.sqlite3)",
            "the directory `/no-such-directory` does not exist",
        ],
    );

    // Not even root may create a file in /proc.
    let output = run(&["migrate"], "sqlite:///proc/authtoken.sqlite3", &[]);
    check_refused_to_start(
        &output,
        &["cannot create the SQLite database `/proc/authtoken.sqlite3`: can this user write in the directory `/proc`?"],
    );
}

/// The URL of the test PostgreSQL server with its database, or its user, replaced.
fn postgres_url_with(database: Option<&str>, user: Option<&str>) -> String {
    let base = authtoken_sql::testing::postgres_url().expect("PostgreSQL tests run with AUTHTOKEN_TEST_POSTGRES_URL");
    let mut url = url::Url::parse(&base).unwrap();
    if let Some(database) = database {
        url.set_path(database);
    }
    if let Some(user) = user {
        url.set_username(user).unwrap();
    }
    url.to_string()
}

#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn a_missing_postgresql_database_or_role_is_named_with_what_to_do_on_postgres() {
    if database(Backend::Postgres).await.is_none() {
        return;
    }
    let url = postgres_url_with(Some("no_such_database_here"), None);
    let output = run(&["migrate"], &url, &[]);
    check_refused_to_start(
        &output,
        &["`database_url`", "the database `no_such_database_here` does not exist at", "createdb"],
    );

    let url = postgres_url_with(None, Some("no_such_role_here"));
    let output = run(&["migrate"], &url, &[]);
    check_refused_to_start(&output, &["`database_url`", "refused the role `no_such_role_here`"]);
}

#[test]
fn migrate_says_what_it_applied_and_status_lists_applied_and_pending() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("db.sqlite3");
    let url = format!("sqlite://{}", file.display());
    let count = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite")).unwrap().count();

    let before = run(&["migrate", "--status"], &url, &[]);
    assert!(before.status.success(), "{}", text(&before.stderr));
    let listing = text(&before.stdout);
    assert_eq!(listing.matches("pending  ").count(), count, "{listing}");
    assert!(
        listing.ends_with(&format!(
            "{count} of {count} migrations pending: `authtoken migrate` (or `serve`) applies them\n"
        )),
        "{listing}"
    );
    assert!(!file.exists(), "--status changes nothing, not even by creating the file");

    let first = run(&["migrate"], &url, &[]);
    let said = text(&first.stdout);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(said.starts_with(&format!("applied {count} of {count} migrations:\n")), "{said}");
    assert_eq!(said.lines().count(), count + 1, "{said}");

    let second = run(&["migrate"], &url, &[]);
    assert_eq!(text(&second.stdout), format!("nothing to apply: the database has all {count} migrations\n"));

    let after = text(&run(&["migrate", "--status"], &url, &[]).stdout);
    assert_eq!(after.matches("applied  ").count(), count, "{after}");
    assert!(after.ends_with(&format!("the database has all {count} migrations\n")), "{after}");
}

#[test]
fn start_up_logs_one_line_of_what_is_in_effect() {
    let database = authtoken_sql::testing::sqlite();
    let server =
        Server::start(&database.options.url, &[("AUTHTOKEN_MAIL_URL", "smtp://mailer:pw-in-url@127.0.0.1:2525")]);

    let log = server.log();
    let line = log.lines().find(|line| line.contains("starting authtoken")).unwrap_or_else(|| panic!("{log}"));
    assert!(line.contains(&format!("database {}", database.options.url)), "{line}");
    assert!(line.contains("bind 127.0.0.1:0"), "{line}");
    assert!(line.contains("mail by SMTP to 127.0.0.1:2525"), "{line}");
    assert!(line.contains("on: registration, throttles (in memory), docs at /docs"), "{line}");
    assert!(line.contains("off: email confirmation, password reset"), "{line}");
    assert!(!log.contains("pw-in-url"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_mail_is_sent_again_by_outbox_retry_and_a_first_try_counts_one_attempt() {
    let database = database(Backend::Sqlite).await.unwrap();
    let url = database.options.url.clone();
    let sink = SmtpSink::start().await;
    sink.down();
    let settings = confirming(&sink, &[("AUTHTOKEN_OUTBOX_MAX_ATTEMPTS", "1")]);
    let server = start(&url, &settings);
    assert_eq!(register(&server, "olga", "olga@example.org").await, StatusCode::CREATED);
    let listing = outbox_until(&url, |listing| listing.contains("failed")).await;
    assert!(listing.contains(&format!("{:<8}  {:>8}  -", "failed", 1)), "{listing}");
    sink.up();

    let retried = run(&["outbox", "retry"], &url, &[]);

    assert!(retried.status.success(), "{}", text(&retried.stderr));
    assert_eq!(
        text(&retried.stdout),
        "1 failed mail is pending again; a running server sends it within outbox_poll_interval\n"
    );
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails[0].rcpt_to, ["olga@example.org"]);
    let everything = loop {
        let output = run(&["outbox", "--all"], &url, &[]);
        let listing = text(&output.stdout);
        if listing.contains("sent") {
            break listing;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(everything.contains(&format!("{:<8}  {:>8}  -", "sent", 1)), "sent on its first try: {everything}");
    let again = run(&["outbox", "retry", "--id", "1", "--id", "99"], &url, &[]);
    assert!(!again.status.success());
    assert_eq!(text(&again.stdout), "no failed mail to send again\n");
    assert!(
        text(&again.stderr).contains("mail 1 was sent; there is no mail 99 in the outbox"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn a_command_whose_feature_is_off_names_the_setting_that_turns_it_on() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    for args in [&["confirm", "resend", "--user", "jane"][..], &["confirm", "resend", "--all-unconfirmed"]] {
        let output = run(args, &url, &[]);

        check_refused_to_start(
            &output,
            &[
                "email confirmation is off",
                "set `registration_email_confirm = true` (AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM=true)",
            ],
        );
    }
}
