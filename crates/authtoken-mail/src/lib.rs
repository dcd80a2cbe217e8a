//! The `Mailer` port of authtoken over lettre: SMTP for production, a file drop and a log transport for development.
//!
//! `mail_url` picks the transport:
//! - `smtp://[user:password@]host[:port][?tls=starttls|required|none]`: SMTP, STARTTLS when offered (`starttls`, the default),
//!   always (`required`) or never (`none`); port 25 unless given.
//! - `smtps://[user:password@]host[:port]`: SMTP over implicit TLS, port 465 unless given.
//! - `file://DIR`: one RFC 5322 `.eml` file per message in `DIR`, each written atomically.
//! - `log:`: the message goes to the log (development only: the log then holds confirmation links).
//!
//! Messages are plain-text UTF-8 with `From`, `To`, `Subject`, `Date` and `Message-ID`.

mod file;
mod log;
mod message;
mod smtp;
mod url;

use std::sync::Arc;
use std::time::Duration;

use authtoken_core::ports::Mailer;

pub use file::FileMailer;
pub use log::LogMailer;
pub use smtp::SmtpMailer;
pub use url::{InvalidMailUrl, MailUrl, SmtpSecurity};

/// The sender and the transport settings of every mailer.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// The `From` address, such as `authtoken <noreply@example.org>`.
    pub from: String,
    /// How long one SMTP command may take before the send fails.
    pub timeout: Duration,
    /// PEM certificates to trust for SMTP over TLS besides the public roots (an internal relay's own CA).
    pub extra_root_certificates: Option<Vec<u8>>,
}

/// Builds the mailer `url` names.
pub fn mailer(url: &MailUrl, settings: &MailSettings) -> Result<Arc<dyn Mailer>, InvalidMailUrl> {
    let from = message::mailbox(&settings.from).map_err(|e| InvalidMailUrl(format!("invalid sender address: {e}")))?;
    Ok(match url {
        MailUrl::Smtp(smtp) => Arc::new(SmtpMailer::new(smtp, from, settings)?),
        MailUrl::File(dir) => Arc::new(FileMailer::new(dir.clone(), from)),
        MailUrl::Log => Arc::new(LogMailer::new(from)),
    })
}
