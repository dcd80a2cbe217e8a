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
    assert!(stderr.contains(&setting), "{name}={value}: the message does not name `{setting}`:\n{stderr}");
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
