//! The errors of the ports: each keeps the error that caused it, for the log, and says nothing a client may see.
//!
//! An adapter wraps its driver's error (`StoreError::new(sqlx_error)`), or says what it was doing over it
//! (`MailError::context("SMTP", e)`); a mail that trying again cannot deliver is `MailError::permanent`. `Display` names only the failure; the cause is its
//! [`std::error::Error::source`], and [`chain`] writes the whole chain on one line for logs and stored reports.

/// The error behind a port's failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Defines a port error: a fixed description over the error that caused it.
macro_rules! port_error {
    ($(#[$doc:meta])* $name:ident, $description:literal) => {
        $(#[$doc])*
        #[derive(Debug, thiserror::Error)]
        #[error($description)]
        pub struct $name(#[source] BoxError);

        impl $name {
            /// The failure caused by `cause`: a driver's error, or a sentence for a failure that has none.
            pub fn new(cause: impl Into<BoxError>) -> Self {
                Self(cause.into())
            }

            /// The failure caused by `cause` while doing what `doing` says.
            pub fn context(doing: impl Into<String>, cause: impl Into<BoxError>) -> Self {
                Self(Box::new(Context { doing: doing.into(), cause: cause.into() }))
            }
        }
    };
}

port_error!(
    /// A store failed: it is unreachable, timed out, or answered something unexpected.
    StoreError,
    "store unavailable"
);

port_error!(
    /// Hashing failed for a reason other than a wrong password (a corrupt stored hash, a closed pool).
    HashError,
    "password hashing failed"
);

/// The mail could not be handed to the transport: for now (a server down, a full mailbox), or for good (an
/// address the transport cannot send to, a server that refused the recipient).
#[derive(Debug, thiserror::Error)]
#[error("mail not sent")]
pub struct MailError {
    #[source]
    cause: BoxError,
    permanent: bool,
}

impl MailError {
    /// A failure that may pass: the mail is tried again later.
    pub fn new(cause: impl Into<BoxError>) -> Self {
        Self { cause: cause.into(), permanent: false }
    }

    /// A failure that may pass, caused by `cause` while doing what `doing` says.
    pub fn context(doing: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        Self::new(Context { doing: doing.into(), cause: cause.into() })
    }

    /// A failure that trying again cannot mend, caused by `cause` while doing what `doing` says.
    pub fn permanent(doing: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        Self { permanent: true, ..Self::context(doing, cause) }
    }

    /// Whether trying again cannot mend it.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }
}

/// What an adapter was doing when its driver failed.
#[derive(Debug, thiserror::Error)]
#[error("{doing}")]
struct Context {
    doing: String,
    #[source]
    cause: BoxError,
}

/// The error and its causes on one line, outermost first: `mail not sent: invalid recipient: missing domain`.
///
/// A cause whose text the line already ends with is left out: many drivers' errors show their own cause in their
/// text already, and an SMTP reply (which may name an address) is kept once, not twice.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(error: &(dyn std::error::Error + 'static), expected: &str) {
        assert_eq!(chain(error), expected);
    }

    #[test]
    fn an_error_keeps_its_cause_and_shows_it_only_in_the_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");

        let error = StoreError::new(io);

        assert_eq!(error.to_string(), "store unavailable");
        assert!(std::error::Error::source(&error).is_some_and(|cause| cause.is::<std::io::Error>()));
        check(&error, "store unavailable: connection refused");
    }

    #[test]
    fn chains_read_outermost_first() {
        check(&StoreError::new("the insert returned no row"), "store unavailable: the insert returned no row");
        check(&HashError::new("a hashing thread stopped"), "password hashing failed: a hashing thread stopped");
        check(
            &MailError::context("invalid recipient", "missing domain"),
            "mail not sent: invalid recipient: missing domain",
        );
    }

    #[test]
    fn a_cause_that_a_driver_already_shows_is_written_once() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "550 no such user");
        let driver = Shown { text: "permanent error: 550 no such user".to_owned(), cause: refused };

        check(&MailError::context("SMTP", driver), "mail not sent: SMTP: permanent error: 550 no such user");
    }

    /// A driver's error that writes its cause into its own text, as lettre's and sqlx's do.
    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Shown {
        text: String,
        #[source]
        cause: std::io::Error,
    }
}
