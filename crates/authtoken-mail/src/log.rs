//! The log transport: the whole message goes to the log, for development.

use async_trait::async_trait;
use authtoken_core::outbox::Mail;
use authtoken_core::ports::{MailError, Mailer};
use lettre::message::Mailbox;

/// Logs each message at `info`. The log then holds confirmation links: never use it in production.
#[derive(Debug)]
pub struct LogMailer {
    from: Mailbox,
}

impl LogMailer {
    pub fn new(from: Mailbox) -> Self {
        Self { from }
    }
}

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = crate::message::build(&self.from, mail, crate::message::Carrier::Text)?;
        tracing::info!(
            to = %crate::message::masked(&mail.to),
            "mail (log transport):\n{}",
            String::from_utf8_lossy(&message.formatted())
        );
        Ok(())
    }
}
