//! `/metrics` of the real binary: what a scrape says after requests, logins, a throttled login and a mail that
//! cannot be delivered; and `/metrics` moved to an address of its own, or turned off.

use crate::support::{CHEAP_ARGON2, Server};

async fn scrape(url: &str) -> String {
    let answer = reqwest::get(url).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "text/plain; version=0.0.4");
    answer.text().await.unwrap()
}

/// The value of the sample `name` (with its labels, as the text format writes them).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn a_scrape_counts_requests_logins_throttled_requests_hash_waits_and_waiting_mail() {
    let database = authtoken_sql::testing::sqlite();
    let mut settings = CHEAP_ARGON2.to_vec();
    settings.extend([
        ("AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM", "true"),
        // Nothing listens there: the confirmation mail waits in the outbox.
        ("AUTHTOKEN_MAIL_URL", "smtp://127.0.0.1:1"),
        ("AUTHTOKEN_THROTTLE_LOGIN_FAILURES_IP_ACCOUNT", "2/1h"),
    ]);
    let server = Server::start(&database.options.url, &settings);
    let client = reqwest::Client::new();
    let jane = serde_json::json!({ "username": "jane", "password": "correct horse", "email": "jane@example.org" });
    let wrong = serde_json::json!({ "username": "jane", "password": "wrong horse" });

    assert_eq!(client.post(server.url("/auth/register/")).json(&jane).send().await.unwrap().status(), 201);
    assert_eq!(client.post(server.url("/auth/login/")).json(&jane).send().await.unwrap().status(), 200);
    for expected in [401, 401, 429] {
        assert_eq!(client.post(server.url("/auth/login/")).json(&wrong).send().await.unwrap().status(), expected);
    }
    assert_eq!(client.get(server.url("/auth/me/")).send().await.unwrap().status(), 401);

    let text = scrape(&server.url("/metrics")).await;

    for (name, value) in [
        (r#"authtoken_http_requests_total{method="POST",route="/auth/register",status="201"}"#, 1.0),
        (r#"authtoken_http_requests_total{method="POST",route="/auth/login",status="401"}"#, 2.0),
        (r#"authtoken_http_requests_total{method="GET",route="/auth/me",status="401"}"#, 1.0),
        (r#"authtoken_http_request_duration_seconds_count{method="POST",route="/auth/login"}"#, 4.0),
        (r#"authtoken_logins_total{outcome="success"}"#, 1.0),
        (r#"authtoken_logins_total{outcome="invalid_credentials"}"#, 2.0),
        (r#"authtoken_logins_total{outcome="throttled"}"#, 1.0),
        (r#"authtoken_throttled_requests_total{route="/auth/login"}"#, 1.0),
        // The registration's hash and three checks; the throttled login cost none.
        ("authtoken_password_hash_queue_wait_seconds_count", 4.0),
        (r#"authtoken_outbox_mail{state="pending"}"#, 1.0),
        (r#"authtoken_outbox_mail{state="failed"}"#, 0.0),
        ("authtoken_database_up", 1.0),
        ("authtoken_database_max_connections", 8.0),
    ] {
        assert_eq!(sample(&text, name), Some(value), "{name} in:\n{text}");
    }
    assert!(sample(&text, "authtoken_outbox_oldest_pending_age_seconds").is_some_and(|age| age >= 0.0), "{text}");
    assert!(!text.contains("jane"), "no label holds a name");
    let again = scrape(&server.url("/metrics")).await;
    assert_eq!(
        sample(&again, r#"authtoken_http_requests_total{method="GET",route="/metrics",status="200"}"#),
        Some(1.0)
    );
}

#[tokio::test]
async fn metrics_can_have_an_address_of_their_own_or_be_turned_off() {
    let database = authtoken_sql::testing::sqlite();
    let mut own = CHEAP_ARGON2.to_vec();
    own.push(("AUTHTOKEN_METRICS_BIND", "127.0.0.1:0"));
    let mut off = CHEAP_ARGON2.to_vec();
    off.push(("AUTHTOKEN_METRICS_ENABLED", "false"));
    let apart = Server::start(&database.options.url, &own);
    let none = Server::start(&database.options.url, &off);
    let metrics_url = apart
        .log()
        .lines()
        .find_map(|line| line.split("metrics on http://").nth(1).map(|rest| format!("http://{}", rest.trim())))
        .unwrap_or_else(|| panic!("the server names its metrics address:\n{}", apart.log()));

    assert_eq!(reqwest::get(apart.url("/healthz")).await.unwrap().status(), 200);
    let text = scrape(metrics_url.trim()).await;

    assert_eq!(
        sample(&text, r#"authtoken_http_requests_total{method="GET",route="/healthz",status="200"}"#),
        Some(1.0)
    );
    assert_eq!(reqwest::get(apart.url("/metrics")).await.unwrap().status(), 404, "not beside the API");
    assert_eq!(reqwest::get(none.url("/metrics")).await.unwrap().status(), 404, "turned off");
}
