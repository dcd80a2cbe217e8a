//! `authtoken users …`: creating, listing, deactivating, activating and deleting users, and setting a password.

use std::io::Write as _;

use anyhow::{anyhow, bail};
use authtoken_core::User;
use authtoken_core::event::{AuditEvent, EventKind};
use authtoken_core::ports::{Clock as _, SystemClock, UserRepo as _};
use authtoken_core::service::{AddUser, FieldErrors, RegisterError, SetPasswordError};
use authtoken_core::session::Revoke;
use authtoken_core::user::UserId;

use super::{find_user, password, sessions, write_table};
use crate::admin::rfc3339;
use crate::progress::Progress;
use crate::startup::Wired;

/// How many users `users list` shows when not told.
const DEFAULT_PAGE: u32 = 50;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum UsersCommand {
    /// Create an active user, with the rules of registration. The password comes from stdin or a prompt.
    Create {
        /// The username.
        name: String,
        /// The user's address; the operator vouches for it, so it is stored confirmed and no mail is sent.
        #[arg(long, value_name = "E")]
        email: Option<String>,
        /// Read the password from the first line of stdin (without it, a terminal is asked twice).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users in id order, a page at a time.
    List {
        /// How many users to show (1 to 1000).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_PAGE, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Show the users after this id (the last id of the previous page).
        #[arg(long, value_name = "ID")]
        after: Option<i64>,
        /// Show every user, in one table, read 500 at a time (with a progress bar on a terminal).
        #[arg(long, conflicts_with_all = ["limit", "after"])]
        all: bool,
    },
    /// Set a user's password and revoke every session of the user.
    SetPassword {
        /// The username.
        name: String,
        /// Read the password from the first line of stdin (without it, a terminal is asked twice).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Stop a user from logging in, and end every session of the user at once.
    Deactivate {
        /// The username.
        name: String,
    },
    /// Let a deactivated user log in again.
    Activate {
        /// The username.
        name: String,
    },
    /// Delete a user with every session, confirmation link and pending mail of the user.
    Delete {
        /// The username.
        name: String,
    },
}

impl UsersCommand {
    pub(crate) async fn run(self, wired: &Wired) -> anyhow::Result<()> {
        match self {
            Self::Create { name, email, password_stdin } => create(wired, name, email, password_stdin).await,
            Self::List { all: true, .. } => list_all(wired).await,
            Self::List { limit, after, all: false } => list(wired, limit, after.map(UserId)).await,
            Self::SetPassword { name, password_stdin } => set_password(wired, &name, password_stdin).await,
            Self::Deactivate { name } => {
                let user = find_user(wired, &name).await?;
                set_active(wired, &user, false).await?;
                Ok(writeln!(std::io::stdout(), "deactivated {}; every session of the user has ended", user.username)?)
            }
            Self::Activate { name } => {
                let user = find_user(wired, &name).await?;
                set_active(wired, &user, true).await?;
                Ok(writeln!(std::io::stdout(), "activated {}", user.username)?)
            }
            Self::Delete { name } => {
                let user = find_user(wired, &name).await?;
                let event =
                    AuditEvent::by_operator(EventKind::OperatorDeletedUser, SystemClock.now(), Some(user.id), None);
                if !wired.store.delete(user.id, &event).await? {
                    bail!("no user named `{name}`");
                }
                let deleted = "with every session, confirmation link and pending mail of the user";
                Ok(writeln!(std::io::stdout(), "deleted {} {deleted}", user.username)?)
            }
        }
    }
}

async fn create(wired: &Wired, name: String, email: Option<String>, password_stdin: bool) -> anyhow::Result<()> {
    let password = password::read(password_stdin)?;
    let shown = name.clone();
    let user = match wired.service.add_user(AddUser { username: name, email, password }).await {
        Ok(user) => user,
        Err(RegisterError::Invalid(errors)) => bail!("cannot create the user `{shown}`: {}", describe(&errors)),
        // An operator's command is never throttled; the arm is here for completeness.
        Err(e @ (RegisterError::Throttled(_) | RegisterError::Failed(_))) => {
            return Err(anyhow!(e).context("cannot create the user"));
        }
    };
    let email = user.email.as_deref().map(|email| format!(" with the confirmed address {email}")).unwrap_or_default();
    Ok(writeln!(std::io::stdout(), "created {} (id {}){email}", user.username, user.id.0)?)
}

/// Prints one page, and how to get the next one when there is more.
async fn list(wired: &Wired, limit: u32, after: Option<UserId>) -> anyhow::Result<()> {
    let mut users = wired.store.list(after, limit + 1).await?;
    let more = users.len() > limit as usize;
    users.truncate(limit as usize);
    let mut out = std::io::stdout().lock();
    let Some(last) = users.last() else {
        return Ok(writeln!(out, "{}", if after.is_some() { "no more users" } else { "no users" })?);
    };
    let headers = ["id", "username", "email", "active", "confirmed", "last login"];
    write_table(&mut out, &headers, &users.iter().map(row).collect::<Vec<_>>())?;
    if more {
        let limit = if limit == DEFAULT_PAGE { String::new() } else { format!(" --limit {limit}") };
        writeln!(out, "more users follow: authtoken users list --after {}{limit}", last.id.0)?;
    }
    Ok(())
}

/// Every user in one table; the progress goes to stderr while the pages are read.
async fn list_all(wired: &Wired) -> anyhow::Result<()> {
    const PAGE: u32 = 500;
    let mut progress = Progress::new(Some(wired.store.count_users().await?), "users");
    let (mut rows, mut after) = (Vec::new(), None);
    loop {
        let page = wired.store.list(after, PAGE).await?;
        progress.advance(page.len() as u64);
        rows.extend(page.iter().map(row));
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = Some(last.id),
            _ => break,
        }
    }
    progress.finish();
    let mut out = std::io::stdout().lock();
    if rows.is_empty() {
        return Ok(writeln!(out, "no users")?);
    }
    write_table(&mut out, &["id", "username", "email", "active", "confirmed", "last login"], &rows)?;
    Ok(())
}

fn row(user: &User) -> Vec<String> {
    let yes_no = |flag: bool| if flag { "yes" } else { "no" }.to_owned();
    vec![
        user.id.0.to_string(),
        user.username.clone(),
        user.email.clone().unwrap_or_else(|| "-".to_owned()),
        yes_no(user.is_active),
        if user.email.is_some() { yes_no(user.email_confirmed) } else { "-".to_owned() },
        user.last_login_at.map_or_else(|| "never".to_owned(), |at| rfc3339(at.as_millis())),
    ]
}

async fn set_password(wired: &Wired, name: &str, password_stdin: bool) -> anyhow::Result<()> {
    let user = find_user(wired, name).await?;
    let password = password::read(password_stdin)?;
    let revoked = match wired.service.set_password(user.id, password, &Revoke::All).await {
        Ok(revoked) => revoked,
        Err(SetPasswordError::Invalid(message)) => bail!("cannot set the password of `{name}`: password: {message}"),
        Err(SetPasswordError::NoSuchUser) => bail!("no user named `{name}`"),
        Err(SetPasswordError::Failed(failure)) => return Err(anyhow!(failure).context("cannot set the password")),
    };
    Ok(writeln!(std::io::stdout(), "set the password of {}; revoked {}", user.username, sessions(revoked))?)
}

/// Deactivating ends every session of the user in the same transaction (`UserRepo::set_active`), which records the
/// operator's event too.
async fn set_active(wired: &Wired, user: &User, active: bool) -> anyhow::Result<()> {
    let kind = if active { EventKind::OperatorActivatedUser } else { EventKind::OperatorDeactivatedUser };
    let event = AuditEvent::by_operator(kind, SystemClock.now(), Some(user.id), None);
    if !wired.store.set_active(user.id, active, &event).await? {
        bail!("no user named `{}`", user.username);
    }
    Ok(())
}

/// `username: A user with that username already exists.; password: password too short`.
fn describe(errors: &FieldErrors) -> String {
    let fields = errors.0.iter().map(|(field, messages)| format!("{field}: {}", messages.join(" ")));
    fields.collect::<Vec<_>>().join("; ")
}
