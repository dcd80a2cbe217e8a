//! Builds an `AuthService` over the testkit fakes, and the small helpers every use-case test shares.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use authtoken_core::config::ConfirmationSettings;
use authtoken_core::delivery::{Delivery, DeliveryReport, RetryPolicy};
use authtoken_core::outbox::{Mail, OutboxEntry, OutboxMail, OutboxState};
use authtoken_core::ports::{MailError, Mailer, Outbox, UserRepo};
use authtoken_core::service::{
    AuthenticateError, Authenticated, FieldErrors, FieldValue, LoginError, LoginOutcome, Ports, RegisterError,
    RegistrationForm,
};
use authtoken_core::session::ClientInfo;
use authtoken_core::template::{MailTemplate, MailTemplates, Template};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::Password;
use authtoken_core::{AuthService, Config, PlainToken, User};
use authtoken_testkit::{FakeClock, FakePasswordHasher, InMemoryStore, fixtures};

/// A password that passes the default rules (at least 8 characters).
pub(crate) const PASSWORD: &str = "correct horse";

/// Everything before the token in a confirmation link of [`confirmation_settings`].
pub(crate) const LINK_PREFIX: &str = "https://auth.example.org/auth/register/confirm/";

/// How long a confirmation link of [`confirmation_settings`] stays valid.
pub(crate) const LINK_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);

/// Every state an outbox entry can be in.
pub(crate) const EVERY_STATE: &[OutboxState] = &[OutboxState::Pending, OutboxState::Sent, OutboxState::Failed];

/// The default subject and message of [`confirmation_settings`].
pub(crate) const SUBJECT: &str = "Confirm your address, {username}";
pub(crate) const MESSAGE: &str = "Hello {username},\n\nopen {url} to confirm your address.\n";

/// The German (`de`) subject and message of [`confirmation_settings`].
pub(crate) const SUBJECT_DE: &str = "Bestätige deine Adresse, {username}";
pub(crate) const MESSAGE_DE: &str = "Hallo {username},\n\nöffne {url}, um deine Adresse zu bestätigen.\n";

/// Waits of 10 s and then 20 s, and a third failure is the last.
pub(crate) const POLICY: RetryPolicy = RetryPolicy {
    first_delay: Duration::from_secs(10),
    max_delay: Duration::from_secs(60),
    max_attempts: 3,
    lease: Duration::from_secs(30),
    delivery_time: Duration::from_secs(10),
    batch: 10,
};

/// An `AuthService` over one `InMemoryStore` (tokens and users, and with confirmation on also links and the outbox),
/// a `FakePasswordHasher`, a `FakeClock` at `fixtures::EPOCH` and a [`RecordingMailer`], with handles on the fakes so
/// tests can look inside and move time.
pub(crate) struct App {
    pub service: AuthService,
    pub store: InMemoryStore,
    pub hasher: Arc<FakePasswordHasher>,
    pub clock: FakeClock,
    pub mailer: Arc<RecordingMailer>,
    ports: Ports,
    confirmation: Option<ConfirmationSettings>,
}

impl App {
    /// The contract's default configuration (`fixtures::config()`).
    pub(crate) fn new() -> Self {
        Self::with_config(fixtures::config())
    }

    /// The default configuration with email confirmation on ([`confirmation_settings`]).
    pub(crate) fn confirming() -> Self {
        Self::new().with_confirmation(confirmation_settings())
    }

    pub(crate) fn with_config(config: Config) -> Self {
        let store = InMemoryStore::default();
        let hasher = Arc::new(FakePasswordHasher::default());
        let clock = FakeClock::at(fixtures::EPOCH);
        let ports = Ports {
            tokens: Arc::new(store.clone()),
            users: Arc::new(store.clone()),
            events: Arc::new(store.clone()),
            hasher: hasher.clone(),
            clock: Arc::new(clock.clone()),
        };
        let service = AuthService::new(ports.clone(), config);
        let mailer = Arc::new(RecordingMailer::default());
        Self { service, store, hasher, clock, mailer, ports, confirmation: None }
    }

    /// The same app with email confirmation on; links and their mail are kept in the app's store.
    pub(crate) fn with_confirmation(self, settings: ConfirmationSettings) -> Self {
        let service = self.service.clone().with_confirmation(Arc::new(self.store.clone()), settings.clone());
        Self { service, confirmation: Some(settings), ..self }
    }

    /// Another service over the same fakes and configuration, with some ports replaced (usually by mocks).
    pub(crate) fn service_with(&self, replace: impl FnOnce(&mut Ports)) -> AuthService {
        let mut ports = self.ports.clone();
        replace(&mut ports);
        let service = AuthService::new(ports, self.service.config().clone());
        match &self.confirmation {
            Some(settings) => service.with_confirmation(Arc::new(self.store.clone()), settings.clone()),
            None => service,
        }
    }

    /// Registers a user through the use case; the test fails if registration does.
    pub(crate) async fn register(&self, username: &str, password: &str) -> User {
        self.service.register(form(username, password)).await.expect("the registration is valid")
    }

    pub(crate) async fn login(&self, username: &str, password: &str) -> Result<LoginOutcome, LoginError> {
        self.service.login(username, &crate::support::password(password), client()).await
    }

    /// Logs in; the test fails if the login does.
    pub(crate) async fn token(&self, username: &str, password: &str) -> PlainToken {
        self.login(username, password).await.expect("the login succeeds").token.into()
    }

    /// Registers a user with an email address; the test fails if registration does.
    pub(crate) async fn register_with_email(&self, username: &str, email: &str) -> User {
        self.service.register(email_form(username, email)).await.expect("the registration is valid")
    }

    /// The user as the store has it now.
    pub(crate) async fn user(&self, username: &str) -> User {
        self.store.find_by_username(username).await.expect("the store answers").expect("the user exists")
    }

    /// The outbox entries in these states, oldest first.
    pub(crate) async fn outbox(&self, states: &[OutboxState]) -> Vec<OutboxEntry> {
        Outbox::entries(&self.store, states).await.expect("the store answers")
    }

    /// What the outbox holds for delivery, oldest first.
    pub(crate) async fn pending_mail(&self) -> Vec<OutboxMail> {
        self.outbox(&[OutboxState::Pending]).await.into_iter().map(|entry| entry.mail).collect()
    }

    /// A delivery over the app's service, store and mailer.
    pub(crate) fn delivery(&self, policy: RetryPolicy) -> Delivery {
        Delivery::new(self.service.clone(), Arc::new(self.store.clone()), self.mailer.clone(), policy)
    }

    /// Delivers what is due now through the app's mailer, with [`POLICY`].
    pub(crate) async fn deliver(&self) -> DeliveryReport {
        self.delivery(POLICY).run_once().await.expect("the store answers")
    }

    /// Delivers what is due now, then returns the newest mail the mailer accepted for `to`.
    pub(crate) async fn delivered_to(&self, to: &str) -> Mail {
        self.deliver().await;
        let mail = self.mailer.sent().into_iter().rev().find(|mail| mail.to == to);
        mail.expect("a mail to the address was delivered")
    }

    /// Delivers what is due now, then returns the token in the newest mail delivered to `to`.
    pub(crate) async fn link_token(&self, to: &str) -> String {
        token_in(&self.delivered_to(to).await)
    }

    /// Authenticates `Authorization: Token <token>`.
    pub(crate) async fn authenticate(&self, token: &PlainToken) -> Result<Authenticated, AuthenticateError> {
        self.service.authenticate(Some(header(token).as_bytes())).await
    }
}

/// Email confirmation with [`LINK_PREFIX`], [`LINK_VALIDITY`], and a default and a German (`de`) mail.
pub(crate) fn confirmation_settings() -> ConfirmationSettings {
    ConfirmationSettings {
        token_validity: LINK_VALIDITY,
        link_prefix: LINK_PREFIX.to_owned(),
        templates: MailTemplates::new(
            template(SUBJECT, MESSAGE),
            vec![("de".to_owned(), template(SUBJECT_DE, MESSAGE_DE))],
        ),
    }
}

/// A form with username, password [`PASSWORD`] and email given as strings.
pub(crate) fn email_form(username: &str, email: &str) -> RegistrationForm {
    RegistrationForm { email: text(email), ..form(username, PASSWORD) }
}

/// The token in the confirmation link of a mail body: what follows [`LINK_PREFIX`] up to the next `/`.
pub(crate) fn token_in(mail: &Mail) -> String {
    let (_, rest) = mail.body.split_once(LINK_PREFIX).expect("the mail holds a confirmation link");
    let (token, _) = rest.split_once('/').expect("the link ends with a slash");
    token.to_owned()
}

/// The confirmation link that carries `token`.
pub(crate) fn link(token: &str) -> String {
    format!("{LINK_PREFIX}{token}/")
}

/// The digest a store keeps for a well-formed token.
pub(crate) fn digest(token: &str) -> TokenDigest {
    PlainToken::parse(token.as_bytes()).expect("the token is well formed").digest()
}

/// The `Authorization` header value that presents `token`.
pub(crate) fn header(token: &PlainToken) -> String {
    format!("Token {}", token.expose())
}

pub(crate) fn password(text: &str) -> Password {
    Password::new(text.to_owned())
}

/// A form with both fields given as strings.
pub(crate) fn form(username: &str, password: &str) -> RegistrationForm {
    RegistrationForm {
        username: text(username),
        password: text(password),
        email: authtoken_core::service::FieldValue::Missing,
        languages: vec![],
        client: ClientInfo::default(),
    }
}

pub(crate) fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.to_owned())
}

/// The configuration of `fixtures::config()` with case-insensitive usernames on or off.
pub(crate) fn case_insensitive(on: bool) -> Config {
    Config { username_case_insensitive: on, ..fixtures::config() }
}

/// The client of every test login.
pub(crate) fn client() -> ClientInfo {
    from("192.0.2.1")
}

/// The test client, from the address `ip`.
pub(crate) fn from(ip: &str) -> ClientInfo {
    ClientInfo::new(Some("tests/1.0"), Some(ip.to_owned()))
}

pub(crate) fn template(subject: &str, message: &str) -> MailTemplate {
    MailTemplate {
        subject: Template::parse(subject).expect("the subject is a valid template"),
        message: Template::parse(message).expect("the message is a valid template"),
    }
}

/// Checks that registration failed with exactly these field errors, in this order, one message per field.
#[track_caller]
pub(crate) fn assert_field_errors(result: Result<User, RegisterError>, expected: &[(&'static str, &str)]) {
    match result {
        Err(RegisterError::Invalid(errors)) => assert_eq!(errors, field_errors(expected)),
        other => panic!("expected the field errors {expected:?}, got {other:?}"),
    }
}

pub(crate) fn field_errors(expected: &[(&'static str, &str)]) -> FieldErrors {
    FieldErrors(expected.iter().map(|(field, message)| (*field, vec![(*message).to_owned()])).collect())
}

/// A mailer that records every attempt and every mail it accepted, and refuses mail to the addresses it is told to.
#[derive(Debug, Default)]
pub(crate) struct RecordingMailer {
    tries: Mutex<Vec<String>>,
    sent: Mutex<Vec<Mail>>,
    failing: Mutex<HashSet<String>>,
    refused: Mutex<HashSet<String>>,
}

impl RecordingMailer {
    /// Mail to `to` fails for now, as when the server cannot be reached.
    pub(crate) fn fail_for(&self, to: &str) {
        lock(&self.failing).insert(to.to_owned());
    }

    /// Mail to `to` fails for good, as when the server answers 550.
    pub(crate) fn refuse(&self, to: &str) {
        lock(&self.refused).insert(to.to_owned());
    }

    pub(crate) fn recover(&self) {
        lock(&self.failing).clear();
    }

    /// The recipients of every attempt, in order.
    pub(crate) fn tries(&self) -> Vec<String> {
        lock(&self.tries).clone()
    }

    /// The mail accepted, in order.
    pub(crate) fn sent(&self) -> Vec<Mail> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        lock(&self.tries).push(mail.to.clone());
        if lock(&self.failing).contains(&mail.to) {
            return Err(MailError::new("connection refused"));
        }
        if lock(&self.refused).contains(&mail.to) {
            return Err(MailError::permanent("SMTP", "550 no such user"));
        }
        lock(&self.sent).push(mail.clone());
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
