//! Start-up refuses bad configuration with a message that names the setting.

use crate::support::binary;

#[track_caller]
fn check_refused(name: &str, value: &str) {
    let dir = tempfile::tempdir().unwrap();

    let output = binary()
        .arg("openapi")
        .current_dir(dir.path())
        .env("AUTHTOKEN_DATABASE_URL", "sqlite::memory:")
        .env(name, value)
        .output()
        .expect("the binary runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    let setting = name.trim_start_matches("AUTHTOKEN_").to_lowercase();
    assert!(!output.status.success(), "{name}={value} was accepted");
    assert!(
        stderr.contains(&setting) || stderr.contains(name),
        "{name}={value}: the message does not name `{setting}`:\n{stderr}"
    );
}

#[test]
fn a_bad_value_stops_start_up_and_names_the_setting() {
    check_refused("AUTHTOKEN_PASSWORD_MIN_LENGTH", "eight");
    check_refused("AUTHTOKEN_PASSWORD_MIN_LENGTH", "0");
    check_refused("AUTHTOKEN_AUTH_TOKEN_VALIDITY", "forever");
    check_refused("AUTHTOKEN_BIND", "everywhere");
    check_refused("AUTHTOKEN_PREFIX", "auth");
    check_refused("AUTHTOKEN_USER_FIELDS", "id,password");
    check_refused("AUTHTOKEN_REGISTRATION_ENABLED", "perhaps");
    check_refused("AUTHTOKEN_DATABASE_URL", "mysql://localhost/db");
    check_refused("AUTHTOKEN_HTTP_HEADER_TIMEOUT", "0s");
    check_refused("AUTHTOKEN_HTTP_IDLE_TIMEOUT", "a while");
    check_refused("AUTHTOKEN_HTTP_MAX_CONNECTIONS", "-1");
    check_refused("AUTHTOKEN_HTTP_MAX_HEADER_BYTES", "100");
    check_refused("AUTHTOKEN_TOKEN_PREFIX", "at.");
    check_refused("AUTHTOKEN_CORS_ALLOWED_ORIGINS", "*");
    check_refused("AUTHTOKEN_CORS_ALLOWED_ORIGINS", "https://app.example.org/");
    check_refused("AUTHTOKEN_NO_SUCH_SETTING", "1");
}

#[test]
fn a_toml_file_is_read_and_the_environment_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authtoken.toml");
    std::fs::write(&file, "prefix = \"/api/auth\"\nregistration_enabled = false\n").unwrap();

    let output = binary()
        .args(["--config", file.to_str().unwrap(), "openapi"])
        .current_dir(dir.path())
        .env("AUTHTOKEN_DATABASE_URL", "sqlite::memory:")
        .env("AUTHTOKEN_REGISTRATION_ENABLED", "true")
        .output()
        .expect("the binary runs");

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/auth/login"), "{paths:?}");
    assert!(paths.contains_key("/api/auth/register"), "{paths:?}");
}

/// Runs the binary with `args` in a temporary directory with `vars` set (and an in-memory database unless `vars`
/// names one): whether it succeeded, its stdout and its stderr.
fn run_with(vars: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = binary()
        .args(args)
        .current_dir(dir.path())
        .env("AUTHTOKEN_DATABASE_URL", "sqlite::memory:")
        .envs(vars.iter().copied())
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), stdout, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// `authtoken [global] openapi` with `vars` set.
fn openapi_with(vars: &[(&str, &str)], global: &[&str]) -> (bool, String, String) {
    run_with(vars, &[global, &["openapi"]].concat())
}

#[track_caller]
fn check_message(vars: &[(&str, &str)], expected: &str) {
    let (ok, _, stderr) = openapi_with(vars, &[]);

    assert!(!ok, "{vars:?} was accepted");
    assert!(stderr.contains(expected), "{vars:?}: {stderr:?} does not say {expected:?}");
    assert_eq!(stderr.lines().count(), 1, "one line for one problem: {stderr}");
}

#[test]
fn a_number_where_a_duration_is_expected_asks_for_a_unit() {
    check_message(
        &[("AUTHTOKEN_AUTH_TOKEN_VALIDITY", "86400")],
        "invalid setting `auth_token_validity`: `86400` has no unit: write `86400s` for seconds",
    );
    check_message(&[("AUTHTOKEN_HTTP_IDLE_TIMEOUT", "60")], "write `60s` for seconds");
}

#[test]
fn a_bare_port_in_bind_asks_for_an_address() {
    check_message(
        &[("AUTHTOKEN_BIND", "8000")],
        "invalid setting `bind`: `8000` is a port alone: write an address and a port, such as `127.0.0.1:8000`",
    );
}

#[test]
fn flags_take_true_false_one_zero_yes_no_and_on_off_in_any_case() {
    for (text, on) in [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("Yes", true),
        ("on", true),
        ("false", false),
        ("False", false),
        ("0", false),
        ("NO", false),
        ("off", false),
    ] {
        let (ok, stdout, stderr) = openapi_with(&[("AUTHTOKEN_REGISTRATION_ENABLED", text)], &[]);

        assert!(ok, "{text}: {stderr}");
        assert_eq!(stdout.contains("/auth/register"), on, "registration_enabled={text}");
    }
    check_message(
        &[("AUTHTOKEN_REGISTRATION_ENABLED", "2")],
        "invalid setting `registration_enabled`: `2` is neither yes nor no: write true or false",
    );
}

#[test]
fn an_unknown_variable_gets_the_closest_name_and_not_the_whole_list() {
    check_message(
        &[("AUTHTOKEN_REGISTRATON_ENABLED", "true")],
        "unknown setting `AUTHTOKEN_REGISTRATON_ENABLED` in the environment: did you mean \
         `AUTHTOKEN_REGISTRATION_ENABLED`?",
    );
    let (_, _, stderr) = openapi_with(&[("AUTHTOKEN_FAVOURITE_COLOUR", "blue")], &[]);
    assert!(stderr.contains("unknown setting `AUTHTOKEN_FAVOURITE_COLOUR` in the environment"), "{stderr}");
    assert!(stderr.contains("examples/authtoken.toml"), "{stderr}");
    assert!(!stderr.contains("password_hash_memory_kib"), "no list of every name: {stderr}");
}

/// `authtoken --config FILE openapi` with `text` as the file: whether it succeeded, its stderr, and the file's path.
fn openapi_with_file(text: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authtoken.toml");
    std::fs::write(&file, text).unwrap();
    let path = file.display().to_string();
    let (ok, _, stderr) = openapi_with(&[], &["--config", &path]);
    (ok, stderr, path)
}

#[test]
fn an_unknown_name_in_a_file_names_the_file_and_the_closest_name() {
    let (ok, stderr, file) = openapi_with_file("registraton_enabled = true\n");

    assert!(!ok);
    let expected = format!("unknown setting `registraton_enabled` in {file}: did you mean `registration_enabled`?");
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn a_bad_value_in_a_file_names_the_file() {
    let (ok, stderr, file) = openapi_with_file("password_min_length = \"eight\"\n");

    assert!(!ok);
    assert!(stderr.contains("invalid setting `password_min_length`"), "{stderr}");
    assert!(stderr.contains(&format!("(from {file})")), "{stderr}");
}

#[test]
fn the_example_configuration_file_is_read_as_it_is() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/authtoken.toml");

    let (ok, stdout, stderr) = openapi_with(&[], &["--config", file]);

    assert!(ok, "{stderr}");
    assert!(stdout.contains("/auth/login"), "{stdout}");
}

/// `authtoken [global] config check` with `vars` set.
fn config_check(vars: &[(&str, &str)], global: &[&str]) -> (bool, String, String) {
    run_with(vars, &[global, &["config", "check"]].concat())
}

#[test]
fn config_check_prints_the_configuration_in_effect_with_passwords_masked_and_opens_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authtoken.toml");
    std::fs::write(&file, "prefix = \"/api/auth\"\nmail_url = \"smtp://mailer:mail-pw@127.0.0.1:2525\"\n").unwrap();

    let (ok, stdout, stderr) = config_check(
        &[
            ("AUTHTOKEN_DATABASE_URL", "postgres://app:db-pw@127.0.0.1:1/auth"),
            ("AUTHTOKEN_REGISTRATION_ENABLED", "yes"),
        ],
        &["--config", file.to_str().unwrap()],
    );

    assert!(ok, "{stderr}");
    assert!(stdout.contains("database_url = \"postgres://app:***@127.0.0.1:1/auth\"\n"), "{stdout}");
    assert!(stdout.contains("mail_url = \"smtp://mailer:***@127.0.0.1:2525\"\n"), "{stdout}");
    assert!(
        stdout.contains("prefix = \"/api/auth\"\n") && stdout.contains("registration_enabled = true\n"),
        "{stdout}"
    );
    assert!(stdout.contains("# auth_token_idle_timeout is unset\n"), "{stdout}");
    assert!(stdout.trim_end().ends_with("(the database was not opened)"), "{stdout}");
    assert!(!stdout.contains("db-pw") && !stdout.contains("mail-pw") && !stderr.contains("pw"), "{stdout}{stderr}");
}

#[test]
fn config_check_names_the_setting_that_serve_would_refuse() {
    for (name, value, named) in [
        ("AUTHTOKEN_BIND", "8000", "`bind`"),
        ("AUTHTOKEN_PASSWORD_HASH_MEMORY_KIB", "1", "password_hash_memory_kib"),
        ("AUTHTOKEN_REGISTRATION_EMAIL_FROM", "not an address", "registration_email_from"),
        ("AUTHTOKEN_MAIL_URL", "gopher://mail", "mail_url"),
    ] {
        let (ok, _, stderr) = config_check(&[(name, value)], &[]);

        assert!(!ok, "{name}={value} passed the check");
        assert!(stderr.contains(named), "{name}={value}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_give_each_request_an_id_and_one_access_line_without_its_token() {
    let database = authtoken_sql::testing::sqlite();
    let mut settings = crate::support::CHEAP_ARGON2.to_vec();
    settings.push(("AUTHTOKEN_LOG_FORMAT", "json"));
    settings.push(("AUTHTOKEN_LOG", "info"));
    let server = crate::support::Server::start(&database.options.url, &settings);
    let client = reqwest::Client::new();
    let register = serde_json::json!({ "username": "jane", "password": "correct horse" });
    client.post(server.url("/auth/register/")).json(&register).send().await.unwrap();
    let login: serde_json::Value =
        client.post(server.url("/auth/login/")).json(&register).send().await.unwrap().json().await.unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let me = client.get(server.url("/auth/me/")).header("Authorization", format!("Token {token}"));
    assert_eq!(me.send().await.unwrap().status(), 200);
    // A path that holds the token, which no route takes.
    assert_eq!(client.get(server.url(&format!("/auth/register/confirm/{token}/"))).send().await.unwrap().status(), 404);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let access = loop {
        let access: Vec<serde_json::Value> = server
            .log()
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .filter(|record| record["target"] == "access")
            .collect();
        if access.len() >= 4 || std::time::Instant::now() > deadline {
            break access;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };

    let lines: Vec<(String, String, u64)> = access
        .iter()
        .map(|r| {
            let fields = &r["fields"];
            (
                fields["method"].as_str().unwrap().to_owned(),
                fields["route"].as_str().unwrap().to_owned(),
                fields["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("POST".to_owned(), "/auth/register".to_owned(), 201),
            ("POST".to_owned(), "/auth/login".to_owned(), 200),
            ("GET".to_owned(), "/auth/me".to_owned(), 200),
            ("GET".to_owned(), "-".to_owned(), 404),
        ]
    );
    let ids: std::collections::BTreeSet<&str> =
        access.iter().map(|r| r["spans"][0]["id"].as_str().expect("the request's id")).collect();
    assert_eq!(ids.len(), 4, "one id a request: {access:?}");
    assert!(access.iter().all(|r| r["fields"]["duration_ms"].as_f64().is_some()), "{access:?}");
    let log = server.log();
    assert!(!log.contains(&token), "the token reached the log:\n{log}");
    assert!(!log.contains("correct horse"), "{log}");
}
