//! The scenarios: seeding over HTTP, then one wrk load after another, two at once for the login flood, and one a
//! server at once for servers that share a database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::http;
use super::lua::{self, Variant};
use super::options::Plan;
use super::server::Server;
use super::wrk::{Load, Measurement, Running, Wrk};

/// The password of every seeded and registered user.
const PASSWORD: &str = "bench-password-0123";
/// How long wrk waits for an answer before it counts a timeout: logins queue behind the hashing bound.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The scenarios, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scenario {
    /// `GET /healthz`: the framework's ceiling.
    Healthz,
    /// `GET {prefix}/me/` with a valid token.
    Me,
    /// `POST {prefix}/login/` of a seeded user.
    Login,
    /// `POST {prefix}/register/` with a new username each time.
    Register,
    /// `GET {prefix}/me/` while a login flood runs beside it.
    MeDuringFlood,
    /// The login flood itself.
    FloodLogin,
}

/// One scenario's measurement, and the server's peak RSS once it was over.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub scenario: Scenario,
    pub measurement: Measurement,
    pub connections: usize,
    pub peak_rss_after: u64,
    /// The server's threads once the scenario was over (tokio workers, blocking pool, SQLite workers).
    pub threads_after: u64,
}

/// Everything a scenario needs.
#[derive(Debug)]
pub(super) struct Runner<'a> {
    pub wrk: &'a Wrk,
    pub server: &'a Server,
    pub dir: &'a Path,
    pub plan: &'a Plan,
    pub prefix: &'a str,
}

/// Seeded users' credentials and one token each.
#[derive(Debug)]
struct Seeded {
    users: Vec<String>,
    tokens: Vec<String>,
}

impl Scenario {
    /// The key used in the JSON report.
    pub(super) fn key(self) -> &'static str {
        match self {
            Self::Healthz => "healthz",
            Self::Me => "me",
            Self::Login => "login",
            Self::Register => "register",
            Self::MeDuringFlood => "me_during_login_flood",
            Self::FloodLogin => "login_flood",
        }
    }

    /// The label in the table.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Healthz => "GET /healthz (ceiling)",
            Self::Me => "GET /auth/me/ (token auth)",
            Self::Login => "POST /auth/login/",
            Self::Register => "POST /auth/register/",
            Self::MeDuringFlood => "GET /auth/me/ during login flood",
            Self::FloodLogin => "POST /auth/login/ (the flood)",
        }
    }
}

impl Runner<'_> {
    /// Seeds users whose names start with `run_id`, warms up, and runs every scenario.
    pub(super) fn run_all(&self, run_id: &str) -> anyhow::Result<Vec<Row>> {
        let seeded = self.seed(run_id, self.plan.users)?;
        let me = self.me_script(&seeded.tokens)?;
        let healthz = self.healthz_script()?;
        let login =
            self.script("login.lua", &lua::rotating("POST", &self.path("/login/"), &login_variants(&seeded.users)))?;
        let register = self.script(
            "register.lua",
            &lua::unique_registrations(&self.path("/register/"), &format!("{run_id}-r"), PASSWORD),
        )?;

        eprintln!("bench: warming up for {} s", self.plan.warm_up.as_secs());
        self.wrk.run(&self.load(&me, self.plan.connections, self.plan.threads, self.plan.warm_up))?;
        let mut rows = Vec::new();
        for (scenario, script) in [
            (Scenario::Healthz, &healthz),
            (Scenario::Me, &me),
            (Scenario::Login, &login),
            (Scenario::Register, &register),
        ] {
            eprintln!("bench: {} for {} s", scenario.label(), self.plan.scenario.as_secs());
            let measurement =
                self.wrk.run(&self.load(script, self.plan.connections, self.plan.threads, self.plan.scenario))?;
            rows.push(self.row(scenario, measurement, self.plan.connections)?);
        }
        rows.extend(self.login_flood(&me, &login)?);
        Ok(rows)
    }

    /// Authenticated load while a login flood saturates hashing: the flood starts first and ends last.
    fn login_flood(&self, me: &Path, login: &Path) -> anyhow::Result<[Row; 2]> {
        eprintln!("bench: {} for {} s", Scenario::MeDuringFlood.label(), self.plan.scenario.as_secs());
        let flood = self.wrk.spawn(&self.load(
            login,
            self.plan.flood_connections,
            1,
            self.plan.scenario + Duration::from_secs(2),
        ))?;
        std::thread::sleep(Duration::from_secs(1));
        let me = self.wrk.run(&self.load(me, self.plan.connections, self.plan.threads, self.plan.scenario));
        let flood = flood.finish()?;
        let me = me?;
        Ok([
            self.row(Scenario::MeDuringFlood, me, self.plan.connections)?,
            self.row(Scenario::FloodLogin, flood, self.plan.flood_connections)?,
        ])
    }

    /// Seeds `sessions` tokens and writes the script of `GET {prefix}/me/` that sends them in rotation.
    pub(super) fn seed_me(&self, run_id: &str, sessions: usize) -> anyhow::Result<PathBuf> {
        let seeded = self.seed(run_id, sessions)?;
        self.me_script(&seeded.tokens)
    }

    /// Writes the script of `GET /healthz`, the framework's ceiling.
    pub(super) fn healthz_script(&self) -> anyhow::Result<PathBuf> {
        self.script("healthz.lua", &lua::rotating("GET", "/healthz", &[Variant { headers: vec![], body: None }]))
    }

    /// Runs `script` on the plan's connections and threads for `duration`.
    pub(super) fn measure(&self, script: &Path, duration: Duration) -> anyhow::Result<Measurement> {
        self.wrk.run(&self.load(script, self.plan.connections, self.plan.threads, duration))
    }

    /// Registers `plan.users` users and logs them in, in turn, until there are `sessions` tokens (at least one a
    /// user); checks that a token authenticates.
    fn seed(&self, run_id: &str, sessions: usize) -> anyhow::Result<Seeded> {
        let sessions = sessions.max(self.plan.users);
        eprintln!("bench: seeding {} users and {sessions} tokens", self.plan.users);
        let addr = self.server.addr;
        let healthz = http::send(addr, "GET", "/healthz", &[], "")?;
        if healthz.status != 200 {
            bail!("GET /healthz answered {}: {}", healthz.status, healthz.body);
        }
        let mut seeded = Seeded { users: Vec::new(), tokens: Vec::new() };
        for n in 0..self.plan.users {
            let username = format!("{run_id}-seed-{n}");
            let credentials = serde_json::json!({ "username": username, "password": PASSWORD });
            http::post_json(addr, &self.path("/register/"), &credentials, 201)?;
            seeded.users.push(username);
        }
        for n in 0..sessions {
            let credentials =
                serde_json::json!({ "username": seeded.users[n % self.plan.users], "password": PASSWORD });
            let body = http::post_json(addr, &self.path("/login/"), &credentials, 200)?;
            let login: serde_json::Value = serde_json::from_str(&body).context("the login answer is not JSON")?;
            let token = login["token"].as_str().with_context(|| format!("the login answer has no token: {body}"))?;
            seeded.tokens.push(token.to_owned());
        }
        check_token(addr, &self.path("/me/"), &seeded.tokens[0])?;
        Ok(seeded)
    }

    fn me_script(&self, tokens: &[String]) -> anyhow::Result<PathBuf> {
        self.script("me.lua", &lua::rotating("GET", &self.path("/me/"), &token_variants(tokens)))
    }

    fn row(&self, scenario: Scenario, measurement: Measurement, connections: usize) -> anyhow::Result<Row> {
        Ok(Row {
            scenario,
            measurement,
            connections,
            peak_rss_after: self.server.peak_rss()?,
            threads_after: self.server.threads()?,
        })
    }

    fn load<'s>(&self, script: &'s Path, connections: usize, threads: usize, duration: Duration) -> Load<'s> {
        let url = format!("http://{}/", self.server.addr);
        Load { url, script, connections, threads: threads.min(connections), duration, timeout: TIMEOUT }
    }

    fn script(&self, name: &str, text: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    fn path(&self, route: &str) -> String {
        format!("{}{route}", self.prefix)
    }
}

/// Runs `script` on every runner's server at once for `duration`, one wrk a server, and takes their measurements
/// side by side (see [`Measurement::side_by_side`]): the plan's connections are shared out among the servers, and
/// its threads too, one at least for each wrk.
pub(super) fn measure_side_by_side(
    runners: &[Runner<'_>],
    script: &Path,
    duration: Duration,
) -> anyhow::Result<Measurement> {
    let Some(plan) = runners.first().map(|runner| runner.plan) else { bail!("no server to load") };
    let threads = (plan.threads / runners.len()).max(1);
    let mut running = Vec::new();
    for (n, runner) in runners.iter().enumerate() {
        let connections = share(plan.connections, runners.len(), n);
        running.push(runner.wrk.spawn(&runner.load(script, connections, threads, duration))?);
    }
    // Every wrk is waited for before an error is reported.
    let finished: Vec<anyhow::Result<Measurement>> = running.into_iter().map(Running::finish).collect();
    let measurements = finished.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Measurement::side_by_side(&measurements).context("no server to load")
}

/// The connections of the `n`th of `count` loads that share `total`: as even as can be, the last ones one more.
pub(super) fn share(total: usize, count: usize, n: usize) -> usize {
    total / count + usize::from(n >= count - total % count)
}

fn check_token(addr: SocketAddr, path: &str, token: &str) -> anyhow::Result<()> {
    let me = http::send(addr, "GET", path, &[("Authorization", &format!("Token {token}"))], "")?;
    if me.status != 200 {
        bail!("GET {path} with a fresh token answered {}: {}", me.status, me.body);
    }
    Ok(())
}

fn token_variants(tokens: &[String]) -> Vec<Variant> {
    tokens
        .iter()
        .map(|token| Variant { headers: vec![("Authorization".to_owned(), format!("Token {token}"))], body: None })
        .collect()
}

fn login_variants(users: &[String]) -> Vec<Variant> {
    users
        .iter()
        .map(|username| Variant {
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: Some(serde_json::json!({ "username": username, "password": PASSWORD }).to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(total: usize, count: usize, expected: &[usize]) {
        let shares: Vec<usize> = (0..count).map(|n| share(total, count, n)).collect();
        assert_eq!(shares, expected, "{total} among {count}");
    }

    #[test]
    fn connections_are_shared_out_evenly_and_add_up() {
        check(64, 1, &[64]);
        check(64, 2, &[32, 32]);
        check(64, 3, &[21, 21, 22]);
        check(10, 4, &[2, 2, 3, 3]);
        check(8, 8, &[1; 8]);
    }
}
