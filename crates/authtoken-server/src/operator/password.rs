//! Where an operator's new password comes from: one line of stdin, or a prompt on the terminal, never the command
//! line (which other users of the machine can read, and shells keep in their history).

use std::io::{BufRead, IsTerminal as _, Read as _};

use anyhow::{Context as _, bail};
use authtoken_core::user::{PASSWORD_MAX_CHARS, Password};
use zeroize::Zeroizing;

/// The most bytes read from stdin for a password: more than the longest password that the rules allow can take.
const MAX_LINE_BYTES: usize = PASSWORD_MAX_CHARS * 4 + 2;

/// Reads the new password: the first line of stdin with `from_stdin`, else twice from a prompt without echo when
/// stdin is a terminal. Anything else is refused with a message that names `--password-stdin`.
///
/// This blocks the calling thread, which is what a command line wants while it waits for its operator.
pub(super) fn read(from_stdin: bool) -> anyhow::Result<Password> {
    if from_stdin {
        return first_line(&mut std::io::stdin().lock());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password given: pass --password-stdin and write the password on stdin, or run the command in a \
             terminal to be asked for it"
        );
    }
    let mut password =
        Zeroizing::new(rpassword::prompt_password("New password: ").context("cannot read the password")?);
    let again = Zeroizing::new(rpassword::prompt_password("Repeat it: ").context("cannot read the password")?);
    if password != again {
        bail!("the two passwords differ; nothing changed");
    }
    Ok(Password::new(std::mem::take(&mut *password)))
}

/// The first line of `input` as the password, without its line ending (`\n` or `\r\n`) and otherwise exactly as
/// written: a password is never trimmed.
fn first_line(input: &mut impl BufRead) -> anyhow::Result<Password> {
    let mut line = Zeroizing::new(Vec::new());
    let read = input.take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut line).context("cannot read stdin")?;
    if read == 0 {
        bail!("stdin is empty: write the password on one line");
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    } else if line.len() > MAX_LINE_BYTES {
        bail!("the line on stdin is too long for a password (at most {PASSWORD_MAX_CHARS} characters)");
    }
    let Ok(text) = std::str::from_utf8(&line) else {
        bail!("the password on stdin is not valid UTF-8");
    };
    Ok(Password::new(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &[u8], expected: Result<&str, &str>) {
        let read = first_line(&mut &input[..]);
        let read = read.as_ref().map(|password| password.as_bytes()).map_err(ToString::to_string);
        assert_eq!(read, expected.map(str::as_bytes).map_err(str::to_owned), "{input:?}");
    }

    #[test]
    fn the_password_is_the_first_line_without_its_line_ending() {
        check(b"correct horse\n", Ok("correct horse"));
        check(b"correct horse", Ok("correct horse"));
        check(b"correct horse\r\n", Ok("correct horse"));
        check(b"  spaced  \n", Ok("  spaced  "));
        check(b"tab\tinside\r\r\n", Ok("tab\tinside\r"));
        check(b"first\nsecond\n", Ok("first"));
        check(b"\n", Ok(""));
        check("Jürgen's pässwörd\n".as_bytes(), Ok("Jürgen's pässwörd"));
        check(&[b'p'; MAX_LINE_BYTES], Ok(&"p".repeat(MAX_LINE_BYTES)));
    }

    #[test]
    fn empty_overlong_and_non_utf8_input_is_refused() {
        check(b"", Err("stdin is empty: write the password on one line"));
        check(
            &[b'p'; MAX_LINE_BYTES + 1],
            Err("the line on stdin is too long for a password (at most 128 characters)"),
        );
        check(b"\xff\xfe\n", Err("the password on stdin is not valid UTF-8"));
    }
}
