//! The mailers against a real SMTP server on loopback and a real directory.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

use std::time::Duration;

use authtoken_core::outbox::Mail;
use authtoken_mail::{MailSettings, MailUrl, mailer};
use authtoken_testkit::{SinkTls, SmtpSink};

fn settings() -> MailSettings {
    MailSettings {
        from: "authtoken <noreply@example.org>".to_owned(),
        timeout: Duration::from_secs(5),
        extra_root_certificates: None,
    }
}

fn mail(to: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Confirm your email".to_owned(),
        body: "Hello john,\r\nopen http://localhost/auth/register/confirm/abc/ to confirm.\r\n".to_owned(),
    }
}

#[tokio::test]
async fn smtp_delivers_a_plain_text_utf8_message_with_the_standard_headers() {
    let sink = SmtpSink::start().await;
    let mailer = mailer(&MailUrl::parse(&sink.url()).unwrap(), &settings()).unwrap();

    mailer.send(&mail("john@example.org")).await.unwrap();

    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.mail_from, "noreply@example.org");
    assert_eq!(message.rcpt_to, vec!["john@example.org".to_owned()]);
    assert_eq!(message.header("From").as_deref(), Some("authtoken <noreply@example.org>"));
    assert_eq!(message.header("To").as_deref(), Some("john@example.org"));
    assert_eq!(message.header("Subject").as_deref(), Some("Confirm your email"));
    assert_eq!(message.header("Content-Type").as_deref(), Some("text/plain; charset=utf-8"));
    assert!(message.header("Date").is_some());
    assert!(message.header("Message-ID").is_some_and(|id| id.starts_with('<') && id.ends_with('>')));
    assert_eq!(
        message.body().trim_end(),
        "Hello john,\r\nopen http://localhost/auth/register/confirm/abc/ to confirm."
    );
}

#[tokio::test]
async fn non_ascii_text_is_sent_encoded_and_decodes_back() {
    let sink = SmtpSink::start().await;
    let mailer = mailer(&MailUrl::parse(&sink.url()).unwrap(), &settings()).unwrap();
    let mut message = mail("jürgen@example.org");
    message.subject = "Bestätigen Sie Ihre E-Mail".to_owned();

    let sent = mailer.send(&message).await;

    assert!(sent.is_ok(), "{sent:?}");
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    let subject = received[0].header("Subject").unwrap();
    assert!(subject.starts_with("=?utf-8?"), "an encoded word: {subject}");
    assert_eq!(received[0].rcpt_to, vec!["jürgen@example.org".to_owned()]);
}

#[tokio::test]
async fn smtp_authenticates_and_sends_several_messages() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://user:secret@{}?tls=none", sink.addr());
    let mailer = mailer(&MailUrl::parse(&url).unwrap(), &settings()).unwrap();

    for to in ["a@example.org", "b@example.org", "c@example.org"] {
        mailer.send(&mail(to)).await.unwrap();
    }

    let received = sink.wait_for(3, Duration::from_secs(10)).await;
    let recipients: Vec<_> = received.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    assert_eq!(recipients, ["a@example.org", "b@example.org", "c@example.org"]);
}

#[tokio::test]
async fn a_server_that_is_down_is_an_error_not_a_silent_loss() {
    let sink = SmtpSink::start().await;
    sink.down();
    let mailer = mailer(&MailUrl::parse(&sink.url()).unwrap(), &settings()).unwrap();

    let sent = mailer.send(&mail("john@example.org")).await;

    assert!(sent.is_err_and(|e| !e.is_permanent()), "a server that is down may come back");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_recipient_the_server_refuses_for_good_is_a_permanent_error() {
    let sink = SmtpSink::start().await;
    sink.refuse("nobody@example.org");
    let mailer = mailer(&MailUrl::parse(&sink.url()).unwrap(), &settings()).unwrap();

    let refused = mailer.send(&mail("nobody@example.org")).await;
    let accepted = mailer.send(&mail("john@example.org")).await;

    let refused = refused.expect_err("the server refused the recipient");
    assert!(refused.is_permanent());
    assert!(authtoken_core::error::chain(&refused).contains("550"), "{}", authtoken_core::error::chain(&refused));
    assert!(accepted.is_ok());
}

#[tokio::test]
async fn a_server_that_is_not_there_is_an_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("smtp://127.0.0.1:{port}?tls=none");
    let mailer = mailer(&MailUrl::parse(&url).unwrap(), &settings()).unwrap();

    let sent = mailer.send(&mail("john@example.org")).await;

    assert!(sent.is_err_and(|e| !e.is_permanent()), "a server that is not there yet may come");
}

#[tokio::test]
async fn an_invalid_recipient_is_a_permanent_error() {
    let sink = SmtpSink::start().await;
    let mailer = mailer(&MailUrl::parse(&sink.url()).unwrap(), &settings()).unwrap();

    let sent = [
        mailer.send(&mail("not an address")).await,
        mailer.send(&mail("\"a b\"@example.org")).await,
        mailer.send(&mail("user@[127.0.0.1]")).await,
    ];

    for sent in sent {
        assert!(sent.is_err_and(|e| e.is_permanent()));
    }
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn the_file_drop_writes_one_complete_eml_file_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("mail");
    let mailer = mailer(&MailUrl::parse(&format!("file://{}", drop.display())).unwrap(), &settings()).unwrap();

    mailer.send(&mail("a@example.org")).await.unwrap();
    mailer.send(&mail("b@example.org")).await.unwrap();

    let files: Vec<_> = std::fs::read_dir(&drop).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 2, "{files:?}");
    // Names start with the millisecond, so two mails of the same millisecond come in any order.
    let mut recipients = Vec::new();
    for file in &files {
        assert_eq!(file.extension().and_then(|e| e.to_str()), Some("eml"));
        let text = std::fs::read_to_string(file).unwrap();
        recipients.extend(
            ["a@example.org", "b@example.org"].into_iter().filter(|to| text.contains(&format!("To: {to}\r\n"))),
        );
        assert!(text.contains("From: authtoken <noreply@example.org>\r\n"), "{text}");
        assert!(text.contains("Subject: Confirm your email\r\n"), "{text}");
        assert!(text.contains("Message-ID: <"), "{text}");
        assert!(text.contains("Date: "), "{text}");
        assert!(
            text.trim_end()
                .ends_with("\r\n\r\nHello john,\r\nopen http://localhost/auth/register/confirm/abc/ to confirm."),
            "{text}"
        );
    }
    recipients.sort_unstable();
    assert_eq!(recipients, ["a@example.org", "b@example.org"], "each file holds one of the two mails");
}

#[tokio::test]
async fn the_log_transport_accepts_mail() {
    let mailer = mailer(&MailUrl::Log, &settings()).unwrap();

    let sent = mailer.send(&mail("john@example.org")).await;

    assert!(sent.is_ok());
}

#[test]
fn an_invalid_sender_is_refused_when_the_mailer_is_built() {
    let settings = MailSettings { from: "no sender".to_owned(), ..settings() };

    let built = mailer(&MailUrl::Log, &settings);

    assert!(built.is_err());
}

/// Settings that trust the sink's self-signed certificate.
fn trusting(sink: &SmtpSink) -> MailSettings {
    MailSettings { extra_root_certificates: sink.certificate_pem().map(|pem| pem.as_bytes().to_vec()), ..settings() }
}

#[tokio::test]
async fn required_starttls_delivers_over_tls() {
    let sink = SmtpSink::start_tls(SinkTls::Starttls).await;
    let mailer = mailer(&MailUrl::parse(&sink.url()).unwrap(), &trusting(&sink)).unwrap();

    mailer.send(&mail("john@example.org")).await.unwrap();

    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].tls, "the message came after STARTTLS");
    assert_eq!(received[0].header("Subject").as_deref(), Some("Confirm your email"));
}

#[tokio::test]
async fn opportunistic_starttls_upgrades_when_the_server_offers_it() {
    let sink = SmtpSink::start_tls(SinkTls::Starttls).await;
    let url = format!("smtp://localhost:{}?tls=starttls", sink.addr().port());
    let mailer = mailer(&MailUrl::parse(&url).unwrap(), &trusting(&sink)).unwrap();

    mailer.send(&mail("john@example.org")).await.unwrap();

    assert!(sink.wait_for(1, Duration::from_secs(10)).await[0].tls);
}

#[tokio::test]
async fn smtps_delivers_over_implicit_tls() {
    let sink = SmtpSink::start_tls(SinkTls::Implicit).await;
    let mailer = mailer(&MailUrl::parse(&sink.url()).unwrap(), &trusting(&sink)).unwrap();

    mailer.send(&mail("john@example.org")).await.unwrap();

    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert!(received[0].tls);
    assert_eq!(received[0].rcpt_to, vec!["john@example.org".to_owned()]);
}

#[tokio::test]
async fn required_tls_fails_against_a_server_without_starttls() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://localhost:{}?tls=required", sink.addr().port());
    let mailer = mailer(&MailUrl::parse(&url).unwrap(), &settings()).unwrap();

    let sent = mailer.send(&mail("john@example.org")).await;

    assert!(sent.is_err());
    assert!(sink.received().is_empty(), "nothing went over plain text");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let sink = SmtpSink::start_tls(SinkTls::Implicit).await;
    let mailer = mailer(&MailUrl::parse(&sink.url()).unwrap(), &settings()).unwrap();

    let sent = mailer.send(&mail("john@example.org")).await;

    assert!(sent.is_err());
    assert!(sink.received().is_empty());
}

#[test]
fn extra_root_certificates_that_are_not_pem_are_refused_when_the_mailer_is_built() {
    let settings = MailSettings { extra_root_certificates: Some(b"not a certificate".to_vec()), ..settings() };

    let built = mailer(&MailUrl::parse("smtps://localhost").unwrap(), &settings);

    assert!(built.is_err());
}

/// A mail whose link is longer than the 76 characters quoted-printable allows on a line.
fn mail_with_long_link(greeting: &str) -> (Mail, String) {
    let link = format!("http://127.0.0.1:8000/auth/register/confirm/{}/", "bVawWWAxM36xOKIPpZ56tFof1YtDUihh".repeat(3));
    let body = format!("{greeting},\n\nplease confirm your email address by opening this link:\n\n{link}\n");
    (Mail { to: "jane@example.org".to_owned(), subject: "Confirm".to_owned(), body }, link)
}

/// The one `.eml` file the file drop wrote into `drop`.
fn only_file(drop: &std::path::Path) -> String {
    let files: Vec<_> = std::fs::read_dir(drop).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::read_to_string(&files[0]).unwrap()
}

#[tokio::test]
async fn a_long_link_travels_whole_on_one_line_over_smtp_and_in_the_file_drop() {
    let (mail, link) = mail_with_long_link("Hello jane");
    let sink = SmtpSink::start().await;
    let smtp = mailer(&MailUrl::parse(&sink.url()).unwrap(), &settings()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = mailer(&MailUrl::File(dir.path().to_owned()), &settings()).unwrap();

    smtp.send(&mail).await.unwrap();
    file.send(&mail).await.unwrap();

    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].header("Content-Transfer-Encoding").as_deref(), Some("7bit"));
    assert!(received[0].body().contains(&format!("\r\n{link}\r\n")), "{}", received[0].body());
    let text = only_file(dir.path());
    assert!(text.contains("Content-Transfer-Encoding: 7bit\r\n"), "{text}");
    assert!(text.contains(&format!("\r\n{link}\r\n")), "`cat` shows the link whole:\n{text}");
}

#[tokio::test]
async fn the_file_drop_keeps_non_ascii_text_and_its_long_link_readable_as_8bit() {
    let (mail, link) = mail_with_long_link("Hallo Jürgen");
    let dir = tempfile::tempdir().unwrap();
    let file = mailer(&MailUrl::File(dir.path().to_owned()), &settings()).unwrap();

    file.send(&mail).await.unwrap();

    let text = only_file(dir.path());
    assert!(text.contains("Content-Transfer-Encoding: 8bit\r\n"), "{text}");
    assert!(text.contains("Hallo Jürgen,\r\n") && text.contains(&format!("\r\n{link}\r\n")), "{text}");
}

#[tokio::test]
async fn a_body_no_line_based_encoding_can_carry_is_encoded_by_lettre() {
    let dir = tempfile::tempdir().unwrap();
    let file = mailer(&MailUrl::File(dir.path().to_owned()), &settings()).unwrap();
    let mail = Mail { to: "jane@example.org".to_owned(), subject: "Long".to_owned(), body: "x".repeat(999) };

    file.send(&mail).await.unwrap();

    let text = only_file(dir.path());
    assert!(!text.contains(&"x".repeat(999)), "no line over 998 bytes: {text}");
    assert!(!text.contains("Content-Transfer-Encoding: 7bit"), "{text}");
}
