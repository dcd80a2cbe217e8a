//! The operator's commands for users, sessions and the audit trail (`authtoken users …`, `authtoken sessions …`,
//! `authtoken events`), and what they share: finding a user by name, printing a table, and ending quietly when the
//! reader of the output has gone.
//!
//! Every bad input ends the command with one message naming what is wrong (which `main` prints to stderr) and a
//! non-zero exit; results go to stdout.

pub(crate) mod events;
mod password;
pub(crate) mod sessions;
pub(crate) mod users;

use std::io::{self, Write};

use anyhow::bail;
use authtoken_core::User;
use authtoken_core::ports::UserRepo as _;
use authtoken_core::user::username_key;

use crate::startup::Wired;

/// Treats a closed standard output (`authtoken users list | head -1`) as success: the reader has what it wanted,
/// and whatever the command changed is done.
pub(crate) fn closed_pipe_is_success(result: anyhow::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e) if e.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) => Ok(()),
        other => other,
    }
}

/// The user named exactly `name`; with case-insensitive usernames, else the user whose name matches it in any case,
/// as a login would find it.
async fn find_user(wired: &Wired, name: &str) -> anyhow::Result<User> {
    if let Some(user) = wired.store.find_by_username(name).await? {
        return Ok(user);
    }
    if wired.service.config().username_case_insensitive
        && let Some(found) = wired.store.find_by_key(&username_key(name, true)).await?
    {
        return Ok(found.user);
    }
    bail!("no user named `{name}`")
}

/// Writes `rows` under `headers` in columns two spaces apart, each as wide as its widest cell (the last one is not
/// padded). Control characters in a cell are shown as `?`, so no stored text can steer the terminal.
fn write_table(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let rows: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|cell| printable(cell)).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&headers).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// `1 session`, `2 sessions`.
fn sessions(count: u64) -> String {
    if count == 1 { "1 session".to_owned() } else { format!("{count} sessions") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(rows: &[&[&str]], expected: &str) {
        let rows: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|c| (*c).to_owned()).collect()).collect();
        let mut out = Vec::new();
        write_table(&mut out, &["id", "name", "note"], &rows).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn tables_align_their_columns_and_hide_control_characters() {
        check(&[], "id  name  note\n");
        check(&[&["1", "alice", "-"], &["12", "bob", "a b"]], "id  name   note\n1   alice  -\n12  bob    a b\n");
        check(&[&["1", "Jürgen", ""]], "id  name    note\n1   Jürgen\n");
        check(&[&["1", "x", "\u{1b}[2Jgone\n"]], "id  name  note\n1   x     ?[2Jgone?\n");
    }

    #[test]
    fn a_closed_pipe_is_success_and_other_errors_are_not() {
        let closed = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        let full = anyhow::Error::from(io::Error::from(io::ErrorKind::StorageFull));

        assert!(closed_pipe_is_success(Err(closed)).is_ok());
        assert!(closed_pipe_is_success(Err(full)).is_err());
        assert!(closed_pipe_is_success(Ok(())).is_ok());
    }

    #[test]
    fn counts_of_sessions_read_as_words() {
        assert_eq!(sessions(0), "0 sessions");
        assert_eq!(sessions(1), "1 session");
        assert_eq!(sessions(2), "2 sessions");
    }
}
