//! The throttles: what each use case counts, that a throttled login costs no hash, and how an account's owner gets
//! back in.

use std::sync::Arc;
use std::time::Duration;

use authtoken_core::ports::{HashError, PasswordHasher};
use authtoken_core::service::{
    Authenticated, ChangePasswordError, LoginError, ReauthError, RegisterError, ResetRequestError, Throttled,
};
use authtoken_core::session::{ClientInfo, Revoke};
use authtoken_core::throttle::Limits;
use authtoken_core::user::{Password, PasswordHash};
use authtoken_testkit::FakePasswordHasher;
use authtoken_testkit::fixtures::{limits_off, rate};

use crate::support::{App, PASSWORD, client, email_form, form, from, password, text};

const ATTACKER: &str = "198.51.100.7";
const OWNER: &str = "203.0.113.9";

fn throttled(mut app: App, limits: Limits) -> App {
    app.service = app.service.clone().with_throttles(Arc::new(app.store.clone()), limits);
    app
}

async fn login_from(app: &App, username: &str, secret: &str, ip: &str) -> Result<(), LoginError> {
    let client = ClientInfo::new(None, Some(ip.to_owned()));
    app.service.login(username, &password(secret), client).await.map(drop)
}

fn wait_of(result: Result<(), LoginError>) -> Duration {
    match result {
        Err(LoginError::Throttled(Throttled { wait })) => wait,
        other => panic!("expected a throttled login, got {other:?}"),
    }
}

#[tokio::test]
async fn failed_logins_from_one_address_are_throttled_without_a_hash_and_other_addresses_are_not() {
    let app = throttled(App::new(), Limits { login_failures_ip_account: rate(3, 60), ..limits_off() });
    app.register("alice", PASSWORD).await;
    for _ in 0..3 {
        assert!(matches!(login_from(&app, "alice", "guess", ATTACKER).await, Err(LoginError::InvalidCredentials)));
    }
    let hashed = app.hasher.verifications();

    let wait = wait_of(login_from(&app, "alice", PASSWORD, ATTACKER).await);

    assert_eq!(wait, Duration::from_secs(20));
    assert_eq!(app.hasher.verifications(), hashed, "a throttled login costs no hash");
    login_from(&app, "alice", PASSWORD, OWNER).await.expect("the owner's address is not throttled");
    app.clock.advance(Duration::from_secs(20));
    login_from(&app, "alice", PASSWORD, ATTACKER).await.expect("one more attempt after the wait");
}

#[tokio::test]
async fn unknown_accounts_are_throttled_exactly_like_known_ones() {
    let app = throttled(App::new(), Limits { login_failures_ip_account: rate(2, 60), ..limits_off() });
    app.register("alice", PASSWORD).await;
    for name in ["alice", "nobody"] {
        for _ in 0..2 {
            assert!(login_from(&app, name, "guess", ATTACKER).await.is_err());
        }

        assert_eq!(wait_of(login_from(&app, name, "guess", ATTACKER).await), Duration::from_secs(30), "{name}");
    }
}

#[tokio::test]
async fn a_successful_login_counts_no_failure() {
    let app = throttled(App::new(), Limits { login_failures_ip_account: rate(2, 60), ..limits_off() });
    app.register("alice", PASSWORD).await;

    for _ in 0..10 {
        login_from(&app, "alice", PASSWORD, OWNER).await.expect("a good password is never throttled by failures");
    }
}

#[tokio::test]
async fn the_account_limit_bounds_a_guess_spread_over_many_addresses() {
    let limits =
        Limits { login_failures_ip_account: rate(3, 60), login_failures_account: rate(5, 3_600), ..limits_off() };
    let app = throttled(App::new(), limits);
    app.register("alice", PASSWORD).await;
    let mut admitted = 0;
    for host in 1..=20 {
        if matches!(
            login_from(&app, "alice", "guess", &format!("198.51.100.{host}")).await,
            Err(LoginError::InvalidCredentials)
        ) {
            admitted += 1;
        }
    }

    assert_eq!(admitted, 5);
    assert_eq!(wait_of(login_from(&app, "alice", PASSWORD, OWNER).await), Duration::from_secs(720));
}

#[tokio::test]
async fn a_password_reset_lets_the_owner_back_in_after_a_spread_guess() {
    let app = throttled(crate::reset::app().await, Limits { login_failures_account: rate(3, 86_400), ..limits_off() });
    for host in 1..=3 {
        assert!(login_from(&app, "alice", "guess", &format!("198.51.100.{host}")).await.is_err());
    }
    assert!(matches!(login_from(&app, "alice", PASSWORD, OWNER).await, Err(LoginError::Throttled(_))));

    let token = crate::reset::reset_token(&app, "alice@example.org").await;
    app.service.reset_password(&token, text("a new horse"), &client()).await.unwrap();

    login_from(&app, "alice", "a new horse", OWNER).await.expect("the reset forgot the account's failures");
}

/// Fails three logins of alice, each from an address of its own numbered from `first`.
async fn spread_guess(app: &App, first: u8) {
    for host in first..first + 3 {
        let result = login_from(app, "alice", "guess", &format!("198.51.100.{host}")).await;
        assert!(matches!(result, Err(LoginError::InvalidCredentials | LoginError::Throttled(_))), "{result:?}");
    }
}

#[tokio::test]
async fn the_address_a_reset_came_from_is_not_kept_out_when_the_guess_starts_again() {
    let app = throttled(crate::reset::app().await, Limits { login_failures_account: rate(3, 86_400), ..limits_off() });
    spread_guess(&app, 1).await;
    let token = crate::reset::reset_token(&app, "alice@example.org").await;
    app.service.reset_password(&token, text("a new horse"), &from(OWNER)).await.unwrap();

    spread_guess(&app, 10).await;

    login_from(&app, "alice", "a new horse", OWNER).await.expect("the owner's address is let through");
    assert!(matches!(login_from(&app, "alice", "a new horse", ATTACKER).await, Err(LoginError::Throttled(_))));
    app.clock.advance(Duration::from_secs(86_400));
    spread_guess(&app, 20).await;
    let a_day_later = login_from(&app, "alice", "a new horse", "203.0.113.10").await;
    assert!(matches!(a_day_later, Err(LoginError::Throttled(_))), "the mark lasts a day: {a_day_later:?}");
}

#[tokio::test]
async fn an_address_with_a_live_session_is_not_kept_out_by_the_account_limit_alone() {
    let limits =
        Limits { login_failures_account: rate(3, 86_400), login_failures_ip_account: rate(10, 900), ..limits_off() };
    let app = throttled(App::new(), limits);
    app.register("alice", PASSWORD).await;
    login_from(&app, "alice", PASSWORD, OWNER).await.unwrap();
    spread_guess(&app, 1).await;
    let hashed = app.hasher.verifications();

    assert!(matches!(login_from(&app, "alice", PASSWORD, "203.0.113.10").await, Err(LoginError::Throttled(_))));
    assert!(matches!(login_from(&app, "alice", "guess", "198.51.100.1").await, Err(LoginError::Throttled(_))));
    assert_eq!(app.hasher.verifications(), hashed, "refusals cost no hash, whether or not the account exists");
    login_from(&app, "alice", PASSWORD, OWNER).await.expect("the address of a live session is let through");
    // The owner's address keeps its own failure limit.
    for _ in 0..10 {
        assert!(matches!(login_from(&app, "alice", "typo", OWNER).await, Err(LoginError::InvalidCredentials)));
    }
    assert!(matches!(login_from(&app, "alice", PASSWORD, OWNER).await, Err(LoginError::Throttled(_))));
}

#[tokio::test]
async fn a_live_session_does_not_lift_the_limit_on_attempts_from_its_address() {
    let limits = Limits { login_ip: rate(2, 60), login_failures_account: rate(1, 86_400), ..limits_off() };
    let app = throttled(App::new(), limits);
    app.register("alice", PASSWORD).await;
    login_from(&app, "alice", PASSWORD, OWNER).await.unwrap();
    spread_guess(&app, 1).await;
    login_from(&app, "alice", PASSWORD, OWNER).await.expect("the second attempt from the owner's address");

    assert!(matches!(login_from(&app, "alice", PASSWORD, OWNER).await, Err(LoginError::Throttled(_))));
}

#[tokio::test]
async fn every_login_attempt_counts_against_the_address() {
    let app = throttled(App::new(), Limits { login_ip: rate(3, 60), ..limits_off() });
    app.register("alice", PASSWORD).await;
    login_from(&app, "alice", PASSWORD, ATTACKER).await.unwrap();
    login_from(&app, "alice", "guess", ATTACKER).await.unwrap_err();
    login_from(&app, "bob", "guess", ATTACKER).await.unwrap_err();

    assert_eq!(wait_of(login_from(&app, "alice", PASSWORD, ATTACKER).await), Duration::from_secs(20));
    login_from(&app, "alice", PASSWORD, OWNER).await.expect("another address has its own count");
}

#[tokio::test]
async fn an_ipv6_client_is_counted_by_its_64_network() {
    let app = throttled(App::new(), Limits { login_ip: rate(2, 60), ..limits_off() });
    app.register("alice", PASSWORD).await;
    login_from(&app, "alice", PASSWORD, "2001:db8:1:2::1").await.unwrap();
    login_from(&app, "alice", PASSWORD, "2001:db8:1:2::2").await.unwrap();

    assert!(matches!(login_from(&app, "alice", PASSWORD, "2001:db8:1:2::3").await, Err(LoginError::Throttled(_))));
    login_from(&app, "alice", PASSWORD, "2001:db8:1:3::1").await.expect("another /64 has its own count");
}

/// Alice, logged in, as a request of hers authenticates.
async fn alice(app: &App) -> Authenticated {
    app.register("alice", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    app.authenticate(&token).await.expect("the token authenticates")
}

#[tokio::test]
async fn wrong_reentered_passwords_count_as_failed_logins_and_are_throttled_without_a_hash() {
    let app = throttled(App::new(), Limits { login_failures_ip_account: rate(4, 60), ..limits_off() });
    let auth = alice(&app).await;
    let wrong = password("guess");
    let client = from(ATTACKER);
    assert!(matches!(app.service.logout_others(&auth, &wrong, &client).await, Err(ReauthError::WrongPassword)));
    assert!(matches!(app.service.logout_all(&auth, &wrong, &client).await, Err(ReauthError::WrongPassword)));
    let changed = app.service.change_password(&auth, &wrong, text("a new horse"), true, &client).await;
    assert!(matches!(changed, Err(ChangePasswordError::WrongPassword)), "{changed:?}");
    assert!(matches!(app.service.delete_account(&auth, &wrong, &client).await, Err(ReauthError::WrongPassword)));
    let hashed = app.hasher.verifications();

    let right = password(PASSWORD);
    assert!(matches!(app.service.delete_account(&auth, &right, &client).await, Err(ReauthError::Throttled(_))));
    assert!(matches!(
        app.service.change_password(&auth, &right, text("a new horse"), true, &client).await,
        Err(ChangePasswordError::Throttled(_))
    ));
    assert!(matches!(login_from(&app, "alice", PASSWORD, ATTACKER).await, Err(LoginError::Throttled(_))));
    assert_eq!(app.hasher.verifications(), hashed);
    app.service.logout_others(&auth, &right, &from(OWNER)).await.expect("another address is not throttled");
}

#[tokio::test]
async fn registrations_are_counted_per_address_before_anything_is_checked() {
    let app = throttled(App::new(), Limits { register_ip: rate(2, 3_600), ..limits_off() });
    let from = |ip: &str| authtoken_core::service::RegistrationForm { client: from(ip), ..form("x", "short") };
    assert!(matches!(app.service.register(from(ATTACKER)).await, Err(RegisterError::Invalid(_))));
    assert!(matches!(app.service.register(from(ATTACKER)).await, Err(RegisterError::Invalid(_))));

    let third = app.service.register(from(ATTACKER)).await;

    assert!(matches!(third, Err(RegisterError::Throttled(Throttled { wait })) if wait == Duration::from_secs(1_800)));
    assert!(matches!(app.service.register(from(OWNER)).await, Err(RegisterError::Invalid(_))));
}

#[tokio::test]
async fn confirmation_mails_to_one_address_are_counted_whatever_the_case() {
    let app = throttled(App::confirming(), Limits { mail_address: rate(1, 3_600), ..limits_off() });
    app.service.register(email_form("alice", "Alice@Example.org")).await.unwrap();

    let again = app.service.register(email_form("alice2", "alice@example.ORG")).await;

    assert!(matches!(again, Err(RegisterError::Throttled(_))), "{again:?}");
    app.service.register(email_form("bob", "bob@example.org")).await.expect("another address has its own count");
}

#[tokio::test]
async fn reset_requests_are_counted_per_address_and_per_client_whether_or_not_the_address_is_known() {
    let limits = Limits { mail_address: rate(2, 3_600), mail_ip: rate(6, 3_600), ..limits_off() };
    let app = throttled(crate::reset::app().await, limits);
    for email in ["nobody@example.org", "alice@example.org"] {
        for _ in 0..2 {
            app.service.request_password_reset(text(email), &[], &from(OWNER)).await.unwrap();
        }
        let third = app.service.request_password_reset(text(email), &[], &from(OWNER)).await;
        assert!(matches!(third, Err(ResetRequestError::Throttled(_))), "{email}: {third:?}");
    }

    // Six requests from the owner's address counted against it (a request refused for its address counts too).
    let other = app.service.request_password_reset(text("carol@example.org"), &[], &from(OWNER)).await;
    assert!(matches!(other, Err(ResetRequestError::Throttled(_))), "{other:?}");
    app.service.request_password_reset(text("carol@example.org"), &[], &from(ATTACKER)).await.unwrap();
}

#[tokio::test]
async fn purge_forgets_keys_whose_time_has_passed() {
    let app = throttled(App::new(), Limits { login_ip: rate(1, 60), ..limits_off() });
    app.register("alice", PASSWORD).await;
    login_from(&app, "alice", PASSWORD, ATTACKER).await.unwrap();

    assert_eq!(app.service.purge_throttles().await.unwrap(), 0);
    app.clock.advance(Duration::from_secs(60));
    assert_eq!(app.service.purge_throttles().await.unwrap(), 1);
}

#[tokio::test]
async fn an_operator_setting_the_password_lets_the_user_back_in() {
    let app = throttled(App::new(), Limits { login_failures_account: rate(3, 86_400), ..limits_off() });
    let alice = app.register("alice", PASSWORD).await;
    spread_guess(&app, 1).await;
    assert!(matches!(login_from(&app, "alice", PASSWORD, OWNER).await, Err(LoginError::Throttled(_))));

    app.service.set_password(alice.id, password("a new horse"), &Revoke::All).await.unwrap();

    login_from(&app, "alice", "a new horse", OWNER).await.expect("the operator's new password forgot the failures");
}

/// A hasher that takes 50 ms a verification, so that attempts made at once are checked at once.
struct SlowHasher(FakePasswordHasher);

#[async_trait::async_trait]
impl PasswordHasher for SlowHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        self.0.hash(password).await
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.0.verify(password, hash).await
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        self.0.needs_rehash(hash)
    }

    async fn verify_dummy(&self, password: &Password) -> Result<(), HashError> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.0.verify_dummy(password).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attempts_made_at_once_get_no_more_guesses_than_the_limit() {
    let app = App::new();
    app.register("alice", PASSWORD).await;
    let limits =
        Limits { login_failures_ip_account: rate(3, 3_600), login_failures_account: rate(5, 3_600), ..limits_off() };
    let service = app
        .service_with(|ports| ports.hasher = Arc::new(SlowHasher(FakePasswordHasher::default())))
        .with_throttles(Arc::new(app.store.clone()), limits);
    let attempt = |ip: String| {
        let service = service.clone();
        tokio::spawn(async move { service.login("alice", &password("guess"), ClientInfo::new(None, Some(ip))).await })
    };

    let from_one: Vec<_> = (0..12).map(|_| attempt(ATTACKER.to_owned())).collect();
    let mut checked = 0;
    for result in from_one {
        match result.await.unwrap() {
            Err(LoginError::InvalidCredentials) => checked += 1,
            Err(LoginError::Throttled(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(checked, 3, "one address gets its three guesses, however many it sends at once");

    let from_many: Vec<_> = (1..=12).map(|host| attempt(format!("198.51.100.{host}"))).collect();
    let mut checked = 0;
    for result in from_many {
        if matches!(result.await.unwrap(), Err(LoginError::InvalidCredentials)) {
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "the account gets five guesses in all");
}
