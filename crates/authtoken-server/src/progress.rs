//! Progress of the long commands: a bar on a terminal, plain lines otherwise (a log file, a pipe, CI).
//!
//! Both go to stderr, so the command's answer on stdout stays clean for a script.

use std::io::{IsTerminal as _, Write as _};

use indicatif::{ProgressBar, ProgressStyle};

/// How far a command is through `total` things.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    total: Option<u64>,
    done: u64,
    /// The last step a plain line was written at: tenths of `total`, or thousands when the total is unknown.
    written: u64,
}

impl Progress {
    /// Progress through `total` `what` (a plural: "users"), or through an unknown number when `total` is `None`.
    pub(crate) fn new(total: Option<u64>, what: &'static str) -> Self {
        Self::on(std::io::stderr().is_terminal(), total, what)
    }

    /// A bar when `terminal`, plain lines otherwise.
    fn on(terminal: bool, total: Option<u64>, what: &'static str) -> Self {
        let bar = terminal.then(|| {
            let bar = total.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
            let template = if total.is_some() {
                format!("{{bar:40}} {{pos}}/{{len}} {what} ({{eta}} left)")
            } else {
                format!("{{spinner}} {{pos}} {what}")
            };
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            bar
        });
        Self { bar, what, total, done: 0, written: 0 }
    }

    /// `count` more are done: the bar moves, or, at each tenth of the total (each thousand when it is unknown), a
    /// line says how many so far.
    pub(crate) fn advance(&mut self, count: u64) {
        self.done += count;
        if let Some(bar) = &self.bar {
            bar.inc(count);
            return;
        }
        let step = match self.total {
            Some(total) => self.done.saturating_mul(10) / total.max(1),
            None => self.done / 1000,
        };
        if step > self.written {
            self.written = step;
            match self.total {
                Some(total) => self.line(&format!("{} of {total} {}", self.done, self.what)),
                None => self.line(&format!("{} {}", self.done, self.what)),
            }
        }
    }

    /// A line on stderr above the bar.
    pub(crate) fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    /// Takes the bar off the terminal, before the command writes its answer.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_come_at_each_tenth_not_at_each_step() {
        let mut progress = Progress::on(false, Some(100), "users");
        let mut lines = 0;
        for _ in 0..100 {
            let before = progress.written;
            progress.advance(1);
            lines += u64::from(progress.written > before);
        }
        assert_eq!(lines, 10);
        assert!(progress.bar.is_none());
    }
}
