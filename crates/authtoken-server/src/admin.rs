//! Operator commands: the outbox listing and resending confirmation links.

use std::io::Write as _;

use anyhow::bail;
use authtoken_core::outbox::OutboxState;
use authtoken_core::ports::{Outbox as _, UserRepo as _};
use authtoken_core::service::SendConfirmationError;
use authtoken_core::user::User;

use crate::startup::Wired;

/// Prints the outbox, oldest first: pending and failed mail, or everything with `all`.
pub(crate) async fn show_outbox(wired: &Wired, all: bool) -> anyhow::Result<()> {
    let states: &[OutboxState] = if all {
        &[OutboxState::Pending, OutboxState::Failed, OutboxState::Sent]
    } else {
        &[OutboxState::Pending, OutboxState::Failed]
    };
    let entries = wired.store.entries(states).await?;
    if entries.is_empty() {
        println!("the outbox is empty");
        return Ok(());
    }
    println!("{:>6}  {:<8}  {:>8}  {:<24}  {:<32}  last error", "id", "state", "attempts", "next attempt", "to");
    for entry in entries {
        let state = match entry.state {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        };
        println!(
            "{:>6}  {:<8}  {:>8}  {:<24}  {:<32}  {}",
            entry.id.0,
            state,
            entry.attempts,
            rfc3339(entry.next_attempt_at.as_millis()),
            entry.mail.to,
            entry.last_error.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// Queues a fresh link for one user.
pub(crate) async fn resend_one(wired: &Wired, username: &str) -> anyhow::Result<()> {
    let Some(user) = wired.store.find_by_username(username).await? else {
        bail!("no user named `{username}`");
    };
    wired.service.send_confirmation_email(&user).await?;
    println!("queued a confirmation link for {username}");
    Ok(())
}

/// Queues a fresh link for every unconfirmed user, going on past failures, and reports every result.
pub(crate) async fn resend_all(wired: &Wired) -> anyhow::Result<()> {
    let users = wired.service.unconfirmed_users().await?;
    let total = users.len();
    let mut failures: Vec<(User, SendConfirmationError)> = Vec::new();
    for (done, user) in users.into_iter().enumerate() {
        if let Err(e) = wired.service.send_confirmation_email(&user).await {
            failures.push((user, e));
        }
        if total >= 20 && ((done + 1) % (total / 20).max(1) == 0 || done + 1 == total) {
            eprint!("\r{}/{total} users", done + 1);
            let _ = std::io::stderr().flush();
        }
    }
    if total >= 20 {
        eprintln!();
    }
    for (user, error) in &failures {
        println!("failed: {} ({error})", user.username);
    }
    println!("queued {} of {total} confirmation links; {} failed", total - failures.len(), failures.len());
    if !failures.is_empty() {
        bail!("{} of {total} confirmation links could not be queued", failures.len());
    }
    Ok(())
}

/// A time in milliseconds since the Unix epoch as RFC 3339 in UTC, to the second.
pub(crate) fn rfc3339(millis: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(millis).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}
