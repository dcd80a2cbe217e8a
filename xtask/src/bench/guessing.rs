//! `cargo xtask bench --guessing`: a scripted password-guessing attack on loopback against a server with the default
//! throttles, and beside it a second client that logs in to another account from another address once a second.
//!
//! The server trusts 127.0.0.1 as a proxy, so each request names its client address in `X-Forwarded-For`: the attack
//! from one address sends one address, the distributed attack a new address with every request. wrk counts the
//! answers by status in its Lua `response` hook: a 401 is a guess whose password was checked, a 429 a throttled one
//! that cost no hash.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use super::options::{Options, Plan};
use super::server::Server;
use super::wrk::{Load, Measurement, Wrk};
use super::{http, lua};

/// The address of the client that is not attacking.
const OTHER_CLIENT: &str = "203.0.113.9";
/// The address of the attack from one address.
const ATTACKER: &str = "198.51.100.7";
const PASSWORD: &str = "correct horse battery";

/// How an attack picks its client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Spread {
    /// Every request from [`ATTACKER`].
    OneAddress,
    /// Every request from a new address.
    EveryRequest,
}

/// One attack and the other client's logins beside it.
#[derive(Debug)]
pub(super) struct Attack {
    pub spread: Spread,
    pub seconds: u64,
    pub counts: Counts,
    pub attacker: Measurement,
    pub other: Measurement,
    pub other_counts: Counts,
}

/// Answers by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub ok: u64,
    pub unauthorized: u64,
    pub throttled: u64,
    pub other: u64,
}

/// What the run measured.
#[derive(Debug)]
pub(super) struct Guessing {
    /// The other client alone, before any attack.
    pub baseline: Measurement,
    pub baseline_counts: Counts,
    pub attacks: Vec<Attack>,
}

/// Runs the baseline, then the attack from one address for at least 100 s (so that the refill after the burst shows),
/// then the distributed attack, each against an account of its own.
pub(super) fn measure(binary: &Path, wrk: &Wrk, options: &Options, plan: &Plan) -> anyhow::Result<Guessing> {
    let dir = tempfile::Builder::new()
        .prefix("authtoken-bench-guessing-")
        .tempdir()
        .context("cannot make a temporary directory")?;
    let mut env: BTreeMap<String, String> = super::server_env(options, &dir.path().join("bench.sqlite3"));
    // The throttles as they are by default, unless --set says otherwise; loopback is the proxy that names clients.
    env.remove("AUTHTOKEN_THROTTLE_ENABLED");
    for (name, value) in &options.settings {
        env.insert(format!("AUTHTOKEN_{}", name.to_uppercase()), value.clone());
    }
    env.insert("AUTHTOKEN_TRUSTED_PROXIES".to_owned(), "127.0.0.1".to_owned());
    let server = Server::start(binary, dir.path(), &env)?;
    let prefix = super::prefix(&env).to_owned();
    for user in ["other", "victim-one", "victim-many"] {
        let body = serde_json::json!({ "username": user, "password": PASSWORD });
        http::post_json(server.addr, &format!("{prefix}/register/"), &body, 201)?;
    }
    let login = format!("{prefix}/login/");
    let other_script = write(dir.path(), "other.lua", &script(&login, "other", PASSWORD, Some(OTHER_CLIENT), 1_000))?;
    let run = |script: &Path, connections: usize, seconds: u64| {
        let load = Load {
            url: format!("http://{}", server.addr),
            script,
            connections,
            threads: 1,
            duration: Duration::from_secs(seconds),
            timeout: Duration::from_secs(10),
        };
        wrk.spawn(&load)
    };

    let seconds = plan.scenario.as_secs().max(10);
    eprintln!("bench: the other client alone for {seconds} s");
    let (baseline, baseline_counts) = finish(run(&other_script, 1, seconds)?)?;
    let mut attacks = Vec::new();
    for (spread, victim, seconds) in
        [(Spread::OneAddress, "victim-one", seconds.max(100)), (Spread::EveryRequest, "victim-many", seconds)]
    {
        let address = match spread {
            Spread::OneAddress => Some(ATTACKER),
            Spread::EveryRequest => None,
        };
        let attack_script = write(dir.path(), &format!("{victim}.lua"), &script(&login, victim, "", address, 0))?;
        eprintln!("bench: guessing {victim}'s password ({spread:?}) for {seconds} s beside the other client");
        let attacker = run(&attack_script, plan.connections.min(16), seconds)?;
        let other = run(&other_script, 1, seconds)?;
        let (other, other_counts) = finish(other)?;
        let (attacker, counts) =
            finish(attacker).with_context(|| format!("the server's last log lines:\n{}", server.last_log()))?;
        attacks.push(Attack { spread, seconds, counts, attacker, other, other_counts });
    }
    server.stop()?;
    Ok(Guessing { baseline, baseline_counts, attacks })
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn finish(running: super::wrk::Running) -> anyhow::Result<(Measurement, Counts)> {
    let (measurement, stdout) = running.finish_with_stdout()?;
    Ok((measurement, counts(&stdout)?))
}

/// The prefix of the line with the counts by status.
const COUNTS_MARKER: &str = "WRK_COUNTS ";

fn counts(stdout: &str) -> anyhow::Result<Counts> {
    let line = stdout.lines().find_map(|line| line.strip_prefix(COUNTS_MARKER)).context("no counts line")?;
    let json: serde_json::Value = serde_json::from_str(line).context("the counts line is not JSON")?;
    let number = |key: &str| json[key].as_u64().with_context(|| format!("the counts have no `{key}`"));
    Ok(Counts {
        ok: number("ok")?,
        unauthorized: number("unauthorized")?,
        throttled: number("throttled")?,
        other: number("other")?,
    })
}

/// JSON logins of `username`, with `password` (or, when empty, a new wrong one every time), from `address` (or a new
/// one every time), waiting `delay_ms` before each request; the `done` hook prints the summary and the counts.
fn script(path: &str, username: &str, password: &str, address: Option<&str>, delay_ms: u64) -> String {
    let address = address.map_or_else(|| "nil".to_owned(), lua::quote);
    format!(
        r#"local path = {path}
local username = {username}
local password = {password}
local address = {address}
local threads = {{}}
thread_id = 0
local counter = 0
ok, unauthorized, throttled, other = 0, 0, 0, 0

setup = function(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

delay = function()
  return {delay_ms}
end

request = function()
  counter = counter + 1
  local from = address or string.format("10.%d.%d.%d", thread_id, math.floor(counter / 256) % 256, counter % 256)
  local secret = password
  if secret == "" then secret = string.format("guess %d %d", thread_id, counter) end
  local body = string.format('{{"username":"%s","password":"%s"}}', username, secret)
  return wrk.format("POST", path, {{ ["Content-Type"] = "application/json", ["X-Forwarded-For"] = from }}, body)
end

response = function(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 401 then unauthorized = unauthorized + 1
  elseif status == 429 then throttled = throttled + 1
  else other = other + 1 end
end

{done}
local summary_done = done
done = function(summary, latency, requests)
  summary_done(summary, latency, requests)
  local o, u, t, x = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    o = o + thread:get("ok")
    u = u + thread:get("unauthorized")
    t = t + thread:get("throttled")
    x = x + thread:get("other")
  end
  io.write(string.format('{marker}{{"ok":%d,"unauthorized":%d,"throttled":%d,"other":%d}}\n', o, u, t, x))
end
"#,
        path = lua::quote(path),
        username = lua::quote(username),
        password = lua::quote(password),
        done = lua::DONE,
        marker = COUNTS_MARKER,
    )
}

impl Guessing {
    pub(super) fn table(&self) -> String {
        let mut out = String::new();
        let line = |name: &str, m: &Measurement, c: &Counts| {
            format!(
                "{name:<44} {:>7} {:>7} {:>7} {:>7} {:>9.2} {:>9.2}\n",
                c.ok,
                c.unauthorized,
                c.throttled,
                c.other,
                m.p50.as_secs_f64() * 1e3,
                m.p99.as_secs_f64() * 1e3
            )
        };
        out.push_str(&format!(
            "{:<44} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9}\n",
            "", "200", "401", "429", "other", "p50 ms", "p99 ms"
        ));
        out.push_str(&line("the other client alone", &self.baseline, &self.baseline_counts));
        for attack in &self.attacks {
            let what = match attack.spread {
                Spread::OneAddress => "from one address",
                Spread::EveryRequest => "from a new address every request",
            };
            out.push_str(&line(&format!("attack {what}, {} s", attack.seconds), &attack.attacker, &attack.counts));
            out.push_str(&line("  the other client meanwhile", &attack.other, &attack.other_counts));
        }
        for attack in &self.attacks {
            let checked = attack.counts.unauthorized;
            let rate = attack.attacker.rate();
            out.push_str(&format!(
                "\n{:?}: {} guesses checked in {} s of {:.0} attempts a second ({} throttled without a hash); the other \
                 client's p50 {:.2} ms against {:.2} ms alone",
                attack.spread,
                checked,
                attack.seconds,
                rate,
                attack.counts.throttled,
                attack.other.p50.as_secs_f64() * 1e3,
                self.baseline.p50.as_secs_f64() * 1e3,
            ));
        }
        out
    }

    pub(super) fn json(&self) -> serde_json::Value {
        let counts = |c: &Counts| serde_json::json!({ "ok": c.ok, "unauthorized": c.unauthorized, "throttled": c.throttled, "other": c.other });
        let latency = |m: &Measurement| serde_json::json!({ "requests": m.requests, "p50_ms": m.p50.as_secs_f64() * 1e3, "p99_ms": m.p99.as_secs_f64() * 1e3 });
        let attacks: Vec<serde_json::Value> = self
            .attacks
            .iter()
            .map(|a| {
                serde_json::json!({
                    "spread": format!("{:?}", a.spread),
                    "seconds": a.seconds,
                    "attempts_per_second": a.attacker.rate(),
                    "answers": counts(&a.counts),
                    "other_client": { "answers": counts(&a.other_counts), "latency": latency(&a.other) },
                })
            })
            .collect();
        serde_json::json!({
            "other_client_alone": { "answers": counts(&self.baseline_counts), "latency": latency(&self.baseline) },
            "attacks": attacks,
        })
    }
}
