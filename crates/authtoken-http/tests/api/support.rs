//! A `TestApp` builder over the stores of one backend; `Reply` (in `reply.rs`), a response read whole so tests can
//! assert on exact bytes, is re-exported here.
//!
//! The backend is the including binary's choice: it declares this module next to a module `stores` whose
//! `async fn fresh() -> Option<Stores>` gives empty stores, or `None` when the backend is not available here.
//! `authtoken-http` runs the suite over the testkit's `InMemoryStore`; `authtoken-server` runs the same files
//! over SQLite and PostgreSQL. So tests reach the stores only through the ports, never through a concrete store.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use authtoken_core::config::ConfirmationSettings;
use authtoken_core::delivery::{Delivery, RetryPolicy};
use authtoken_core::event::EventKind;
use authtoken_core::outbox::{Mail, OutboxMail, OutboxState};
use authtoken_core::ports::{EventRepo, MockMailer, Outbox, TokenRepo, UserRepo};
use authtoken_core::service::Ports;
use authtoken_core::session::{ClientInfo, Session, SessionId};
use authtoken_core::template::{MailTemplate, MailTemplates, Template};
use authtoken_core::user::UserId;
use authtoken_core::{AuthService, PlainToken};
use authtoken_http::{AllowedOrigins, HttpConfig, TrustedProxies, UserField};
use authtoken_testkit::contract::Stores;
use authtoken_testkit::{FakeClock, FakePasswordHasher, fixtures};
use poem::EndpointExt as _;
use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderValue, StatusCode, header};
use poem::test::TestClient;

pub(super) use super::reply::{INVALID_TOKEN, NO_CREDENTIALS, NOT_PROVIDED, Reply, send};
use super::stores;

/// A password that passes the default rules (at least 8 characters).
pub(super) const PASSWORD: &str = "correct horse";

/// A well-formed token with both URL-safe-only characters (`-` and `_`), so its standard-alphabet spelling differs.
pub(super) const KNOWN_TOKEN: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz";

/// Where confirmation links point: the site in front of the service; a link is `{LINK_BASE}{prefix}/register/confirm/…`.
pub(super) const LINK_BASE: &str = "http://app.example.org";

/// How long a confirmation link stays valid.
pub(super) const LINK_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);

/// The default subject and message of the confirmation mail.
pub(super) const SUBJECT: &str = "Confirm your address, {username}";
pub(super) const MESSAGE: &str = "Hello {username},\n\nopen {url} to confirm your address.\n";

/// The German (`de`) subject and message of the confirmation mail.
pub(super) const SUBJECT_DE: &str = "Bestätige deine Adresse, {username}";
pub(super) const MESSAGE_DE: &str = "Hallo {username},\n\nöffne {url}, um deine Adresse zu bestätigen.\n";

/// The endpoint under test, as `authtoken_http::app` builds it.
pub(super) type App = BoxEndpoint<'static>;

/// The whole HTTP service over fresh stores of the backend, a `FakePasswordHasher` and a `FakeClock` at
/// `fixtures::EPOCH`, with the ports it runs on so tests can seed users, look inside the stores and move time.
pub(super) struct TestApp {
    pub client: TestClient<App>,
    /// The service behind the app, for tests that mount it in an application of their own.
    pub service: AuthService,
    /// The sessions the service keeps: the backend's store, or the mock the builder was given.
    pub tokens: Arc<dyn TokenRepo>,
    /// The users the service keeps: the backend's store, or the mock the builder was given.
    pub users: Arc<dyn UserRepo>,
    /// The backend's outbox, where confirmation mail waits until [`TestApp::delivered_mail`] delivers it.
    pub outbox: Arc<dyn Outbox>,
    /// The backend's audit trail.
    pub events: Arc<dyn EventRepo>,
    /// What delivery handed to the mailer, in order.
    mailbox: Arc<Mutex<Vec<Mail>>>,
    pub clock: FakeClock,
    case_insensitive: bool,
    prefix: String,
    /// Keeps the backend's temporary database, if any, as long as the app.
    _stores: Stores,
}

/// How to build a [`TestApp`]; the defaults are the contract's (prefix `/auth`, registration off, no `user_fields`).
pub(super) struct TestAppBuilder {
    registration_enabled: bool,
    user_fields: Option<Vec<UserField>>,
    prefix: String,
    case_insensitive: bool,
    tokens: Option<Arc<dyn TokenRepo>>,
    users: Option<Arc<dyn UserRepo>>,
    confirmation: bool,
    require_confirmed_email: bool,
    confirm_redirect: Option<String>,
    confirm_invalid_redirect: Option<String>,
    confirm_via_post: bool,
    docs_enabled: bool,
    /// Password reset: `None` off, else whether the link opens the built-in form.
    reset_form: Option<bool>,
    token_prefix: authtoken_core::TokenPrefix,
    cors_allowed_origins: AllowedOrigins,
    /// The throttles, over the backend's store; `None` off.
    throttles: Option<authtoken_core::throttle::Limits>,
}

impl TestApp {
    /// The contract's defaults; `None` when the backend is not available here (the test then passes vacuously).
    pub(super) async fn new() -> Option<Self> {
        Self::builder().build().await
    }

    pub(super) fn builder() -> TestAppBuilder {
        TestAppBuilder {
            registration_enabled: false,
            user_fields: None,
            prefix: "/auth".to_owned(),
            case_insensitive: false,
            tokens: None,
            users: None,
            confirmation: false,
            require_confirmed_email: false,
            confirm_redirect: None,
            confirm_invalid_redirect: None,
            confirm_via_post: false,
            docs_enabled: true,
            reset_form: None,
            token_prefix: authtoken_core::TokenPrefix::NONE,
            cors_allowed_origins: AllowedOrigins::none(),
            throttles: None,
        }
    }

    /// Creates an active user directly in the store, joined at `fixtures::EPOCH`.
    pub(super) async fn seed_user(&self, username: &str, password: &str) -> UserId {
        let mut user = fixtures::new_user(username, password);
        user.username_key = user.username.key(self.case_insensitive);
        let created = self.users.create(&user, &fixtures::event(EventKind::OperatorCreatedUser)).await;
        created.expect("the seeded user is new").id
    }

    /// The id of the user whose username is exactly `username`; the test fails if there is none.
    pub(super) async fn user_id(&self, username: &str) -> UserId {
        let user = self.users.find_by_username(username).await.expect("the store works");
        user.unwrap_or_else(|| panic!("no user {username:?} in the store")).id
    }

    /// Deactivates a user directly in the store.
    pub(super) async fn deactivate(&self, user: UserId) {
        let event = fixtures::event(EventKind::OperatorDeactivatedUser);
        let found = self.users.set_active(user, false, &event).await.expect("the store works");
        assert!(found, "the user to deactivate exists");
    }

    /// How many sessions `user` has in the store, expired ones included.
    pub(super) async fn session_count(&self, user: UserId) -> usize {
        self.tokens.sessions_of(user).await.expect("the store works").len()
    }

    /// Stores a session for `user` under a token the test chose, valid for a day from now.
    pub(super) async fn seed_session(&self, user: UserId, token: &str) {
        let token = PlainToken::parse(token.as_bytes()).expect("the seeded token is well-formed");
        let now = authtoken_core::ports::Clock::now(&self.clock);
        let config = fixtures::config();
        let session = Session {
            id: SessionId::generate().expect("the OS random number generator works"),
            digest: token.digest(),
            user_id: user,
            created_at: now,
            expires_at: now.plus(config.auth_token_validity),
            last_used_at: None,
            client: ClientInfo::default(),
        };
        self.tokens.insert(&session).await.expect("the session's user exists");
    }

    /// Logs in through `POST /auth/login/` and returns the token; the test fails unless the login succeeds.
    pub(super) async fn login(&self, username: &str, password: &str) -> String {
        let body = serde_json::json!({ "username": username, "password": password });
        let reply = send(self.client.post("/auth/login/").body_json(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "login failed: {}", reply.body);
        reply.token()
    }

    /// Whether the store has `username`'s email confirmed; the test fails if there is no such user.
    pub(super) async fn email_confirmed(&self, username: &str) -> bool {
        let user = self.users.find_by_username(username).await.expect("the store works");
        user.unwrap_or_else(|| panic!("no user {username:?} in the store")).email_confirmed
    }

    /// What the outbox holds for delivery, oldest first.
    pub(super) async fn pending_mail(&self) -> Vec<OutboxMail> {
        let entries = self.outbox.entries(&[OutboxState::Pending]).await.expect("the store works");
        entries.into_iter().map(|entry| entry.mail).collect()
    }

    /// Delivers the mail that is due, as the server's worker would, and returns every mail delivered so far.
    pub(super) async fn delivered_mail(&self) -> Vec<Mail> {
        let policy = RetryPolicy {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(1),
            max_attempts: 1,
            lease: Duration::from_secs(60),
            delivery_time: Duration::from_secs(10),
            batch: 100,
        };
        let mut mailer = MockMailer::new();
        let mailbox = Arc::clone(&self.mailbox);
        mailer.expect_send().returning(move |mail| {
            mailbox.lock().unwrap_or_else(PoisonError::into_inner).push(mail.clone());
            Ok(())
        });
        let delivery = Delivery::new(self.service.clone(), Arc::clone(&self.outbox), Arc::new(mailer), policy);
        let report = delivery.run_once().await.expect("the store works");
        assert!(report.failures.is_empty() && report.void.is_empty(), "{report:?}");
        self.mailbox.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The path of the confirmation link in the newest mail delivered, such as `/auth/register/confirm/<token>/`,
    /// after delivering what is due; the test fails if no mail carries a link.
    pub(super) async fn confirm_path(&self) -> String {
        let mail = self.delivered_mail().await.pop().expect("a confirmation mail was delivered");
        let start = format!("{LINK_BASE}{}/register/confirm/", self.prefix);
        let (_, rest) = mail.body.split_once(&start).unwrap_or_else(|| panic!("no link in {:?}", mail.body));
        let token: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).collect();
        assert_eq!(rest.get(token.len()..token.len() + 1), Some("/"), "the link ends with a slash: {rest:?}");
        format!("{}/register/confirm/{token}/", self.prefix)
    }

    /// `GET path`.
    pub(super) async fn get(&self, path: &str) -> Reply {
        send(self.client.get(path)).await
    }

    /// The status of a JSON login.
    pub(super) async fn login_status(&self, username: &str, password: &str) -> StatusCode {
        let body = serde_json::json!({ "username": username, "password": password });
        send(self.client.post("/auth/login/").body_json(&body)).await.status
    }

    /// `POST path` with a JSON body given as text, so malformed and non-object bodies can be sent.
    pub(super) async fn post_json(&self, path: &str, body: &str) -> Reply {
        send(self.client.post(path).content_type("application/json").body(body.to_owned())).await
    }

    /// `POST /auth/register/` with a JSON body given as text.
    pub(super) async fn register(&self, body: &str) -> Reply {
        self.post_json("/auth/register/", body).await
    }

    /// `GET /auth/me/` with the given `Authorization` header, or none.
    pub(super) async fn me(&self, authorization: Option<HeaderValue>) -> Reply {
        let mut request = self.client.get("/auth/me/");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        send(request).await
    }

    /// `GET /auth/me/` with `Authorization: <value>`.
    pub(super) async fn me_with(&self, authorization: &str) -> Reply {
        self.me(Some(HeaderValue::from_str(authorization).expect("a valid header value"))).await
    }
}

impl TestAppBuilder {
    pub(super) fn registration(mut self, enabled: bool) -> Self {
        self.registration_enabled = enabled;
        self
    }

    pub(super) fn user_fields(mut self, fields: &[UserField]) -> Self {
        self.user_fields = Some(fields.to_vec());
        self
    }

    pub(super) fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = authtoken_http::parse_prefix(prefix).expect("a valid prefix");
        self
    }

    /// `Alice` and `alice` are the same user, at registration and at login.
    pub(super) fn case_insensitive(mut self) -> Self {
        self.case_insensitive = true;
        self
    }

    /// Turns email confirmation on: links under [`LINK_BASE`], valid for [`LINK_VALIDITY`], mailed with [`SUBJECT`]
    /// and [`MESSAGE`], or [`SUBJECT_DE`] and [`MESSAGE_DE`] for `de`.
    pub(super) fn confirmation(mut self) -> Self {
        self.confirmation = true;
        self
    }

    /// Sets the core's `require_confirmed_email_for_login`: an unconfirmed user cannot log in.
    pub(super) fn require_confirmed_email(mut self) -> Self {
        self.require_confirmed_email = true;
        self
    }

    /// Where a link that worked redirects; checked as the server checks it, with `app.example.org` allowed.
    pub(super) fn confirm_redirect(mut self, target: &str) -> Self {
        self.confirm_redirect = Some(redirect(target));
        self
    }

    /// Where an invalid link redirects instead of answering 400.
    pub(super) fn confirm_invalid_redirect(mut self, target: &str) -> Self {
        self.confirm_invalid_redirect = Some(redirect(target));
        self
    }

    /// Without `/openapi.json` and `/docs`.
    /// Password reset on; `form`: links open the built-in form (else they point at a front end of the test's own).
    pub(super) fn password_reset(mut self, form: bool) -> Self {
        self.reset_form = Some(form);
        self
    }

    /// Turns the throttles on with `limits`, counting in the backend's store.
    pub(super) fn throttles(mut self, limits: authtoken_core::throttle::Limits) -> Self {
        self.throttles = Some(limits);
        self
    }

    pub(super) fn docs_disabled(mut self) -> Self {
        self.docs_enabled = false;
        self
    }

    /// Scanner-safe mode: `GET` on a link shows a page, and only its `POST` confirms.
    pub(super) fn confirm_via_post(mut self) -> Self {
        self.confirm_via_post = true;
        self
    }

    /// What every login token starts with (the core's `token_prefix`).
    pub(super) fn token_prefix(mut self, prefix: &str) -> Self {
        self.token_prefix = authtoken_core::TokenPrefix::parse(prefix).expect("a valid token prefix");
        self
    }

    /// The origins whose pages may call the API from a browser, as the `cors_allowed_origins` setting writes them.
    pub(super) fn cors_allowed_origins(mut self, origins: &str) -> Self {
        self.cors_allowed_origins = AllowedOrigins::parse(origins).expect("valid origins");
        self
    }

    /// Replaces the session store (usually by a mock); users stay in the backend's store.
    pub(super) fn tokens(mut self, tokens: impl TokenRepo + 'static) -> Self {
        self.tokens = Some(Arc::new(tokens));
        self
    }

    /// Replaces the user store (usually by a mock); sessions stay in the backend's store.
    pub(super) fn users(mut self, users: impl UserRepo + 'static) -> Self {
        self.users = Some(Arc::new(users));
        self
    }

    /// The app over fresh, empty stores; `None` when the backend is not available here.
    pub(super) async fn build(self) -> Option<TestApp> {
        let Some(stores) = stores::fresh().await else {
            // The test does not run, so the expectations of its mocks must not be checked when they drop.
            std::mem::forget(self);
            return None;
        };
        let tokens = self.tokens.unwrap_or_else(|| Arc::clone(&stores.tokens));
        let users = self.users.unwrap_or_else(|| Arc::clone(&stores.users));
        let clock = FakeClock::at(fixtures::EPOCH);
        let ports = Ports {
            tokens: Arc::clone(&tokens),
            users: Arc::clone(&users),
            events: Arc::clone(&stores.events),
            hasher: Arc::new(FakePasswordHasher::default()),
            clock: Arc::new(clock.clone()),
        };
        let config = authtoken_core::Config {
            username_case_insensitive: self.case_insensitive,
            require_confirmed_email_for_login: self.require_confirmed_email,
            token_prefix: self.token_prefix,
            ..fixtures::config()
        };
        let mut service = AuthService::new(ports, config);
        if self.confirmation {
            service = service.with_confirmation(Arc::clone(&stores.confirmations), confirmation_settings(&self.prefix));
        }
        if let Some(form) = self.reset_form {
            let settings = super::reset::settings(&self.prefix, form);
            service = service.with_password_reset(Arc::clone(&stores.resets), settings).with_password_notice(
                authtoken_core::template::MailTemplates::new(super::reset::notice_template(), vec![]),
            );
        }
        if let Some(limits) = self.throttles {
            service = service.with_throttles(Arc::clone(&stores.throttles), limits);
        }
        let http = HttpConfig {
            prefix: self.prefix.clone(),
            registration_enabled: self.registration_enabled,
            user_fields: self.user_fields,
            confirm_redirect: self.confirm_redirect,
            confirm_invalid_redirect: self.confirm_invalid_redirect,
            confirm_via_post: self.confirm_via_post,
            docs_enabled: self.docs_enabled,
            password_reset_form: self.reset_form == Some(true),
            trusted_proxies: TrustedProxies::none(),
            cors_allowed_origins: self.cors_allowed_origins,
        };
        let client = TestClient::new(authtoken_http::app(service.clone(), http).map_to_response().boxed());
        Some(TestApp {
            client,
            service,
            tokens,
            users,
            outbox: Arc::clone(&stores.outbox),
            events: Arc::clone(&stores.events),
            mailbox: Arc::default(),
            clock,
            case_insensitive: self.case_insensitive,
            prefix: self.prefix,
            _stores: stores,
        })
    }
}

/// The confirmation settings of [`TestAppBuilder::confirmation`] for the routes under `prefix`.
fn confirmation_settings(prefix: &str) -> ConfirmationSettings {
    let template = |subject: &str, message: &str| MailTemplate {
        subject: Template::parse(subject).expect("a valid subject template"),
        message: Template::parse(message).expect("a valid message template"),
    };
    ConfirmationSettings {
        token_validity: LINK_VALIDITY,
        link_prefix: format!("{LINK_BASE}{prefix}/register/confirm/"),
        templates: MailTemplates::new(
            template(SUBJECT, MESSAGE),
            vec![("de".to_owned(), template(SUBJECT_DE, MESSAGE_DE))],
        ),
    }
}

/// A redirect target checked with `authtoken_http::parse_redirect`, allowing the host of [`LINK_BASE`].
fn redirect(target: &str) -> String {
    let allowed = ["app.example.org".to_owned()];
    authtoken_http::parse_redirect(target, &allowed).unwrap_or_else(|e| panic!("{e}"))
}

/// An active user as a store would return it, for mocks that must return one.
pub(super) fn stored_user(id: i64, username: &str) -> authtoken_core::User {
    authtoken_core::User {
        id: UserId(id),
        username: username.to_owned(),
        email: None,
        email_confirmed: false,
        is_active: true,
        joined_at: fixtures::EPOCH,
        last_login_at: None,
    }
}
