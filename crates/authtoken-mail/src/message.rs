//! Building an RFC 5322 message from the core's `Mail`.

use authtoken_core::outbox::Mail;
use authtoken_core::ports::MailError;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, SinglePart};

/// Parses an address such as `noreply@example.org` or `authtoken <noreply@example.org>`.
pub(crate) fn mailbox(text: &str) -> Result<Mailbox, lettre::address::AddressError> {
    text.parse()
}

/// A plain-text UTF-8 message with `From`, `To`, `Subject`, `Date` and a fresh `Message-ID`.
pub(crate) fn build(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    let to = mailbox(&mail.to).map_err(|e| MailError::permanent("invalid recipient", e))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.as_str())
        .date_now()
        .message_id(None)
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.body.clone()))
        .map_err(|e| MailError::permanent("cannot build the message", e))
}

/// The recipient for the log: the first letter and the domain only.
pub(crate) fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}
