//! How busy the shared machine was, so that a reader can judge how far to trust a run.

use std::time::Duration;

/// CPU time in clock ticks: all CPUs' busy and total time, and the part that this process, its reaped
/// children (wrk) and the servers used.
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuSample {
    busy: u64,
    total: u64,
    ours: u64,
}

impl CpuSample {
    /// Reads `/proc/stat`, `/proc/self/stat` and each server's `/proc/<pid>/stat`.
    pub(super) fn now(servers: &[u32]) -> Option<Self> {
        let (total, idle) = parse_cpu_line(std::fs::read_to_string("/proc/stat").ok()?.lines().next()?)?;
        let own = process_ticks("/proc/self/stat", true)?;
        let servers =
            servers.iter().map(|pid| process_ticks(&format!("/proc/{pid}/stat"), false)).sum::<Option<u64>>()?;
        Some(Self { busy: total - idle, total, ours: own + servers })
    }

    /// The share of all CPUs (0 to 1) that other processes kept busy since `earlier`.
    pub(super) fn foreign_since(&self, earlier: &Self) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total).filter(|total| *total > 0)?;
        let busy = self.busy.saturating_sub(earlier.busy);
        let ours = self.ours.saturating_sub(earlier.ours);
        Some(busy.saturating_sub(ours) as f64 / total as f64)
    }
}

/// The share of all CPUs (0 to 1) that other processes kept busy during `window`, while this one sleeps.
pub(super) fn foreign_load(window: Duration) -> Option<f64> {
    let before = CpuSample::now(&[])?;
    std::thread::sleep(window);
    CpuSample::now(&[])?.foreign_since(&before)
}

/// The one-minute load average.
pub(super) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// `(total, idle)` ticks of all CPUs from the first line of `/proc/stat`; idle includes I/O wait.
fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.map(str::parse).collect::<Result<_, _>>().ok()?;
    let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
    Some((values.iter().take(8).sum(), idle))
}

/// utime + stime (+ cutime + cstime for reaped children) of a process, in clock ticks.
fn process_ticks(path: &str, with_children: bool) -> Option<u64> {
    parse_process_stat(&std::fs::read_to_string(path).ok()?, with_children)
}

fn parse_process_stat(stat: &str, with_children: bool) -> Option<u64> {
    // The command name may hold spaces and parentheses: the fields that follow start after the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After `)`: state is field 3 of stat(5), so utime (14) is index 11, stime 12, cutime 13, cstime 14.
    let count = if with_children { 4 } else { 2 };
    fields.get(11..11 + count)?.iter().map(|field| field.parse::<u64>().ok()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(line: &str, expected: Option<(u64, u64)>) {
        assert_eq!(parse_cpu_line(line), expected, "{line:?}");
    }

    #[test]
    fn the_cpu_line_gives_total_and_idle_ticks() {
        check("cpu  100 0 50 800 50 0 0 0 0 0", Some((1000, 850)));
        check("cpu  1 2 3 4", Some((10, 4)));
        check("cpu0 1 2 3 4 5", None);
        check("cpu  x", None);
    }

    #[test]
    fn process_ticks_are_read_after_the_command_name() {
        let stat = "42 (tokio (rt) x) S 1 42 42 0 -1 4194304 100 0 0 0 700 300 20 10 20 0 4 0 100 0 0";

        assert_eq!(parse_process_stat(stat, false), Some(1000));
        assert_eq!(parse_process_stat(stat, true), Some(1030));
        assert_eq!(parse_process_stat("42 (x) S 1", false), None);
    }

    #[test]
    fn foreign_load_is_what_others_used() {
        let before = CpuSample { busy: 100, total: 1000, ours: 50 };
        let after = CpuSample { busy: 700, total: 1800, ours: 450 };

        assert_eq!(after.foreign_since(&before), Some(0.25));
        assert_eq!(before.foreign_since(&before), None);
    }
}
