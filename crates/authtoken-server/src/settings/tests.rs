//! Checks of the settings: defaults, values refused with the setting's name, and what they resolve to.

use super::*;

#[track_caller]
fn check_error(change: impl FnOnce(&mut Settings), expected: &str) {
    let mut settings = Settings::defaults();
    change(&mut settings);

    let error = settings.resolve().unwrap_err().to_string();

    assert!(error.contains(expected), "{error:?} does not contain {expected:?}");
}

#[test]
fn the_defaults_resolve() {
    let resolved = Settings::defaults().resolve().unwrap();

    assert_eq!(resolved.bind.to_string(), "127.0.0.1:8000");
    assert_eq!(resolved.core.auth_token_validity, Duration::from_secs(86_400));
    assert_eq!(resolved.core.password_min_length, 8);
    assert_eq!(resolved.core.auth_token_idle_timeout, None);
    assert_eq!(resolved.core.last_used_resolution, Duration::from_secs(60));
    assert_eq!(resolved.core.max_sessions_per_user, None);
    assert_eq!(resolved.http.prefix, "/auth");
    assert!(!resolved.http.registration_enabled);
    assert!(resolved.http.trusted_proxies.is_empty());
    assert_eq!(resolved.argon2, Argon2Params { memory_kib: 19_456, iterations: 2, parallelism: 1 });
    assert!(resolved.hash_concurrency >= 1);
    assert_eq!(
        resolved.connections,
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: None,
            max_header_bytes: 16_384,
        }
    );
}

#[test]
fn a_bad_value_names_its_setting() {
    check_error(|s| s.bind = "localhost".into(), "`bind`");
    check_error(|s| s.prefix = "auth/".into(), "`prefix`");
    check_error(|s| s.auth_token_validity = "soon".into(), "`auth_token_validity`");
    check_error(|s| s.auth_token_validity = "0s".into(), "`auth_token_validity`");
    check_error(|s| s.user_fields = Some("id,password".into()), "`user_fields`");
    check_error(|s| s.auth_token_idle_timeout = Some("0s".into()), "`auth_token_idle_timeout`");
    check_error(|s| s.last_used_resolution = "often".into(), "`last_used_resolution`");
    check_error(|s| s.max_sessions_per_user = Some(0), "`max_sessions_per_user`");
    check_error(|s| s.password_min_length = 0, "`password_min_length`");
    check_error(|s| s.password_min_length = 129, "`password_min_length`");
    check_error(|s| s.database_url = "mysql://x".into(), "`database_url`");
    check_error(|s| s.database_max_connections = 0, "`database_max_connections`");
    check_error(|s| s.database_statement_timeout = "never".into(), "`database_statement_timeout`");
    check_error(|s| s.database_connect_timeout = "0s".into(), "`database_connect_timeout`");
    check_error(|s| s.http_header_timeout = "0s".into(), "`http_header_timeout`");
    check_error(|s| s.http_header_timeout = "slow".into(), "`http_header_timeout`");
    check_error(|s| s.http_body_timeout = "0s".into(), "`http_body_timeout`");
    check_error(|s| s.http_body_timeout = "-1s".into(), "`http_body_timeout`");
    check_error(|s| s.http_header_timeout = "10000000000000000000s".into(), "`http_header_timeout`");
    check_error(|s| s.expired_token_purge_interval = "101y".into(), "`expired_token_purge_interval`");
    check_error(|s| s.http_idle_timeout = "0s".into(), "`http_idle_timeout`");
    check_error(|s| s.http_idle_timeout = "10".into(), "`http_idle_timeout`");
    check_error(|s| s.mail_url = "http://mail".into(), "`mail_url`");
    check_error(|s| s.trusted_proxies = "10.0.0.0/8, 10.0.0.0/33".into(), "`trusted_proxies`: `10.0.0.0/33`");
    check_error(|s| s.trusted_proxies = "127.0.0.1, proxy.example.org".into(), "`proxy.example.org`");
    check_error(|s| s.registration_email_message = "{name}".into(), "`registration_email_message`");
    check_error(|s| s.registration_email_subject = "oops }".into(), "`registration_email_subject`");
    check_error(|s| s.registration_email_base_url = "example.org".into(), "`registration_email_base_url`");
    check_error(
        |s| s.registration_confirm_redirect_path = Some("https://evil.example/".into()),
        "`registration_confirm_redirect_path`",
    );
    check_error(
        |s| s.registration_confirm_invalid_redirect_path = Some("//evil.example".into()),
        "`registration_confirm_invalid_redirect_path`",
    );
    check_error(|s| s.registration_email_confirm = true, "`registration_email_confirm`");
    check_error(
        |s| {
            s.registration_email_languages
                .insert("de".into(), MailVariant { subject: "Hallo".into(), message: "{nutzer}".into() });
        },
        "`registration_email_languages.de_message`",
    );
}

#[test]
fn connection_settings_resolve_and_zero_connections_means_derived() {
    let mut settings = Settings::defaults();
    settings.http_header_timeout = "2s".into();
    settings.http_body_timeout = "5m".into();
    settings.http_idle_timeout = "90s".into();
    settings.http_max_connections = 500;

    let resolved = settings.resolve().unwrap().connections;

    assert_eq!(resolved.header_timeout, Duration::from_secs(2));
    assert_eq!(resolved.body_timeout, Duration::from_secs(300));
    assert_eq!(resolved.idle_timeout, Duration::from_secs(90));
    assert_eq!(resolved.max_connections, Some(500));
}

#[test]
fn confirmation_links_use_the_base_url_and_prefix_and_redirects_may_name_allowed_hosts() {
    let mut settings = Settings::defaults();
    settings.registration_enabled = true;
    settings.registration_email_confirm = true;
    settings.registration_email_base_url = "https://example.org/".into();
    settings.allowed_redirect_hosts = "example.org, app.example.org".into();
    settings.registration_confirm_redirect_path = Some("https://app.example.org/welcome".into());

    let resolved = settings.resolve().unwrap();

    let confirmation = resolved.confirmation.unwrap();
    assert_eq!(confirmation.link_prefix, "https://example.org/auth/register/confirm/");
    assert_eq!(confirmation.token_validity, Duration::from_secs(86_400));
    assert_eq!(resolved.http.confirm_redirect.as_deref(), Some("https://app.example.org/welcome"));
}

#[test]
fn trusted_proxies_are_addresses_and_networks() {
    let mut settings = Settings::defaults();
    settings.trusted_proxies = "10.0.0.0/8, 127.0.0.1, ::1/128".into();

    let trusted = settings.resolve().unwrap().http.trusted_proxies;

    assert!(trusted.contains("10.1.2.3".parse().unwrap()));
    assert!(trusted.contains("::ffff:10.1.2.3".parse().unwrap()));
    assert!(trusted.contains("127.0.0.1".parse().unwrap()));
    assert!(trusted.contains("::1".parse().unwrap()));
    assert!(!trusted.contains("127.0.0.2".parse().unwrap()));
    assert!(!trusted.contains("203.0.113.1".parse().unwrap()));
}

#[test]
fn events_are_kept_90_days_unless_the_setting_says_otherwise() {
    assert_eq!(Settings::defaults().resolve().unwrap().core.auth_event_retention, Duration::from_secs(90 * 86_400));
    let mut settings = Settings::defaults();
    settings.auth_event_retention = "1y".into();

    assert_eq!(settings.resolve().unwrap().core.auth_event_retention, Duration::from_secs(31_557_600));
    check_error(|s| s.auth_event_retention = "0s".into(), "`auth_event_retention`");
    check_error(|s| s.auth_event_retention = "forever".into(), "`auth_event_retention`");
}

/// `examples/authtoken.toml` shows every setting once, commented out: with its default, or with an example value
/// when it is unset by default. Uncommented, it is a complete configuration.
#[test]
fn the_example_file_shows_every_setting_with_its_default() {
    let text = include_str!("../../../../examples/authtoken.toml");
    let uncommented: String = text
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| line.starts_with('[') || line.split_once(" = ").is_some_and(|(key, _)| !key.contains(' ')))
        .map(|line| format!("{line}\n"))
        .collect();

    let example: Settings = Figment::from(Toml::string(&uncommented)).extract().unwrap_or_else(|e| panic!("{e}"));

    let example = serde_json::to_value(example).unwrap();
    let defaults = serde_json::to_value(Settings::defaults()).unwrap();
    for (name, default) in defaults.as_object().unwrap() {
        let shown = &example[name];
        match default {
            serde_json::Value::Null => assert!(!shown.is_null(), "{name}: no example value"),
            serde_json::Value::Object(map) if map.is_empty() => {
                assert!(shown.as_object().is_some_and(|map| !map.is_empty()), "{name}: no example table");
            }
            _ => assert_eq!(shown, default, "{name}: the file does not show the default"),
        }
    }
}

/// The README's settings table names every setting once, and no other; where its default column starts with a value
/// in backticks, that is the default the code has.
#[test]
fn the_readme_settings_table_matches_the_code() {
    let readme = include_str!("../../../../README.md");
    let table = readme.split("| name | default | meaning |").nth(1).expect("the README has the settings table");
    let defaults = serde_json::to_value(Settings::defaults()).unwrap();
    let defaults = defaults.as_object().unwrap();
    let mut named = Vec::new();
    for row in table.lines().skip(2).take_while(|line| line.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (names, default) = (backticked(cells[1]), cells[2]);
        let values = if default.starts_with('`') { backticked(default) } else { Vec::new() };
        for (at, name) in names.iter().enumerate() {
            let code = defaults.get(*name).unwrap_or_else(|| panic!("the README names `{name}`, which is no setting"));
            let shown = match (names.len(), values.len()) {
                (1, 1..) => values.first(),
                (n, m) if n == m => values.get(at),
                _ => None,
            };
            match code {
                serde_json::Value::String(text) if text.is_empty() => {
                    assert!(default.starts_with("empty"), "`{name}` is empty by default; the README says {default:?}");
                }
                serde_json::Value::String(text) => {
                    if let Some(shown) = shown {
                        assert_eq!(shown, text, "the default of `{name}`");
                    }
                }
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
                    if let Some(shown) = shown {
                        assert_eq!(*shown, code.to_string(), "the default of `{name}`");
                    }
                }
                _ => {}
            }
            named.push(*name);
        }
    }
    named.sort_unstable();
    let mut settings: Vec<&str> = defaults.keys().map(String::as_str).collect();
    settings.sort_unstable();
    assert_eq!(named, settings, "the README's settings table and the settings of the code");
}

/// The texts between backticks in a table cell, in order.
fn backticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

#[test]
fn metrics_answer_beside_the_api_on_an_address_of_their_own_or_nowhere() {
    let resolve = |change: fn(&mut Settings)| {
        let mut settings = Settings::defaults();
        change(&mut settings);
        settings.resolve().map(|resolved| resolved.metrics)
    };

    assert_eq!(resolve(|_| {}).unwrap(), MetricsAt::Api);
    assert_eq!(resolve(|s| s.metrics_enabled = false).unwrap(), MetricsAt::Off);
    assert_eq!(
        resolve(|s| s.metrics_bind = Some("10.0.0.5:9100".into())).unwrap(),
        MetricsAt::Own("10.0.0.5:9100".parse().unwrap())
    );
    let port_alone = resolve(|s| s.metrics_bind = Some("9100".into())).unwrap_err().to_string();
    let same = resolve(|s| s.metrics_bind = Some("127.0.0.1:8000".into())).unwrap_err().to_string();
    assert!(port_alone.contains("`metrics_bind`") && port_alone.contains("a port alone"), "{port_alone}");
    assert!(same.contains("`metrics_bind`") && same.contains("is `bind` too"), "{same}");
}
