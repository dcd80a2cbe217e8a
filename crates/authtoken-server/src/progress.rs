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
}

impl Progress {
    /// Progress through `total` `what` (a plural: "users"), or through an unknown number when `total` is `None`.
    pub(crate) fn new(total: Option<u64>, what: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
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
        Self { bar, what, total, done: 0 }
    }

    /// `count` more are done: the bar moves, or a line says how many so far.
    pub(crate) fn advance(&mut self, count: u64) {
        self.done += count;
        match (&self.bar, self.total) {
            (Some(bar), _) => bar.inc(count),
            (None, Some(total)) => self.line(&format!("{} of {total} {}", self.done, self.what)),
            (None, None) => self.line(&format!("{} {}", self.done, self.what)),
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
