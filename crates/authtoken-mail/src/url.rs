//! Parsing of `mail_url`.

use std::path::PathBuf;

/// A transport named by `mail_url`.
#[derive(Clone, PartialEq, Eq)]
pub enum MailUrl {
    Smtp(SmtpUrl),
    File(PathBuf),
    Log,
}

/// An SMTP server and how to talk to it.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, String)>,
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text only (a trusted relay on the same host).
    None,
    /// STARTTLS when the server offers it.
    Starttls,
    /// STARTTLS or fail.
    Required,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// `mail_url` is not one of the supported forms.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidMailUrl(pub String);

impl std::fmt::Debug for MailUrl {
    /// Never shows the SMTP password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(smtp) => write!(
                f,
                "Smtp({}:{} {:?}{})",
                smtp.host,
                smtp.port,
                smtp.security,
                if smtp.credentials.is_some() { " with credentials" } else { "" }
            ),
            Self::File(dir) => write!(f, "File({})", dir.display()),
            Self::Log => f.write_str("Log"),
        }
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&MailUrl::Smtp(self.clone()), f)
    }
}

impl MailUrl {
    pub fn parse(text: &str) -> Result<Self, InvalidMailUrl> {
        if text == "log:" {
            return Ok(Self::Log);
        }
        if let Some(dir) = text.strip_prefix("file://") {
            if dir.is_empty() {
                return Err(InvalidMailUrl("`file://` needs a directory, such as `file://./mail`".to_owned()));
            }
            return Ok(Self::File(PathBuf::from(dir)));
        }
        let url =
            ::url::Url::parse(text).map_err(|e| InvalidMailUrl(format!("`{}` is not a URL: {e}", redact(text))))?;
        let implicit = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => {
                return Err(InvalidMailUrl(format!(
                    "the scheme `{other}` is not supported; use smtp://, smtps://, file://DIR or log:"
                )));
            }
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| InvalidMailUrl("no SMTP host".to_owned()))?;
        let mut security = if implicit { SmtpSecurity::Implicit } else { SmtpSecurity::Starttls };
        for (name, value) in url.query_pairs() {
            security = match (name.as_ref(), value.as_ref(), implicit) {
                ("tls", _, true) => return Err(InvalidMailUrl("`smtps://` is always TLS: drop `?tls=`".to_owned())),
                ("tls", "starttls", false) => SmtpSecurity::Starttls,
                ("tls", "required", false) => SmtpSecurity::Required,
                ("tls", "none", false) => SmtpSecurity::None,
                ("tls", other, false) => {
                    return Err(InvalidMailUrl(format!("`tls={other}`: use starttls, required or none")));
                }
                (other, _, _) => return Err(InvalidMailUrl(format!("unknown parameter `{other}`"))),
            };
        }
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) => Some((decode(user)?, decode(password)?)),
            (_, None) => {
                return Err(InvalidMailUrl("an SMTP user needs a password: `smtp://user:password@host`".into()));
            }
        };
        let port = url.port().unwrap_or(if implicit { 465 } else { 25 });
        Ok(Self::Smtp(SmtpUrl { host: host.to_owned(), port, security, credentials }))
    }
}

fn decode(part: &str) -> Result<String, InvalidMailUrl> {
    ::url::form_urlencoded::parse(format!("x={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| InvalidMailUrl("invalid percent-encoding in the SMTP credentials".to_owned()))
}

/// The URL without its password, for messages.
fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://***@{}", &text[..scheme], &text[at + 1..]),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: &str) {
        let got = match MailUrl::parse(text) {
            Ok(url) => format!("{url:?}"),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expected, "{text}");
    }

    #[test]
    fn mail_urls_are_parsed() {
        check("log:", "Log");
        check("file://./mail", "File(./mail)");
        check("file:///var/mail/authtoken", "File(/var/mail/authtoken)");
        check("smtp://localhost", "Smtp(localhost:25 Starttls)");
        check("smtp://localhost:2525?tls=none", "Smtp(localhost:2525 None)");
        check("smtp://mail.example.org:587?tls=required", "Smtp(mail.example.org:587 Required)");
        check("smtps://u:p@mail.example.org", "Smtp(mail.example.org:465 Implicit with credentials)");
        check("smtp://u%40x:p%2Fw@h", "Smtp(h:25 Starttls with credentials)");
        check("file://", "error: `file://` needs a directory, such as `file://./mail`");
        check("http://x", "error: the scheme `http` is not supported; use smtp://, smtps://, file://DIR or log:");
        check("smtp://h?tls=maybe", "error: `tls=maybe`: use starttls, required or none");
        check("smtp://h?foo=1", "error: unknown parameter `foo`");
        check("smtps://h?tls=none", "error: `smtps://` is always TLS: drop `?tls=`");
        check("smtp://user@h", "error: an SMTP user needs a password: `smtp://user:password@host`");
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let url = MailUrl::parse("smtp://me%40example.org:s3cr%2Ft@h:587").unwrap();

        let MailUrl::Smtp(smtp) = &url else { panic!("{url:?}") };
        assert_eq!(smtp.credentials, Some(("me@example.org".to_owned(), "s3cr/t".to_owned())));
        assert!(!format!("{url:?}").contains("s3cr"));
        assert!(!MailUrl::parse("smtp://u:s3cr@[bad").map(|_| ()).unwrap_err().to_string().contains("s3cr"));
    }
}
