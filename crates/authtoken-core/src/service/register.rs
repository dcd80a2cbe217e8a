//! Registration: check the submitted fields with upstream's rules and messages, then create the user.

use super::noted::Subject;
use super::{AuthService, Failure};
use crate::event::{AuditEvent, EventKind};
use crate::ports::CreateUserError;
use crate::session::ClientInfo;
use crate::user::{EMAIL_MAX_CHARS, NewUser, PASSWORD_MAX_CHARS, Password, User, Username};

/// One submitted field, as the HTTP layer found it in the body.
#[derive(Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// The body has no such field.
    Missing,
    /// A JSON `null`.
    Null,
    /// A JSON boolean.
    Bool(bool),
    /// A JSON number, array or object.
    NotString,
    /// A JSON string or a form value, exactly as sent (not trimmed).
    Text(String),
}

impl std::fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Fields may hold passwords: show only what kind of value arrived.
        f.write_str(match self {
            Self::Missing => "Missing",
            Self::Null => "Null",
            Self::Bool(_) => "Bool",
            Self::NotString => "NotString",
            Self::Text(_) => "Text(<redacted>)",
        })
    }
}

/// The registration fields.
#[derive(Clone, Debug)]
pub struct RegistrationForm {
    /// The requested username, checked with [`Username::parse`].
    pub username: FieldValue,
    /// The password, exactly as sent; its length is checked against the configured minimum and
    /// [`PASSWORD_MAX_CHARS`].
    pub password: FieldValue,
    /// Read only when email confirmation is on.
    pub email: FieldValue,
    /// The client's languages, most preferred first (from `Accept-Language`), for the confirmation mail.
    pub languages: Vec<String>,
    /// Where the request came from, for the throttles and the audit trail.
    pub client: ClientInfo,
}

/// Field errors in field order, each with its messages (upstream reports the first failing rule per field).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(&'static str, Vec<String>)>);

impl FieldErrors {
    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, vec![message.into()]));
    }
}

/// Why no user was created.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Some fields break the rules, or the username is taken: the errors say which and why.
    #[error("invalid registration fields")]
    Invalid(FieldErrors),
    /// Too many registrations from the client's address, or too many confirmation mails to the address: nothing
    /// was checked or created.
    #[error(transparent)]
    Throttled(#[from] super::Throttled),
    /// Something outside the domain failed: the store, the hasher or the random number generator.
    #[error(transparent)]
    Failed(#[from] Failure),
}

const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const NOT_A_STRING: &str = "Not a valid string.";
const BLANK: &str = "This field may not be blank.";
const PASSWORD_TOO_LONG: &str = "Ensure this field has no more than 128 characters.";
const PASSWORD_TOO_SHORT: &str = "password too short";
const DUPLICATE: &str = "A user with that username already exists.";
const DUPLICATE_KEY: &str = "already exists";
const EMAIL_TOO_LONG: &str = "Ensure this field has no more than 254 characters.";
const EMAIL_INVALID: &str = "Enter a valid email address.";

/// New user's fields that passed registration's rules.
pub(super) struct CheckedUser {
    pub(super) username: Username,
    pub(super) password: Password,
    pub(super) email: Option<String>,
}

impl AuthService {
    /// Validates the form and creates an active user.
    ///
    /// Uniqueness is checked first for a friendly message, and enforced by the store's unique index,
    /// so that of many concurrent registrations of one name exactly one succeeds.
    ///
    /// With the throttles on, the request counts against the client's address before anything is checked, and,
    /// when it would mail a confirmation link, against the address it names.
    ///
    /// The audit trail gets a `registered` event from the form's client in the transaction that creates the user, or
    /// a `registration_throttled` one.
    pub async fn register(&self, form: RegistrationForm) -> Result<User, RegisterError> {
        let now = self.clock.now();
        if let Some(throttles) = &self.throttles {
            let address = match (&self.confirmation, &form.email) {
                (Some(_), FieldValue::Text(address)) => Some(address.trim()),
                _ => None,
            };
            let judged = throttles.registration(form.client.ip.as_deref(), address, now).await;
            let kind = EventKind::RegistrationThrottled;
            self.note_throttled(judged, kind, now, Subject::Nobody, None, &form.client).await?;
        }
        let password = text(form.password).map(Password::new);
        let email = self.confirmation.as_ref().map(|_| form.email);
        let checked = self.check_new_user(form.username, password, email).await?;
        let new_user = self.new_user(checked, false).await?;
        let event = AuditEvent::new(EventKind::Registered, now, None, None, &form.client);
        let created = match (&self.confirmation, &new_user.email) {
            (Some(confirmation), Some(email)) => {
                let mail = super::confirm::confirmation_mail(confirmation, email, &form.languages);
                confirmation.repo.create_user_with_confirmation(&new_user, &mail, &event).await
            }
            _ => self.users.create(&new_user, &event).await,
        };
        self.created(created, &new_user.username).await
    }

    /// Checks the fields of a new user with registration's rules and messages, in field order: the username (and
    /// whether it is taken), the password (or why the field held none), and the email when `email` is `Some`.
    pub(super) async fn check_new_user(
        &self,
        username: FieldValue,
        password: Result<Password, &'static str>,
        email: Option<FieldValue>,
    ) -> Result<CheckedUser, RegisterError> {
        let mut errors = FieldErrors::default();
        let username = match text(username) {
            Ok(text) => match Username::parse(&text) {
                Ok(username) => Some(username),
                Err(e) => {
                    errors.add("username", e.to_string());
                    None
                }
            },
            Err(message) => {
                errors.add("username", message);
                None
            }
        };
        if let Some(username) = &username
            && let Some(message) = self.duplicate_message(username).await?
        {
            errors.add("username", message);
        }
        let password = match password.and_then(|password| self.check_password(password)) {
            Ok(password) => Some(password),
            Err(message) => {
                errors.add("password", message);
                None
            }
        };
        let email = match email.map(|email| text(email).and_then(check_email)) {
            Some(Ok(email)) => Some(email),
            Some(Err(message)) => {
                errors.add("email", message);
                None
            }
            None => None,
        };
        let (Some(username), Some(password), true) = (username, password, errors.0.is_empty()) else {
            return Err(RegisterError::Invalid(errors));
        };
        Ok(CheckedUser { username, password, email })
    }

    /// Hashes the password and makes the active user to store, joined now.
    pub(super) async fn new_user(&self, checked: CheckedUser, email_confirmed: bool) -> Result<NewUser, Failure> {
        let password_hash = self.hasher.hash(&checked.password).await?;
        Ok(NewUser {
            username_key: checked.username.key(self.config.username_case_insensitive),
            username: checked.username,
            password_hash,
            email: checked.email,
            email_confirmed,
            is_active: true,
            joined_at: self.clock.now(),
        })
    }

    /// The outcome of creating `username`: a name taken meanwhile is the field error the checks would have given.
    pub(super) async fn created(
        &self,
        created: Result<User, CreateUserError>,
        username: &Username,
    ) -> Result<User, RegisterError> {
        match created {
            Ok(user) => Ok(user),
            Err(CreateUserError::Duplicate) => {
                let message = self.duplicate_message(username).await?.unwrap_or(DUPLICATE);
                let mut errors = FieldErrors::default();
                errors.add("username", message);
                Err(RegisterError::Invalid(errors))
            }
            Err(CreateUserError::Store(e)) => Err(Failure::from(e).into()),
        }
    }

    /// Upstream's two uniqueness rules: the exact name, then the name's key (which differs when case-insensitive).
    async fn duplicate_message(&self, username: &Username) -> Result<Option<&'static str>, Failure> {
        if self.users.find_by_username(username.as_str()).await?.is_some() {
            return Ok(Some(DUPLICATE));
        }
        let key = username.key(self.config.username_case_insensitive);
        if self.config.username_case_insensitive && self.users.find_by_key(&key).await?.is_some() {
            return Ok(Some(DUPLICATE_KEY));
        }
        Ok(None)
    }

    /// Checks a new password against the rules of registration; the error is upstream's message.
    pub(crate) fn check_password(&self, password: Password) -> Result<Password, &'static str> {
        let chars = password.char_count();
        if chars == 0 {
            return Err(BLANK);
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(PASSWORD_TOO_LONG);
        }
        if chars < self.config.password_min_length {
            return Err(PASSWORD_TOO_SHORT);
        }
        Ok(password)
    }
}

/// Django's `EmailField`: trimmed, not blank, at most 254 characters, a valid address.
pub(crate) fn check_email(text: String) -> Result<String, &'static str> {
    let email = text.trim();
    if email.is_empty() {
        return Err(BLANK);
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(EMAIL_TOO_LONG);
    }
    // Like Django, the domain needs a dot, except for `localhost`.
    let domain = email.rsplit_once('@').map_or("", |(_, domain)| domain);
    // A bare address only, no display name (`Alice <a@b.org>`), so the stored value is
    // exactly a mailbox and can never smuggle header text into a mail.
    // And only what a mail transport can send to: a domain name, not an address literal (`user@[127.0.0.1]`),
    // and a plain local part, not a quoted one (`"a b"@example.org`).
    let options = email_address::Options {
        minimum_sub_domains: 0,
        allow_domain_literal: false,
        allow_display_text: false,
        allow_long_local_parts: true,
    };
    let parsed = email_address::EmailAddress::parse_with_options(email, options);
    let quoted = email.starts_with('"');
    if parsed.is_err()
        || quoted
        || email.chars().any(char::is_control)
        || !domain.contains('.') && domain != "localhost"
    {
        return Err(EMAIL_INVALID);
    }
    Ok(email.to_owned())
}

/// A field that must be a string, or the message of Django REST framework's `CharField` for what it is instead.
pub(crate) fn text(value: FieldValue) -> Result<String, &'static str> {
    match value {
        FieldValue::Missing => Err(REQUIRED),
        FieldValue::Null => Err(NULL),
        FieldValue::Bool(_) | FieldValue::NotString => Err(NOT_A_STRING),
        FieldValue::Text(text) => Ok(text),
    }
}
