//! Sending over SMTP with a pool of connections.

use std::time::Duration;

use async_trait::async_trait;
use authtoken_core::ports::{Mail, MailError, Mailer};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use crate::url::{InvalidMailUrl, SmtpSecurity, SmtpUrl};

/// Hands mail to an SMTP server; connections are pooled and reused.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("from", &self.from).finish_non_exhaustive()
    }
}

impl SmtpMailer {
    pub fn new(url: &SmtpUrl, from: Mailbox, timeout: Duration) -> Result<Self, InvalidMailUrl> {
        let tls_parameters =
            || TlsParameters::new(url.host.clone()).map_err(|e| InvalidMailUrl(format!("TLS setup failed: {e}")));
        let tls = match url.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls => Tls::Opportunistic(tls_parameters()?),
            SmtpSecurity::Required => Tls::Required(tls_parameters()?),
            SmtpSecurity::Implicit => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.as_str())
            .port(url.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some((user, password)) = &url.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self { transport: builder.build(), from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    #[tracing::instrument(skip_all)]
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = crate::message::build(&self.from, mail)?;
        self.transport.send(message).await.map_err(|e| MailError(format!("SMTP: {e}")))?;
        tracing::debug!(to = %crate::message::masked(&mail.to), "mail handed to the SMTP server");
        Ok(())
    }
}
