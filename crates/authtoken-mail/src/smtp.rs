//! Sending over SMTP with a pool of connections.

use async_trait::async_trait;
use authtoken_core::outbox::Mail;
use authtoken_core::ports::{MailError, Mailer};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use crate::MailSettings;
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
    pub fn new(url: &SmtpUrl, from: Mailbox, settings: &MailSettings) -> Result<Self, InvalidMailUrl> {
        let tls_parameters = || {
            let mut builder = TlsParameters::builder(url.host.clone());
            for der in extra_roots(settings.extra_root_certificates.as_deref())? {
                let certificate = Certificate::from_der(der)
                    .map_err(|e| InvalidMailUrl(format!("an extra root certificate is invalid: {e}")))?;
                builder = builder.add_root_certificate(certificate);
            }
            builder.build_rustls().map_err(|e| InvalidMailUrl(format!("TLS setup failed: {e}")))
        };
        let tls = match url.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls => Tls::Opportunistic(tls_parameters()?),
            SmtpSecurity::Required => Tls::Required(tls_parameters()?),
            SmtpSecurity::Implicit => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.as_str())
            .port(url.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
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
        let message = crate::message::build(&self.from, mail, crate::message::Carrier::Smtp)?;
        self.transport.send(message).await.map_err(|e| {
            // A 5xx reply (an unknown recipient, say) stays so however often it is asked again; a 4xx reply, a
            // timeout or a lost connection may pass.
            if e.is_permanent() { MailError::permanent("SMTP", e) } else { MailError::context("SMTP", e) }
        })?;
        tracing::debug!(to = %crate::message::masked(&mail.to), "mail handed to the SMTP server");
        Ok(())
    }
}

/// The certificates of a PEM file, in DER; a file without any certificate is an error, not an empty list.
fn extra_roots(pem: Option<&[u8]>) -> Result<Vec<Vec<u8>>, InvalidMailUrl> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;

    let Some(pem) = pem else {
        return Ok(Vec::new());
    };
    let certificates: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem)
        .map(|der| der.map(|der| der.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| InvalidMailUrl(format!("the extra root certificates are not PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(InvalidMailUrl("the extra root certificates file holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
}
