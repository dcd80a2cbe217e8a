//! The file drop: one `.eml` file per message, for development and tests.

use std::path::PathBuf;

use async_trait::async_trait;
use authtoken_core::outbox::Mail;
use authtoken_core::ports::{MailError, Mailer};
use lettre::message::Mailbox;
use rand::RngExt as _;

/// Writes each message as an RFC 5322 file `DIR/<time>-<random>.eml`.
///
/// The file is written under a temporary name and renamed, so a reader never sees half a message.
#[derive(Debug)]
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> Self {
        Self { dir, from }
    }
}

#[async_trait]
impl Mailer for FileMailer {
    #[tracing::instrument(skip_all)]
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = crate::message::build(&self.from, mail, crate::message::Carrier::Text)?;
        let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
        let name = format!("{millis:013}-{:016x}", rand::rng().random::<u64>());
        let (temporary, target) = (self.dir.join(format!(".{name}.tmp")), self.dir.join(format!("{name}.eml")));
        let io = |e: std::io::Error| MailError::context(format!("cannot write to {}", self.dir.display()), e);
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        tokio::fs::write(&temporary, message.formatted()).await.map_err(io)?;
        tokio::fs::rename(&temporary, &target).await.map_err(io)?;
        tracing::info!(to = %crate::message::masked(&mail.to), file = %target.display(), "mail written");
        Ok(())
    }
}
