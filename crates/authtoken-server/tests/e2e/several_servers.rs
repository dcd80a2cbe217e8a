//! Three `authtoken serve` processes on one PostgreSQL database: a logout reaches every server at once, one name
//! makes one user, sessions are neither lost nor leaked, three outbox workers send each mail once, servers that
//! start together migrate the schema once, and a server killed under load loses no answered write while the other
//! two answer on.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use authtoken_sql::Backend;
use authtoken_sql::testing::TestDatabase;
use authtoken_testkit::SmtpSink;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::confirmation::{WAIT, confirming};
use crate::support::{CHEAP_ARGON2, Server, database};

const PASSWORD: &str = "correct horse";
const SUCCESS: &str = r#"{"success":true}"#;
const DUPLICATE: &str = r#"{"username":["A user with that username already exists."]}"#;

/// Cheap hashes and no throttles: every request here comes from one address, and `throttles.rs` tests the throttles.
const SETTINGS: [(&str, &str); 3] = [CHEAP_ARGON2[0], CHEAP_ARGON2[1], ("AUTHTOKEN_THROTTLE_ENABLED", "false")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn a_logout_on_one_server_is_refused_on_the_other_two_by_their_next_request() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let servers = Server::start_together(&database.options.url, &SETTINGS, 3);
    let bases = bases(&servers);
    let client = reqwest::Client::new();
    assert_eq!(register(&client, &bases[0], "alice").await, (StatusCode::CREATED, SUCCESS.to_owned()));

    for (one, base) in bases.iter().enumerate() {
        let token = login(&client, base, "alice", "e2e").await.unwrap();
        for (other, base) in bases.iter().enumerate() {
            assert!(works(&client, base, &token).await, "server {other} takes the token of a login on server {one}");
        }

        assert_eq!(logout(&client, base, &token).await, StatusCode::NO_CONTENT);

        for (other, base) in bases.iter().enumerate().filter(|(other, _)| *other != one) {
            assert!(!works(&client, base, &token).await, "server {other} takes a token logged out on server {one}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn registrations_of_one_name_racing_over_three_servers_make_exactly_one_user() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let servers = Server::start_together(&database.options.url, &SETTINGS, 3);
    let bases = bases(&servers);
    let client = reqwest::Client::new();
    let names = ["ada", "bea", "cyd", "dan", "eve"];
    let mut racing = JoinSet::new();

    for name in names {
        for attempt in 0..12 {
            let (client, base) = (client.clone(), bases[attempt % 3].clone());
            racing.spawn(async move { (name, register(&client, &base, name).await) });
        }
    }
    let answers = racing.join_all().await;

    for name in names {
        let mut answers: Vec<(StatusCode, String)> =
            answers.iter().filter(|(of, _)| *of == name).map(|(_, answer)| answer.clone()).collect();
        answers.sort_unstable();
        let mut expected = vec![(StatusCode::BAD_REQUEST, DUPLICATE.to_owned()); 11];
        expected.insert(0, (StatusCode::CREATED, SUCCESS.to_owned()));
        assert_eq!(answers, expected, "{name}");
    }
    let pool = pool(&database).await;
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT username, count(*) FROM users GROUP BY username ORDER BY username")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows, names.map(|name| (name.to_owned(), 1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn logins_and_logouts_spread_over_three_servers_lose_and_leak_no_session() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let servers = Server::start_together(&database.options.url, &SETTINGS, 3);
    let bases = Arc::new(bases(&servers));
    let client = reqwest::Client::new();
    for user in 0..4 {
        assert_eq!(register(&client, &bases[user % 3], &format!("user{user}")).await.0, StatusCode::CREATED);
    }
    let mut sessions = JoinSet::new();

    // Session `i` logs in on server `i % 3` and, when `i` is even, logs out on the next server.
    for i in 0..30 {
        let (client, bases) = (client.clone(), bases.clone());
        sessions.spawn(async move {
            let agent = format!("client/{i}");
            let token = login(&client, &bases[i % 3], &format!("user{}", i % 4), &agent).await.unwrap();
            for (server, base) in bases.iter().enumerate() {
                assert!(works(&client, base, &token).await, "{agent} on server {server} before its logout");
            }
            let kept = i % 2 == 1;
            if !kept {
                assert_eq!(logout(&client, &bases[(i + 1) % 3], &token).await, StatusCode::NO_CONTENT, "{agent}");
                for (server, base) in bases.iter().enumerate() {
                    assert!(!works(&client, base, &token).await, "{agent} on server {server} after its logout");
                }
            }
            (agent, token, kept)
        });
    }
    let sessions = sessions.join_all().await;

    for (agent, token, kept) in &sessions {
        for (server, base) in bases.iter().enumerate() {
            assert_eq!(works(&client, base, token).await, *kept, "{agent} on server {server} at the end");
        }
    }
    let pool = pool(&database).await;
    let stored: BTreeSet<String> =
        sqlx::query_scalar("SELECT user_agent FROM sessions").fetch_all(&pool).await.unwrap().into_iter().collect();
    let kept: BTreeSet<String> = sessions.into_iter().filter(|(_, _, kept)| *kept).map(|(agent, _, _)| agent).collect();
    assert_eq!(stored, kept, "the sessions table holds exactly the sessions not logged out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn three_outbox_workers_deliver_every_mail_exactly_once() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let sink = SmtpSink::start().await;
    // Each worker looks for due mail every 20 ms, so the three compete for the same entries while registrations come in.
    let extra = [("AUTHTOKEN_THROTTLE_ENABLED", "false"), ("AUTHTOKEN_OUTBOX_POLL_INTERVAL", "20ms")];
    let settings = confirming(&sink, &extra);
    let settings: Vec<(&str, &str)> = settings.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let servers = Server::start_together(&database.options.url, &settings, 3);
    let bases = bases(&servers);
    let client = reqwest::Client::new();
    let mut registrations = JoinSet::new();

    for user in 0..30 {
        let (client, base) = (client.clone(), bases[user % 3].clone());
        registrations.spawn(async move { register(&client, &base, &format!("user{user}")).await });
    }
    for answer in registrations.join_all().await {
        assert_eq!(answer, (StatusCode::CREATED, SUCCESS.to_owned()));
    }

    sink.wait_for(30, WAIT).await;
    let pool = pool(&database).await;
    let unsent = "SELECT count(*) FROM outbox WHERE state <> 'sent'";
    let deadline = tokio::time::Instant::now() + WAIT;
    while sqlx::query_scalar::<_, i64>(unsent).fetch_one(&pool).await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "some mail was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = sink.received();
    let mut recipients: Vec<String> = received.iter().flat_map(|mail| mail.rcpt_to.clone()).collect();
    recipients.sort_unstable();
    let mut expected: Vec<String> = (0..30).map(|user| format!("user{user}@example.org")).collect();
    expected.sort_unstable();
    assert_eq!(received.len(), 30, "one mail a registration");
    assert_eq!(recipients, expected, "each address once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn three_servers_started_at_once_on_an_empty_schema_come_up_and_apply_each_migration_once() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let pool = pool(&database).await;
    let tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()";
    assert_eq!(sqlx::query_scalar::<_, i64>(tables).fetch_one(&pool).await.unwrap(), 0, "the schema starts empty");

    let servers = Server::start_together(&database.options.url, &SETTINGS, 3);

    let client = reqwest::Client::new();
    for (server, base) in bases(&servers).iter().enumerate() {
        let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::OK, "server {server}");
    }
    let applied: Vec<(i64, i64, bool)> = sqlx::query_as(
        "SELECT version, count(*), bool_and(success) FROM _sqlx_migrations GROUP BY version ORDER BY version",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected: Vec<(i64, i64, bool)> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres"))
            .unwrap()
            .map(|file| {
                let name = file.unwrap().file_name().into_string().unwrap();
                (name.split('_').next().unwrap().parse().unwrap(), 1, true)
            })
            .collect();
    expected.sort_unstable();
    assert_eq!(applied, expected, "each migration applied once, successfully");
}

/// The server that [`a_server_killed_under_load_loses_no_answered_write_and_the_others_answer_on`] kills.
const KILLED: usize = 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
async fn a_server_killed_under_load_loses_no_answered_write_and_the_others_answer_on() {
    let Some(database) = database(Backend::Postgres).await else {
        return;
    };
    let mut servers = Server::start_together(&database.options.url, &SETTINGS, 3);
    let bases = Arc::new(bases(&servers));
    let client = reqwest::Client::builder().timeout(WAIT).build().unwrap();
    for user in 0..6 {
        assert_eq!(register(&client, &bases[0], &format!("user{user}")).await.0, StatusCode::CREATED);
    }
    let load = Arc::new(Load::default());
    let mut workers = JoinSet::new();
    for server in 0..3 {
        for worker in 0..3 {
            workers.spawn(requests(client.clone(), bases.clone(), load.clone(), server, worker));
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while load.answered_by_the_killed.load(Ordering::SeqCst) < 10 {
        assert!(tokio::time::Instant::now() < deadline, "the server to kill never answered ten requests");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    load.killing.store(true, Ordering::SeqCst);
    servers[KILLED].kill();
    load.killed.store(true, Ordering::SeqCst);
    let outcomes: Vec<Outcome> = workers.join_all().await.into_iter().flatten().collect();

    let cut_off = |o: &Outcome| o.server == KILLED && o.sent == Phase::Before && o.answer.is_err();
    assert!(outcomes.iter().any(cut_off), "the kill caught requests in flight");
    assert_survivors_answered_everything(&outcomes);
    assert_every_answered_write_is_stored(&pool(&database).await, &outcomes).await;
    for base in [&bases[0], &bases[2]] {
        let token = login(&client, base, "user0", "after the kill").await.unwrap();
        let everywhere = works(&client, &bases[0], &token).await && works(&client, &bases[2], &token).await;
        assert!(everywhere, "a login on {base} after the kill works on both servers left");
    }
}

/// What one request of the load asked for, when it was sent, and the status that came back or why none did.
#[derive(Debug)]
struct Outcome {
    server: usize,
    write: Write,
    sent: Phase,
    answer: Result<StatusCode, String>,
}

/// What a request writes, by what the database shows of it.
#[derive(Debug)]
enum Write {
    /// A registration, by its username.
    User(String),
    /// A login, by the user agent of its session.
    Session(String),
}

/// Where the kill stood when a request was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Before,
    /// The test had begun to kill the server, which may not yet have been gone.
    During,
    /// The killed server was gone.
    After,
}

/// What the load and the test know of each other.
#[derive(Debug, Default)]
struct Load {
    answered_by_the_killed: AtomicUsize,
    killing: AtomicBool,
    killed: AtomicBool,
}

impl Load {
    fn phase(&self) -> Phase {
        if self.killed.load(Ordering::SeqCst) {
            return Phase::After;
        }
        if self.killing.load(Ordering::SeqCst) {
            return Phase::During;
        }
        Phase::Before
    }
}

/// One worker of the load: registrations and logins in turn on `server`, until the killed server leaves a request
/// unanswered, or, on the others, until ten requests were sent after the kill; at most 300 in any case.
async fn requests(
    client: reqwest::Client,
    bases: Arc<Vec<String>>,
    load: Arc<Load>,
    server: usize,
    worker: usize,
) -> Vec<Outcome> {
    let base = &bases[server];
    let mut outcomes: Vec<Outcome> = Vec::new();
    for request in 0..300 {
        if outcomes.iter().filter(|outcome| outcome.sent == Phase::After).count() == 10 {
            break;
        }
        let sent = load.phase();
        let (write, answer) = if request % 2 == 0 {
            let name = format!("new-{server}-{worker}-{request}");
            let body = json!({ "username": name, "password": PASSWORD });
            (Write::User(name), client.post(format!("{base}/auth/register/")).json(&body).send().await)
        } else {
            let agent = format!("load-{server}-{worker}-{request}");
            let body = json!({ "username": format!("user{}", (worker + request) % 6), "password": PASSWORD });
            let post = client.post(format!("{base}/auth/login/")).header("User-Agent", &agent).json(&body);
            (Write::Session(agent), post.send().await)
        };
        let answer = answer.map(|response| response.status()).map_err(|e| e.to_string());
        let outcome = Outcome { server, write, sent, answer };
        if server == KILLED && answered(&outcome) {
            load.answered_by_the_killed.fetch_add(1, Ordering::SeqCst);
        }
        let unanswered = outcome.answer.is_err();
        outcomes.push(outcome);
        if server == KILLED && unanswered {
            break;
        }
    }
    outcomes
}

/// Whether the request was answered with success: a registration 201, a login 200.
fn answered(outcome: &Outcome) -> bool {
    let expected = match outcome.write {
        Write::User(_) => StatusCode::CREATED,
        Write::Session(_) => StatusCode::OK,
    };
    outcome.answer.as_ref().is_ok_and(|status| *status == expected)
}

/// The servers that were not killed answered every request with success, before, during and after the kill.
#[track_caller]
fn assert_survivors_answered_everything(outcomes: &[Outcome]) {
    let survivors: Vec<&Outcome> = outcomes.iter().filter(|outcome| outcome.server != KILLED).collect();
    let failed: Vec<&Outcome> = survivors.iter().copied().filter(|outcome| !answered(outcome)).collect();
    assert!(failed.is_empty(), "the other servers answer every request: {failed:?}");
    for server in (0..3).filter(|server| *server != KILLED) {
        let after = survivors.iter().filter(|o| o.server == server && o.sent == Phase::After).count();
        assert!(after > 0, "server {server} answered requests sent after the kill");
    }
}

/// Every user whose registration was answered 201, and every session whose login was answered 200, is stored.
async fn assert_every_answered_write_is_stored(pool: &sqlx::PgPool, outcomes: &[Outcome]) {
    let users: BTreeSet<String> =
        sqlx::query_scalar("SELECT username FROM users").fetch_all(pool).await.unwrap().into_iter().collect();
    let agents: BTreeSet<String> =
        sqlx::query_scalar("SELECT user_agent FROM sessions").fetch_all(pool).await.unwrap().into_iter().collect();
    let lost: Vec<&Outcome> = outcomes
        .iter()
        .filter(|outcome| answered(outcome))
        .filter(|outcome| match &outcome.write {
            Write::User(name) => !users.contains(name),
            Write::Session(agent) => !agents.contains(agent),
        })
        .collect();
    assert!(lost.is_empty(), "every answered write is in the database: {lost:?}");
}

fn bases(servers: &[Server]) -> Vec<String> {
    servers.iter().map(|server| server.base.clone()).collect()
}

async fn pool(database: &TestDatabase) -> sqlx::PgPool {
    sqlx::PgPool::connect(&database.options.url).await.unwrap()
}

/// Registers `username` with [`PASSWORD`] and the address `username@example.org`: the status and the body.
async fn register(client: &reqwest::Client, base: &str, username: &str) -> (StatusCode, String) {
    let body = json!({ "username": username, "password": PASSWORD, "email": format!("{username}@example.org") });
    let response = client.post(format!("{base}/auth/register/")).json(&body).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Logs in with [`PASSWORD`]: the token, or the status of the refusal.
async fn login(client: &reqwest::Client, base: &str, username: &str, agent: &str) -> Result<String, StatusCode> {
    let body = json!({ "username": username, "password": PASSWORD });
    let response =
        client.post(format!("{base}/auth/login/")).header("User-Agent", agent).json(&body).send().await.unwrap();
    if response.status() != StatusCode::OK {
        return Err(response.status());
    }
    let body: Value = response.json().await.unwrap();
    Ok(body["token"].as_str().expect("a token").to_owned())
}

/// Whether `token` authenticates on the server at `base`.
async fn works(client: &reqwest::Client, base: &str, token: &str) -> bool {
    let me = client.get(format!("{base}/auth/me/")).header("Authorization", format!("Token {token}"));
    let status = me.send().await.unwrap().status();
    assert!(status == StatusCode::OK || status == StatusCode::UNAUTHORIZED, "{status}");
    status == StatusCode::OK
}

async fn logout(client: &reqwest::Client, base: &str, token: &str) -> StatusCode {
    let logout = client.delete(format!("{base}/auth/logout/")).header("Authorization", format!("Token {token}"));
    logout.send().await.unwrap().status()
}
