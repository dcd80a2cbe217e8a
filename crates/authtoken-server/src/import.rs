//! `authtoken import django`: users, sessions and pending confirmation links from a Django database that
//! django-rest-authtoken wrote, so that a Django deployment moves over without logging anyone out.
//!
//! Each user keeps its id, name, address, active flag, join and last-login times and password hash (the hasher
//! checks Django's hashes, and the first login replaces each with Argon2id). Each session keeps its digest (the same
//! SHA-512 of the same 48 bytes) and its creation time, so it ends when it would have ended in Django:
//! `created + auth_token_validity`. A user goes in with its sessions and links in one transaction, or not at all.
//!
//! A user that an earlier import wrote is left alone, sessions and links included: a second run changes nothing,
//! and says so, and it brings back no session that was logged out since. A row that cannot be imported is reported
//! and skipped, and the import goes on; the command then ends non-zero.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use authtoken_core::Timestamp;
use authtoken_core::confirmation::Confirmation;
use authtoken_core::ports::{Clock as _, SystemClock};
use authtoken_core::session::{ClientInfo, Session, SessionId};
use authtoken_core::token::TokenDigest;
use authtoken_core::user::{EMAIL_MAX_CHARS, NewUser, PasswordHash, UserId, Username};
use authtoken_sql::django::{DjangoSource, DjangoTables, DjangoToken, DjangoUser};
use authtoken_sql::{ImportUser, Imported, SqlStore};

use crate::progress::Progress;
use crate::settings::{Resolved, masked_url};

/// Users read and written at a time, each batch in one transaction.
const BATCH: u32 = 500;

/// What to import from where.
#[derive(Debug, clap::Args)]
pub(crate) struct DjangoImport {
    /// The Django database: `postgres://user@host/db` or `sqlite:///path/to/db.sqlite3`; from the environment
    /// variable DJANGO_DATABASE_URL when not given, so that a password stays off the command line.
    #[arg(long = "from", value_name = "URL", env = "DJANGO_DATABASE_URL", hide_env_values = true)]
    from: String,
    /// The table of the user model: `auth_user`, or a custom model's (`accounts_user`).
    #[arg(long, default_value = "auth_user")]
    user_table: String,
    /// The user model's boolean field that says the address is confirmed (upstream's
    /// `REGISTRATION_EMAIL_CONFIRM_MODEL_FIELD`). Without it, a user counts as confirmed unless a confirmation link
    /// of the user is pending.
    #[arg(long)]
    confirmed_field: Option<String>,
    /// Read everything and decide each batch of 500 users as the import would, then write nothing (a clash between
    /// two users of different batches, such as two names that differ only in case, shows only in the real run).
    #[arg(long)]
    dry_run: bool,
}

/// What the command did with the users' rows.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    users: u64,
    sessions: u64,
    links: u64,
    already_there: u64,
    skipped: u64,
    left_out: LeftOut,
}

/// What was left out of the users imported.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct LeftOut {
    expired_sessions: u64,
    expired_links: u64,
    /// Links of a service without email confirmation, which has no use for them.
    links_without_confirmation: u64,
    /// Passwords whose hash nothing here checks.
    unusable_passwords: u64,
    /// Sessions and links with a digest of another length than 64 bytes, or a time the database cannot read.
    unreadable: u64,
}

impl LeftOut {
    fn add(&mut self, other: Self) {
        self.expired_sessions += other.expired_sessions;
        self.expired_links += other.expired_links;
        self.links_without_confirmation += other.links_without_confirmation;
        self.unusable_passwords += other.unusable_passwords;
        self.unreadable += other.unreadable;
    }
}

/// The settings that decide how rows become authtoken's.
#[derive(Debug, Clone, Copy)]
struct Rules {
    case_insensitive: bool,
    session_validity: Duration,
    /// `None` when email confirmation is off: then links are not imported.
    link_validity: Option<Duration>,
}

impl DjangoImport {
    pub(crate) async fn run(self, settings: &Resolved) -> anyhow::Result<()> {
        if settings.core.require_confirmed_email_for_login && self.confirmed_field.is_none() {
            anyhow::bail!(
                "`require_confirmed_email_for_login` is on, and without --confirmed-field nothing says which \
                 addresses Django confirmed: name the user model's field (upstream's \
                 REGISTRATION_EMAIL_CONFIRM_MODEL_FIELD), or turn the setting off for the import"
            );
        }
        let tables = DjangoTables { user_table: self.user_table, confirmed_field: self.confirmed_field };
        let source =
            DjangoSource::open(&self.from, tables).await.with_context(|| format!("from {}", masked_url(&self.from)))?;
        let store = SqlStore::open(&settings.database).await.map_err(|e| {
            anyhow::anyhow!("cannot open the database of `database_url` ({}): {e}", masked_url(&settings.database.url))
        })?;
        let rules = Rules {
            case_insensitive: settings.core.username_case_insensitive,
            session_validity: settings.core.auth_token_validity,
            link_validity: settings.confirmation.as_ref().map(|c| c.token_validity),
        };
        let mut progress = Progress::new(Some(source.count_users().await?), "users");
        let mut tally = Tally::default();
        let mut after = None;
        while let Some(last) = import_batch(&source, &store, rules, self.dry_run, after, &mut tally, &progress).await? {
            progress.advance(last.1);
            after = Some(last.0);
        }
        progress.finish();
        store.close().await;
        writeln!(std::io::stdout().lock(), "{}", tally.summary(self.dry_run))?;
        if tally.skipped > 0 {
            anyhow::bail!("{} not imported: each is named above with the reason", plural(tally.skipped, "user"));
        }
        Ok(())
    }
}

/// Imports the users after `after`; returns the last id and how many there were, or `None` when there were none.
async fn import_batch(
    source: &DjangoSource,
    store: &SqlStore,
    rules: Rules,
    dry_run: bool,
    after: Option<i64>,
    tally: &mut Tally,
    progress: &Progress,
) -> anyhow::Result<Option<(i64, u64)>> {
    let users = source.users(after, BATCH).await?;
    let (Some(first), Some(last)) = (users.first().map(|u| u.id), users.last().map(|u| u.id)) else {
        return Ok(None);
    };
    let count = users.len() as u64;
    let mut sessions = source.sessions(first, last).await?.into_iter().peekable();
    let mut links = source.links(first, last).await?.into_iter().peekable();
    let now = SystemClock.now();
    let (mut batch, mut left_out) = (Vec::with_capacity(users.len()), Vec::with_capacity(users.len()));
    for user in users {
        // Both lists are in user id order, as the users are.
        let (id, name) = (user.id, user.username.clone());
        let own_sessions = take_while_of(&mut sessions, id);
        let own_links = take_while_of(&mut links, id);
        match convert(user, own_sessions, own_links, rules, now) {
            Ok((import, left)) => {
                batch.push(import);
                left_out.push(left);
            }
            Err(why) => {
                tally.skipped += 1;
                progress.line(&format!("not imported: user {id} ({}): {why}", printable(&name)));
            }
        }
    }
    let outcomes = store.import_users(&batch, dry_run).await.context("cannot write to the database")?;
    for ((import, left_out), outcome) in batch.iter().zip(left_out).zip(outcomes) {
        match outcome {
            Imported::New { sessions, links } => {
                tally.users += 1;
                tally.sessions += sessions;
                tally.links += links;
                tally.left_out.add(left_out);
            }
            Imported::AlreadyThere => tally.already_there += 1,
            Imported::Clash(why) => {
                tally.skipped += 1;
                let name = printable(import.user.username.as_str());
                progress.line(&format!("not imported: user {} ({name}): {why}", import.id.0));
            }
        }
    }
    Ok(Some((last, count)))
}

fn take_while_of(rows: &mut std::iter::Peekable<std::vec::IntoIter<DjangoToken>>, user_id: i64) -> Vec<DjangoToken> {
    let mut own = Vec::new();
    while let Some(row) = rows.next_if(|row| row.user_id <= user_id) {
        // A row of a user id that is not in the user table cannot be: the foreign key forbids it.
        if row.user_id == user_id {
            own.push(row);
        }
    }
    own
}

/// The user as authtoken stores it, or why it cannot be. Rows of the user that cannot be used (an expired session,
/// a digest of the wrong length) are left out and counted.
fn convert(
    user: DjangoUser,
    sessions: Vec<DjangoToken>,
    links: Vec<DjangoToken>,
    rules: Rules,
    now: Timestamp,
) -> Result<(ImportUser, LeftOut), String> {
    let mut left_out = LeftOut::default();
    let username = Username::parse(&user.username).map_err(|e| format!("the username is not valid: {e}"))?;
    if username.as_str() != user.username {
        return Err("the username has spaces around it".to_owned());
    }
    let email = Some(user.email).filter(|email| !email.is_empty());
    if email.as_ref().is_some_and(|email| email.chars().count() > EMAIL_MAX_CHARS) {
        return Err(format!("the address is longer than {EMAIL_MAX_CHARS} characters"));
    }
    let joined_at = user.date_joined.ok_or("date_joined is not a time the database can read")?;
    let password_hash = match authtoken_argon2::readable(&PasswordHash::new(user.password.clone())) {
        Ok(()) => PasswordHash::new(user.password),
        Err(_) => {
            // A hash of a kind nothing here checks (Django's unsalted MD5, say): the user resets the password.
            left_out.unusable_passwords += 1;
            PasswordHash::new("!".to_owned())
        }
    };
    let id = UserId(user.id);
    let email_confirmed = email.is_some() && user.confirmed.unwrap_or(links.is_empty());
    let sessions = sessions
        .into_iter()
        .filter_map(|row| {
            let Some((digest, created_at)) = usable(&row) else {
                left_out.unreadable += 1;
                return None;
            };
            let expires_at = created_at.plus(rules.session_validity);
            if expires_at < now {
                left_out.expired_sessions += 1;
                return None;
            }
            Some((digest, created_at, expires_at))
        })
        .map(|(digest, created_at, expires_at)| {
            let public = SessionId::generate().map_err(|e| format!("no session id: {e}"))?;
            let client = ClientInfo::default();
            Ok(Session { id: public, digest, user_id: id, created_at, expires_at, last_used_at: None, client })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let links = match rules.link_validity {
        None => {
            left_out.links_without_confirmation += links.len() as u64;
            Vec::new()
        }
        Some(validity) => links
            .into_iter()
            .filter_map(|row| {
                let (Some((digest, created_at)), Some(email)) = (usable(&row), row.email.clone()) else {
                    left_out.unreadable += 1;
                    return None;
                };
                let expires_at = created_at.plus(validity);
                if expires_at < now {
                    left_out.expired_links += 1;
                    return None;
                }
                Some(Confirmation { digest, user_id: id, email, created_at, expires_at })
            })
            .collect(),
    };
    let username_key = username.key(rules.case_insensitive);
    let (is_active, last_login_at) = (user.is_active, user.last_login);
    let user = NewUser { username, username_key, password_hash, email, email_confirmed, is_active, joined_at };
    Ok((ImportUser { id, user, last_login_at, sessions, links }, left_out))
}

/// The digest and creation time of a session or link row; `None` for a row no store can hold (Django's column
/// allows other lengths), which is then left out.
fn usable(row: &DjangoToken) -> Option<(TokenDigest, Timestamp)> {
    Some((TokenDigest::from_slice(&row.digest)?, row.created?))
}

impl Tally {
    /// What was done, in a few lines.
    fn summary(&self, dry_run: bool) -> String {
        let verb = if dry_run { "would import" } else { "imported" };
        let mut lines = Vec::new();
        if self.users == 0 && self.already_there > 0 {
            let there = if self.already_there == 1 { "is" } else { "are" };
            let users = plural(self.already_there, "user");
            lines.push(format!("nothing new to import: {users} {there} there from an earlier import"));
        } else {
            lines.push(format!(
                "{verb} {}, {} and {}",
                plural(self.users, "user"),
                plural(self.sessions, "session"),
                plural(self.links, "confirmation link")
            ));
            if self.already_there > 0 {
                lines.push(format!("left alone: {} there from an earlier import", plural(self.already_there, "user")));
            }
        }
        if self.skipped > 0 {
            lines.push(format!("not imported: {} (each named above)", plural(self.skipped, "user")));
        }
        let left_out = self.left_out;
        let expired = [(left_out.expired_sessions, "session"), (left_out.expired_links, "confirmation link")];
        let expired: Vec<String> =
            expired.into_iter().filter(|(count, _)| *count > 0).map(|(count, noun)| plural(count, noun)).collect();
        if !expired.is_empty() {
            lines.push(format!("left out as expired: {}", expired.join(" and ")));
        }
        if left_out.links_without_confirmation > 0 {
            lines.push(format!(
                "left out: {}, as email confirmation is off here (registration_email_confirm)",
                plural(left_out.links_without_confirmation, "confirmation link")
            ));
        }
        if left_out.unreadable > 0 {
            lines.push(format!(
                "left out as unreadable (a digest not of 64 bytes, or a time the database cannot read): {}",
                plural(left_out.unreadable, "session or link")
            ));
        }
        if left_out.unusable_passwords > 0 {
            lines.push(format!(
                "{} had a password hash of a kind authtoken cannot check: imported without a usable password, so \
                 they log in after a password reset (or `authtoken users set-password`)",
                plural(left_out.unusable_passwords, "user"),
            ));
        }
        if dry_run {
            lines.push("dry run: nothing was written".to_owned());
        }
        lines.join("\n")
    }
}

/// `count` and the noun, in the plural unless `count` is 1 ("3 users", "1 confirmation link").
fn plural(count: u64, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// A name from the Django database as a terminal may show it: control characters become `?`.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_796_206_272_000);
    const DAY: Duration = Duration::from_secs(86_400);
    const RULES: Rules = Rules { case_insensitive: true, session_validity: DAY, link_validity: Some(DAY) };

    fn user(name: &str, email: &str, password: &str) -> DjangoUser {
        DjangoUser {
            id: 7,
            username: name.to_owned(),
            email: email.to_owned(),
            is_active: true,
            date_joined: Some(NOW),
            last_login: None,
            password: password.to_owned(),
            confirmed: None,
        }
    }

    fn row(created: Timestamp, digest_len: usize, email: Option<&str>) -> DjangoToken {
        DjangoToken { user_id: 7, digest: vec![1; digest_len], created: Some(created), email: email.map(str::to_owned) }
    }

    const PBKDF2: &str = "pbkdf2_sha256$600000$salt$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0=";

    #[test]
    fn a_user_keeps_its_id_name_hash_and_live_sessions_which_end_when_they_would_have_in_django() {
        let two_hours_ago = Timestamp::from_millis(NOW.as_millis() - 2 * 3_600_000);
        let two_days_ago = Timestamp::from_millis(NOW.as_millis() - 2 * 86_400_000);
        let sessions = vec![row(two_hours_ago, 64, None), row(two_days_ago, 64, None), row(two_hours_ago, 32, None)];

        let (import, left_out) =
            convert(user("Alice", "alice@example.org", PBKDF2), sessions, vec![], RULES, NOW).unwrap();

        assert_eq!(
            (import.id, import.user.username.as_str(), import.user.username_key.as_str()),
            (UserId(7), "Alice", "alice")
        );
        assert_eq!(import.user.password_hash.as_str(), PBKDF2);
        assert_eq!(import.sessions.len(), 1, "the expired one and the one of a wrong length are left out");
        assert_eq!(import.sessions[0].expires_at, two_hours_ago.plus(DAY));
        assert_eq!(left_out, LeftOut { expired_sessions: 1, unreadable: 1, ..LeftOut::default() });
    }

    #[test]
    fn an_address_counts_as_confirmed_unless_a_link_is_pending_or_the_field_says_otherwise() {
        let link = || vec![row(NOW, 64, Some("a@example.org"))];
        let confirmed =
            |user: DjangoUser, links| convert(user, vec![], links, RULES, NOW).unwrap().0.user.email_confirmed;

        assert!(confirmed(user("a", "a@example.org", PBKDF2), vec![]));
        assert!(!confirmed(user("a", "a@example.org", PBKDF2), link()));
        assert!(!confirmed(user("a", "", PBKDF2), vec![]), "no address, nothing confirmed");
        assert!(confirmed(DjangoUser { confirmed: Some(true), ..user("a", "a@example.org", PBKDF2) }, link()));
        assert!(!confirmed(DjangoUser { confirmed: Some(false), ..user("a", "a@example.org", PBKDF2) }, vec![]));
        let (import, _) = convert(user("a", "", PBKDF2), vec![], vec![], RULES, NOW).unwrap();
        assert_eq!(import.user.email, None, "Django's empty address is none");
    }

    #[test]
    fn links_are_left_out_when_email_confirmation_is_off() {
        let rules = Rules { link_validity: None, ..RULES };

        let (import, left_out) =
            convert(user("a", "a@example.org", PBKDF2), vec![], vec![row(NOW, 64, Some("a@example.org"))], rules, NOW)
                .unwrap();

        assert!(import.links.is_empty());
        assert_eq!(left_out.links_without_confirmation, 1);
    }

    #[test]
    fn a_hash_nothing_here_checks_becomes_no_usable_password() {
        let (import, left_out) =
            convert(user("a", "", "md5$salt$0123456789abcdef"), vec![], vec![], RULES, NOW).unwrap();

        assert_eq!(import.user.password_hash.as_str(), "!");
        assert_eq!(left_out.unusable_passwords, 1);
    }

    #[test]
    fn a_row_that_cannot_be_a_user_says_why() {
        let spaced = convert(user(" a", "", PBKDF2), vec![], vec![], RULES, NOW).unwrap_err();
        let invalid = convert(user("a b", "", PBKDF2), vec![], vec![], RULES, NOW).unwrap_err();
        let no_time = convert(DjangoUser { date_joined: None, ..user("a", "", PBKDF2) }, vec![], vec![], RULES, NOW);

        assert!(spaced.contains("spaces"), "{spaced}");
        assert!(invalid.contains("not valid"), "{invalid}");
        assert!(no_time.unwrap_err().contains("date_joined"));
    }

    #[test]
    fn a_second_run_says_there_is_nothing_new() {
        let tally = Tally { already_there: 9, ..Tally::default() };
        let first = Tally { users: 2, sessions: 1, links: 1, ..Tally::default() };

        assert_eq!(tally.summary(false), "nothing new to import: 9 users are there from an earlier import");
        assert_eq!(
            first.summary(true),
            "would import 2 users, 1 session and 1 confirmation link\ndry run: nothing was written"
        );
    }
}
