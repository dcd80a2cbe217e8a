//! Email confirmation end to end: the real binary, a real SMTP server on loopback, a throwaway database.

use std::time::Duration;

use authtoken_sql::Backend;
use authtoken_testkit::{Received, SmtpSink};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::json;

use crate::support::{CHEAP_ARGON2, Server, binary, database};

pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The settings of a server that confirms email through `sink`.
pub(crate) fn confirming(sink: &SmtpSink, extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    let mut settings: Vec<(&str, String)> = CHEAP_ARGON2.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    settings.extend([
        ("AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM", "true".to_owned()),
        ("AUTHTOKEN_REQUIRE_CONFIRMED_EMAIL_FOR_LOGIN", "true".to_owned()),
        ("AUTHTOKEN_REGISTRATION_EMAIL_BASE_URL", "http://app.example.org".to_owned()),
        ("AUTHTOKEN_REGISTRATION_EMAIL_FROM", "authtoken <noreply@example.org>".to_owned()),
        ("AUTHTOKEN_MAIL_URL", sink.url()),
        ("AUTHTOKEN_OUTBOX_POLL_INTERVAL", "100ms".to_owned()),
        ("AUTHTOKEN_OUTBOX_RETRY_DELAY", "200ms".to_owned()),
    ]);
    settings.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    settings
}

pub(crate) fn start(url: &str, settings: &[(&'static str, String)]) -> Server {
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start(url, &settings)
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

pub(crate) async fn register(server: &Server, username: &str, email: &str) -> StatusCode {
    let body = json!({ "username": username, "password": "correct horse", "email": email });
    client().post(server.url("/auth/register/")).json(&body).send().await.unwrap().status()
}

async fn login(server: &Server, username: &str) -> StatusCode {
    let body = json!({ "username": username, "password": "correct horse" });
    client().post(server.url("/auth/login/")).json(&body).send().await.unwrap().status()
}

/// The path of the confirmation link in a mail (its host is the configured base URL's).
pub(crate) fn link_path(mail: &Received) -> String {
    let body = mail.body().replace("=\r\n", "");
    let start = body.find("http://app.example.org/").expect("the mail holds the link");
    let link: String = body[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    link.trim_start_matches("http://app.example.org").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailed_link_confirms_the_address_and_unlocks_login_on_sqlite() {
    a_mailed_link_confirms_the_address_and_unlocks_login(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn a_mailed_link_confirms_the_address_and_unlocks_login_on_postgres() {
    a_mailed_link_confirms_the_address_and_unlocks_login(Backend::Postgres).await;
}

async fn a_mailed_link_confirms_the_address_and_unlocks_login(backend: Backend) {
    let Some(database) = database(backend).await else {
        return;
    };
    let sink = SmtpSink::start().await;
    let server = start(&database.options.url, &confirming(&sink, &[]));

    assert_eq!(register(&server, "john", "john@example.org").await, StatusCode::CREATED);
    assert_eq!(login(&server, "john").await, StatusCode::UNAUTHORIZED, "unconfirmed users cannot log in");
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, vec!["john@example.org".to_owned()]);
    assert_eq!(mails[0].header("Subject").as_deref(), Some("Confirm your email address"));
    let link = link_path(&mails[0]);
    assert!(link.starts_with("/auth/register/confirm/") && link.ends_with('/'), "{link}");

    let head = client().head(server.url(&link)).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::FOUND, "HEAD answers like GET");
    assert_eq!(login(&server, "john").await, StatusCode::UNAUTHORIZED, "HEAD did not confirm");
    let confirmed = client().get(server.url(&link)).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    assert_eq!(confirmed.headers()["location"], "/auth/register/confirmed/");
    let page = client().get(server.url("/auth/register/confirmed/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Your email address is confirmed."));
    assert_eq!(login(&server, "john").await, StatusCode::OK);

    let reused = client().get(server.url(&link)).send().await.unwrap();
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(reused.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(reused.text().await.unwrap(), "invalid token!");
    let log = server.log();
    assert!(!log.contains(link.trim_end_matches('/').rsplit('/').next().unwrap()), "the log holds the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_safe_mode_confirms_only_by_the_pages_button() {
    let database = database(Backend::Sqlite).await.unwrap();
    let sink = SmtpSink::start().await;
    let settings = confirming(&sink, &[("AUTHTOKEN_CONFIRM_VIA_POST", "true")]);
    let server = start(&database.options.url, &settings);
    assert_eq!(register(&server, "mia", "mia@example.org").await, StatusCode::CREATED);
    let link = link_path(&sink.wait_for(1, WAIT).await[0]);

    let page = client().get(server.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(r#"<form method="post">"#));
    assert_eq!(login(&server, "mia").await, StatusCode::UNAUTHORIZED, "loading the page confirms nothing");
    let posted = client().post(server.url(&link)).send().await.unwrap();

    assert_eq!(posted.status(), StatusCode::FOUND);
    assert_eq!(login(&server, "mia").await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_follow_the_configured_paths() {
    let database = database(Backend::Sqlite).await.unwrap();
    let sink = SmtpSink::start().await;
    let settings = confirming(
        &sink,
        &[
            ("AUTHTOKEN_REGISTRATION_CONFIRM_REDIRECT_PATH", "https://app.example.org/welcome"),
            ("AUTHTOKEN_REGISTRATION_CONFIRM_INVALID_REDIRECT_PATH", "/confirm-failed"),
            ("AUTHTOKEN_ALLOWED_REDIRECT_HOSTS", "app.example.org"),
        ],
    );
    let server = start(&database.options.url, &settings);
    assert_eq!(register(&server, "ida", "ida@example.org").await, StatusCode::CREATED);
    let link = link_path(&sink.wait_for(1, WAIT).await[0]);

    let confirmed = client().get(server.url(&link)).send().await.unwrap();
    let invalid = client().get(server.url(&link)).send().await.unwrap();

    assert_eq!(confirmed.headers()["location"], "https://app.example.org/welcome");
    assert_eq!(
        (invalid.status(), invalid.headers()["location"].to_str().unwrap()),
        (StatusCode::FOUND, "/confirm-failed")
    );
}

#[test]
fn a_redirect_to_a_foreign_host_refuses_to_start() {
    let output = binary()
        .arg("openapi")
        .env("AUTHTOKEN_DATABASE_URL", "sqlite::memory:")
        .env("AUTHTOKEN_REGISTRATION_CONFIRM_REDIRECT_PATH", "https://evil.example/")
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("registration_confirm_redirect_path"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_comes_in_the_language_the_client_prefers() {
    let database = database(Backend::Sqlite).await.unwrap();
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("authtoken.toml");
    let toml = "[registration_email_languages.de]\nsubject = \"Bitte bestätigen Sie Ihre Adresse\"\nmessage = \"Hallo {username}, bitte öffnen Sie {url}\"\n";
    std::fs::write(&config, toml).unwrap();
    let mut settings = confirming(&sink, &[]);
    settings.push(("AUTHTOKEN_CONFIG", config.display().to_string()));
    let server = start(&database.options.url, &settings);
    let body = json!({ "username": "jonas", "password": "correct horse", "email": "jonas@example.org" });

    let registered = client()
        .post(server.url("/auth/register/"))
        .header("Accept-Language", "fr;q=0.9, de-AT, en;q=0.5")
        .json(&body)
        .send()
        .await
        .unwrap();

    assert_eq!(registered.status(), StatusCode::CREATED);
    let mail = &sink.wait_for(1, WAIT).await[0];
    let subject = mail.header("Subject").unwrap();
    assert!(subject.starts_with("Bitte ") && subject.contains("=?utf-8?b?"), "the German subject: {subject}");
    assert_eq!(register(&server, "emma", "emma@example.org").await, StatusCode::CREATED);
    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(mails[1].header("Subject").as_deref(), Some("Confirm your email address"), "no preference: the default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_while_smtp_is_down_arrives_when_it_is_back_even_after_a_restart() {
    let database = database(Backend::Sqlite).await.unwrap();
    let sink = SmtpSink::start().await;
    sink.down();
    let settings = confirming(&sink, &[]);
    let first = start(&database.options.url, &settings);

    assert_eq!(register(&first, "olga", "olga@example.org").await, StatusCode::CREATED);
    assert_eq!(register(&first, "paul", "paul@example.org").await, StatusCode::CREATED);
    let listing =
        outbox_until(&database.options.url, |listing| listing.matches("pending         1").count() == 2).await;
    drop(first);
    assert!(sink.received().is_empty());
    assert!(listing.contains("olga@example.org") && listing.contains("SMTP"), "{listing}");
    sink.up();
    let second = start(&database.options.url, &settings);

    let mails = sink.wait_for(2, WAIT).await;

    let mut recipients: Vec<&str> = mails.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, ["olga@example.org", "paul@example.org"]);
    outbox_until(&database.options.url, |listing| listing.contains("the outbox is empty")).await;
    assert_eq!(sink.received().len(), 2, "each mail is delivered once, and then never claimed again");
    let link = link_path(&mails[0]);
    let confirmed = client().get(second.url(&link)).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_to_every_unconfirmed_user_replaces_their_links_and_reports_each_result() {
    let database = database(Backend::Sqlite).await.unwrap();
    let sink = SmtpSink::start().await;
    let settings = confirming(&sink, &[]);
    let server = start(&database.options.url, &settings);
    for name in ["ann", "ben", "cem"] {
        assert_eq!(register(&server, name, &format!("{name}@example.org")).await, StatusCode::CREATED);
    }
    let first_links: Vec<String> = sink.wait_for(3, WAIT).await.iter().map(link_path).collect();
    assert_eq!(client().get(server.url(&first_links[0])).send().await.unwrap().status(), StatusCode::FOUND);

    let mut command = binary();
    command.args(["confirm", "resend", "--all-unconfirmed"]);
    for (name, value) in &settings {
        command.env(name, value);
    }
    command.env("AUTHTOKEN_REGISTRATION_ENABLED", "true").env("AUTHTOKEN_DATABASE_URL", &database.options.url);
    let output = command.output().unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("queued 2 of 2 confirmation links; 0 failed"), "{stdout}");
    let mails = sink.wait_for(5, WAIT).await;
    assert_eq!(mails.len(), 5);
    for old in &first_links[1..] {
        let status = client().get(server.url(old)).send().await.unwrap().status();
        assert_eq!(status, StatusCode::BAD_REQUEST, "an older link stops working");
    }
    let new = link_path(&mails[4]);
    assert_eq!(client().get(server.url(&new)).send().await.unwrap().status(), StatusCode::FOUND);
}

/// Runs `authtoken outbox` until its listing satisfies `done` (the worker records attempts as it makes them).
pub(crate) async fn outbox_until(database_url: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let output = binary().arg("outbox").env("AUTHTOKEN_DATABASE_URL", database_url).output().unwrap();
        let listing = String::from_utf8_lossy(&output.stdout).into_owned();
        if done(&listing) || tokio::time::Instant::now() > deadline {
            return listing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_confirms_nothing() {
    let database = database(Backend::Sqlite).await.unwrap();
    let sink = SmtpSink::start().await;
    let settings = confirming(&sink, &[("AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM_TOKEN_VALIDITY", "1s")]);
    let server = start(&database.options.url, &settings);
    assert_eq!(register(&server, "vera", "vera@example.org").await, StatusCode::CREATED);
    let link = link_path(&sink.wait_for(1, WAIT).await[0]);

    // The binary runs on the real clock: wait, without consuming the link (HEAD), until it has expired.
    let deadline = tokio::time::Instant::now() + WAIT;
    while client().head(server.url(&link)).send().await.unwrap().status() == StatusCode::FOUND {
        assert!(tokio::time::Instant::now() < deadline, "the link never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expired = client().get(server.url(&link)).send().await.unwrap();

    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert_eq!(expired.text().await.unwrap(), "invalid token!");
    assert_eq!(login(&server, "vera").await, StatusCode::UNAUTHORIZED);
}
