//! `authtoken events`: the audit trail, one line per event, oldest first, of everyone or of one user, since a time.
//!
//! The events are read a page at a time and written as they come, so a long trail needs no memory and a reader that
//! stops early (`| head`) ends the command at once.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context as _, bail};
use authtoken_core::Timestamp;
use authtoken_core::event::{EventQuery, StoredEvent};
use authtoken_core::ports::{Clock as _, EventRepo as _, SystemClock};

use super::{find_user, printable};
use crate::startup::Wired;

/// How many events one read fetches.
const PAGE: u32 = 500;

/// The widest kind of event, `password_reset_request_throttled`, so that the columns after it line up.
const KIND_WIDTH: usize = 32;

/// The arguments of `authtoken events`.
#[derive(Debug, clap::Args)]
pub(crate) struct EventsCommand {
    /// Only the events of this user (an existing one; named as at login).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Only events at or after T: an RFC 3339 time (`2026-11-28T09:00:00Z`, `2026-11-28T10:00:00+01:00`) or a
    /// duration meaning that long ago (`90m`, `1h`, `7d`).
    #[arg(long, value_name = "T")]
    since: Option<String>,
}

impl EventsCommand {
    pub(crate) async fn run(self, wired: &Wired) -> anyhow::Result<()> {
        let since = self.since.as_deref().map(|text| since(text, SystemClock.now())).transpose()?;
        let user_id = match &self.user {
            Some(name) => Some(find_user(wired, name).await?.id),
            None => None,
        };
        let mut query = EventQuery { after: None, user_id, since };
        let mut out = std::io::stdout().lock();
        let mut shown = 0_usize;
        loop {
            let page = wired.store.list_events(&query, PAGE).await?;
            if shown == 0 && !page.is_empty() {
                writeln!(out, "{:<24}  {:<KIND_WIDTH$}  user  session  ip  user agent", "time", "kind")?;
            }
            for event in &page {
                writeln!(out, "{}", line(event))?;
            }
            shown += page.len();
            match page.last() {
                Some(last) if page.len() == PAGE as usize => query.after = Some(last.id),
                _ => break,
            }
        }
        if shown == 0 {
            writeln!(out, "no events")?;
        }
        Ok(out.flush()?)
    }
}

/// One event as a line: the time, the kind, the user (by name; `#id` once the user is deleted), the session, the IP
/// address and the user agent, with `-` for what is missing. Only the user agent, last, may hold spaces; control
/// characters show as `?`.
fn line(stored: &StoredEvent) -> String {
    let event = &stored.event;
    let user = match (&stored.username, event.user_id) {
        (Some(name), _) => printable(name),
        (None, Some(id)) => format!("#{}", id.0),
        (None, None) => "-".to_owned(),
    };
    let session = event.session_id.as_ref().map_or("-", |id| id.as_str());
    let ip = event.client.ip.as_deref().map_or_else(|| "-".to_owned(), printable);
    let agent = event.client.user_agent.as_deref().map_or_else(|| "-".to_owned(), printable);
    let millis = u64::try_from(event.at.as_millis()).unwrap_or(0);
    let time = humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(millis));
    format!("{time:<24}  {:<KIND_WIDTH$}  {user}  {session}  {ip}  {agent}", event.kind.as_str())
}

/// The time `--since` names at `now`: an RFC 3339 time, or a duration before `now`.
fn since(text: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    if let Ok(ago) = humantime::parse_duration(text) {
        return Ok(now.minus(ago));
    }
    rfc3339(text).with_context(|| {
        format!("`{text}` is neither an RFC 3339 time such as 2026-11-28T09:00:00Z nor a duration such as 1h or 7d")
    })
}

/// An RFC 3339 time with `Z` or a numeric offset (humantime reads only `Z`, so the offset is applied here).
fn rfc3339(text: &str) -> anyhow::Result<Timestamp> {
    let split = text.len().checked_sub(6).and_then(|at| Some((text.get(..at)?, text.get(at..)?)));
    let (local, offset) = match split {
        Some((local, tail)) if tail.starts_with(['+', '-']) && tail.as_bytes().get(3) == Some(&b':') => {
            (format!("{local}Z"), offset(tail)?)
        }
        _ => (text.replacen('z', "Z", 1).replacen('t', "T", 1), 0),
    };
    let at = humantime::parse_rfc3339(&local)?;
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).context("the time is before 1970")?;
    let millis = i64::try_from(since_epoch.as_millis()).context("the time is too far in the future")?;
    Ok(Timestamp::from_millis(millis.saturating_sub(offset)))
}

/// `+hh:mm` or `-hh:mm` in milliseconds east of UTC.
fn offset(text: &str) -> anyhow::Result<i64> {
    let (sign, rest) = text.split_at(1);
    let Some((hours, minutes)) = rest.split_once(':') else {
        bail!("a malformed offset `{text}`");
    };
    let (hours, minutes): (i64, i64) = (hours.parse()?, minutes.parse()?);
    if hours > 23 || minutes > 59 {
        bail!("a malformed offset `{text}`");
    }
    let millis = (hours * 60 + minutes) * 60_000;
    Ok(if sign == "-" { -millis } else { millis })
}

#[cfg(test)]
mod tests {
    use authtoken_core::event::{AuditEvent, EventId, EventKind};
    use authtoken_core::session::{ClientInfo, SessionId};
    use authtoken_core::user::UserId;

    use super::*;

    /// 2026-11-28T00:00:00Z.
    const MIDNIGHT: Timestamp = Timestamp::from_millis(1_795_824_000_000);

    #[track_caller]
    fn check(text: &str, expected: Option<Timestamp>) {
        assert_eq!(since(text, MIDNIGHT).ok(), expected, "{text}");
    }

    fn minutes(count: i64) -> Timestamp {
        Timestamp::from_millis(MIDNIGHT.as_millis() + count * 60_000)
    }

    #[test]
    fn since_takes_rfc_3339_times_and_durations_ago() {
        check("2026-11-28T00:00:00Z", Some(MIDNIGHT));
        check("2026-11-28t00:00:00z", Some(MIDNIGHT));
        check("2026-11-28T00:30:00.250Z", Some(Timestamp::from_millis(minutes(30).as_millis() + 250)));
        check("2026-11-28T01:00:00+01:00", Some(MIDNIGHT));
        check("2026-11-27T18:30:00-05:30", Some(MIDNIGHT));
        check("1h", Some(minutes(-60)));
        check("90m", Some(minutes(-90)));
        check("7d", Some(minutes(-7 * 24 * 60)));
        check("2026-11-28", None);
        check("2026-11-28 00:00:00", None);
        check("2026-11-28T00:00:00", None);
        check("2026-11-28T00:00:00+25:00", None);
        check("yesterday", None);
        check("", None);
    }

    #[test]
    fn a_line_shows_every_field_with_dashes_for_what_is_missing() {
        let session = SessionId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
        let client = ClientInfo::new(Some("Firefox/140 (X11)\u{1b}[2J"), Some("192.0.2.1".into()));
        let event = |user, username: Option<&str>, session: Option<&SessionId>, client: &ClientInfo| StoredEvent {
            id: EventId(1),
            event: AuditEvent::new(EventKind::Login, MIDNIGHT, user, session, client),
            username: username.map(str::to_owned),
        };

        let full = line(&event(Some(UserId(7)), Some("alice"), Some(&session), &client));
        let gone = line(&event(Some(UserId(7)), None, None, &ClientInfo::default()));
        let nobody = line(&event(None, None, None, &ClientInfo::default()));

        let kind = format!("login{}", " ".repeat(KIND_WIDTH - 5));
        assert_eq!(
            full,
            format!(
                "2026-11-28T00:00:00.000Z  {kind}  alice  AAAAAAAAAAAAAAAAAAAAAA  192.0.2.1  Firefox/140 (X11)?[2J"
            )
        );
        assert_eq!(gone, format!("2026-11-28T00:00:00.000Z  {kind}  #7  -  -  -"));
        assert_eq!(nobody, format!("2026-11-28T00:00:00.000Z  {kind}  -  -  -  -"));
    }

    #[test]
    fn the_kind_column_is_as_wide_as_the_widest_kind() {
        let widest = EventKind::ALL.iter().map(|kind| kind.as_str().len()).max();

        assert_eq!(widest, Some(KIND_WIDTH));
    }
}
