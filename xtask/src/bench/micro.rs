//! `--micro`: the criterion benchmarks of `authtoken-core` and `authtoken-argon2`, run through cargo and read back
//! from their estimates.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use crate::cmd::cargo;

/// The benchmark ids in `crates/authtoken-core/benches/core.rs` and `crates/authtoken-argon2/benches/argon2.rs`,
/// as criterion names their directories.
pub(super) const IDS: [&str; 10] = [
    "token/generate",
    "token/digest",
    "header/parse_authorization",
    "password/argon2id_hash",
    "check/unknown_user",
    "check/argon2id_user",
    "check/django_pbkdf2_user",
    "check/unknown_user_with_imported",
    "check/argon2id_user_with_imported",
    "check/django_pbkdf2_user_with_imported",
];

/// One benchmark's time per iteration, as criterion prints it.
#[derive(Debug, Clone)]
pub(super) struct Micro {
    pub id: &'static str,
    pub time: Duration,
}

/// Runs the benchmarks (briefly unless `long`) and reads each estimate from
/// `target/criterion/<id>/new/estimates.json`.
pub(super) fn run(long: bool, target: &Path) -> anyhow::Result<Vec<Micro>> {
    for (package, bench) in [("authtoken-core", "core"), ("authtoken-argon2", "argon2")] {
        let mut command = cargo();
        command.args(["bench", "-p", package, "--bench", bench, "--"]);
        if !long {
            command.args(["--warm-up-time", "1", "--measurement-time", "3"]);
        }
        crate::cmd::run(&mut command)?;
    }
    IDS.iter().map(|id| read_estimate(target, id)).collect()
}

fn read_estimate(target: &Path, id: &'static str) -> anyhow::Result<Micro> {
    let path = target.join("criterion").join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    // Criterion reports the slope of its linear sampling where there is one, and the mean otherwise.
    let nanos = json["slope"]["point_estimate"]
        .as_f64()
        .or_else(|| json["mean"]["point_estimate"].as_f64())
        .with_context(|| format!("{} has neither a slope nor a mean", path.display()))?;
    Ok(Micro { id, time: Duration::from_secs_f64(nanos / 1e9) })
}
