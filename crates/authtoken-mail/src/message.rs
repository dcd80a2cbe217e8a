//! Building an RFC 5322 message from the core's `Mail`.

use authtoken_core::outbox::Mail;
use authtoken_core::ports::MailError;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};

/// Parses an address such as `noreply@example.org` or `authtoken <noreply@example.org>`.
pub(crate) fn mailbox(text: &str) -> Result<Mailbox, lettre::address::AddressError> {
    text.parse()
}

/// Where a message goes, which decides how its body may be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carrier {
    /// An SMTP server: 7bit text, or what lettre chooses when that cannot carry the body.
    Smtp,
    /// A file or the log, read by people: 8bit text too, so that no link is cut by a soft line break.
    Text,
}

/// The longest line, in bytes without its CRLF, that 7bit and 8bit bodies may hold (RFC 5322).
const MAX_LINE: usize = 998;

/// The body as text a person can read as it is, wherever it can travel so: 7bit when it is ASCII, 8bit when it
/// is not and `carrier` allows it, each only with lines of at most 998 bytes. Otherwise lettre encodes it
/// (quoted-printable, whose soft line breaks would cut a long link in the raw message).
fn body(text: &str, carrier: Carrier) -> Body {
    let lines: Vec<&str> = text.lines().collect();
    let plain = lines.iter().all(|line| line.len() <= MAX_LINE && !line.contains(['\r', '\0']));
    let encoding = match (text.is_ascii(), carrier) {
        (true, _) => ContentTransferEncoding::SevenBit,
        (false, Carrier::Text) => ContentTransferEncoding::EightBit,
        (false, Carrier::Smtp) => return Body::new(text.to_owned()),
    };
    if !plain {
        return Body::new(text.to_owned());
    }
    let mut crlf = lines.join("\r\n");
    crlf.push_str("\r\n");
    // The text was checked above to be what this encoding carries unchanged.
    Body::dangerous_pre_encoded(crlf.into_bytes(), encoding)
}

/// A plain-text UTF-8 message with `From`, `To`, `Subject`, `Date` and a fresh `Message-ID`.
pub(crate) fn build(from: &Mailbox, mail: &Mail, carrier: Carrier) -> Result<Message, MailError> {
    let to = mailbox(&mail.to).map_err(|e| MailError::permanent("invalid recipient", e))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.as_str())
        .date_now()
        .message_id(None)
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body(&mail.body, carrier)))
        .map_err(|e| MailError::permanent("cannot build the message", e))
}

/// The recipient for the log: the first letter and the domain only.
pub(crate) fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}
