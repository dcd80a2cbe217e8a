//! Operator commands: the outbox (listing it, sending failed mail again), migrations, and resending confirmation
//! links.

use std::io::Write as _;

use anyhow::bail;
use authtoken_core::outbox::{OutboxId, OutboxState};
use authtoken_core::ports::{Clock as _, Outbox as _, SystemClock, UserRepo as _};
use authtoken_core::service::SendConfirmationError;
use authtoken_core::user::User;

use authtoken_sql::Migration;

use crate::progress::Progress;
use crate::settings::{Resolved, masked_url};
use crate::startup::{self, Wired};

/// Prints the outbox, oldest first: pending and failed mail, or everything with `all`.
///
/// `attempts` counts the attempts made: a mail sent on its first try shows 1, one not tried yet 0.
pub(crate) async fn show_outbox(wired: &Wired, all: bool) -> anyhow::Result<()> {
    let states: &[OutboxState] = if all {
        &[OutboxState::Pending, OutboxState::Failed, OutboxState::Sent]
    } else {
        &[OutboxState::Pending, OutboxState::Failed]
    };
    let entries = wired.store.entries(states).await?;
    let mut out = std::io::stdout().lock();
    if entries.is_empty() {
        writeln!(out, "the outbox is empty")?;
        return Ok(());
    }
    writeln!(out, "{:>6}  {:<8}  {:>8}  {:<24}  {:<32}  last error", "id", "state", "attempts", "next attempt", "to")?;
    for entry in entries {
        let (state, attempts) = match entry.state {
            OutboxState::Pending => ("pending", entry.attempts),
            // `attempts` counts the failed ones; the last one succeeded.
            OutboxState::Sent => ("sent", entry.attempts.saturating_add(1)),
            OutboxState::Failed => ("failed", entry.attempts),
        };
        let next = match entry.state {
            OutboxState::Pending => rfc3339(entry.next_attempt_at.as_millis()),
            OutboxState::Sent | OutboxState::Failed => "-".to_owned(),
        };
        writeln!(
            out,
            "{:>6}  {:<8}  {:>8}  {:<24}  {:<32}  {}",
            entry.id.0,
            state,
            attempts,
            next,
            entry.mail.to,
            entry.last_error.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}

/// Makes failed mail pending again: every failed mail, or those of `ids`; an id that is not a failed mail is an
/// error, after the others are requeued.
pub(crate) async fn retry_outbox(wired: &Wired, ids: Vec<i64>) -> anyhow::Result<()> {
    // Only ids to check need the listing: without them, every failed mail is requeued, and sent mail is never read.
    let entries = if ids.is_empty() {
        Vec::new()
    } else {
        wired.store.entries(&[OutboxState::Pending, OutboxState::Failed, OutboxState::Sent]).await?
    };
    let mut refused = Vec::new();
    for id in &ids {
        match entries.iter().find(|e| e.id.0 == *id).map(|e| e.state) {
            Some(OutboxState::Failed) => {}
            Some(OutboxState::Pending) => refused.push(format!("mail {id} is pending, not failed")),
            Some(OutboxState::Sent) => refused.push(format!("mail {id} was sent")),
            None => refused.push(format!("there is no mail {id} in the outbox")),
        }
    }
    let only = (!ids.is_empty()).then(|| ids.into_iter().map(OutboxId).collect::<Vec<_>>());
    let retried = wired.store.retry_failed(only, SystemClock.now()).await?;
    let mut out = std::io::stdout().lock();
    match retried {
        0 => writeln!(out, "no failed mail to send again")?,
        1 => writeln!(out, "1 failed mail is pending again; a running server sends it within outbox_poll_interval")?,
        n => writeln!(
            out,
            "{n} failed mails are pending again; a running server sends them within outbox_poll_interval"
        )?,
    }
    if !refused.is_empty() {
        bail!("{}", refused.join("; "));
    }
    Ok(())
}

/// Applies the missing migrations and says which, or that there were none.
pub(crate) async fn migrate(settings: &Resolved) -> anyhow::Result<()> {
    let before = migrations(settings).await?;
    startup::wire(settings).await?;
    let after = migrations(settings).await?;
    let applied: Vec<&Migration> =
        after.iter().filter(|m| m.applied && before.iter().any(|b| b.version == m.version && !b.applied)).collect();
    let mut out = std::io::stdout().lock();
    if applied.is_empty() {
        writeln!(out, "nothing to apply: the database has all {} migrations", after.len())?;
    } else {
        writeln!(out, "applied {} of {} migrations:", applied.len(), after.len())?;
        for migration in applied {
            writeln!(out, "  {}  {}", migration.version, migration.description)?;
        }
    }
    Ok(())
}

/// Lists every migration this build knows, applied or pending; changes nothing.
pub(crate) async fn migration_status(settings: &Resolved) -> anyhow::Result<()> {
    let all = migrations(settings).await?;
    let pending = all.iter().filter(|m| !m.applied).count();
    let mut out = std::io::stdout().lock();
    for migration in &all {
        let state = if migration.applied { "applied" } else { "pending" };
        writeln!(out, "{state}  {}  {}", migration.version, migration.description)?;
    }
    match pending {
        0 => writeln!(out, "the database has all {} migrations", all.len())?,
        n => writeln!(out, "{n} of {} migrations pending: `authtoken migrate` (or `serve`) applies them", all.len())?,
    }
    Ok(())
}

async fn migrations(settings: &Resolved) -> anyhow::Result<Vec<Migration>> {
    authtoken_sql::migrations(&settings.database).await.map_err(|e| {
        anyhow::anyhow!("cannot open the database of `database_url` ({}): {e}", masked_url(&settings.database.url))
    })
}

/// Queues a fresh link for one user.
pub(crate) async fn resend_one(wired: &Wired, username: &str) -> anyhow::Result<()> {
    let Some(user) = wired.store.find_by_username(username).await? else {
        bail!("no user named `{username}`");
    };
    wired.service.send_confirmation_email(&user).await?;
    writeln!(std::io::stdout().lock(), "queued a confirmation link for {username}")?;
    Ok(())
}

/// Queues a fresh link for every unconfirmed user, going on past failures, and reports every result.
pub(crate) async fn resend_all(wired: &Wired) -> anyhow::Result<()> {
    let users = wired.service.unconfirmed_users().await?;
    let total = users.len();
    let mut progress = Progress::new(Some(total as u64), "users");
    let mut failures: Vec<(User, SendConfirmationError)> = Vec::new();
    for user in users {
        if let Err(e) = wired.service.send_confirmation_email(&user).await {
            failures.push((user, e));
        }
        progress.advance(1);
    }
    progress.finish();
    let mut out = std::io::stdout().lock();
    for (user, error) in &failures {
        writeln!(out, "failed: {} ({error})", user.username)?;
    }
    writeln!(out, "queued {} of {total} confirmation links; {} failed", total - failures.len(), failures.len())?;
    if !failures.is_empty() {
        bail!("{} of {total} confirmation links could not be queued", failures.len());
    }
    Ok(())
}

/// `authtoken tokens purge`: each purge in turn, one step of the progress each.
pub(crate) async fn purge(wired: &Wired) -> anyhow::Result<()> {
    let mut progress = Progress::new(Some(4), "purges");
    let sessions = wired.service.purge_sessions().await?;
    progress.advance(1);
    let links = wired.service.purge_expired_confirmations().await? + wired.service.purge_expired_resets().await?;
    progress.advance(1);
    wired.service.purge_throttles().await?;
    progress.advance(1);
    let events = wired.service.purge_events().await?;
    progress.advance(1);
    progress.finish();
    writeln!(
        std::io::stdout().lock(),
        "deleted {sessions} expired or idle login tokens, {links} expired confirmation and reset links and {events} \
         events past auth_event_retention"
    )?;
    Ok(())
}

/// A time in milliseconds since the Unix epoch as RFC 3339 in UTC, to the second.
pub(crate) fn rfc3339(millis: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(millis).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}
