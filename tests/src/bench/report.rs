//! Measuring and reporting for the bench: CPU time of a process or thread
//! from `/proc` (utime + stime), of the whole machine, the load average,
//! the master's allocation passes (from its `/metrics`), nearest-rank
//! percentiles, and the wall clock for status timestamps.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the epoch.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// utime + stime of a `/proc/.../stat` file (`None` if unreadable).
pub fn cpu_of_stat(path: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces: count from its ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the file are 12 and 13 after the ')'.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|h| *h > 0).unwrap_or(100);
    Some(Duration::from_secs_f64((utime + stime) as f64 / hz as f64))
}

/// CPU time of process `pid` (all its threads).
pub fn process_cpu(pid: u32) -> Duration {
    cpu_of_stat(&format!("/proc/{pid}/stat")).unwrap_or_default()
}

/// CPU time of thread `tid` of this process.
pub fn thread_cpu(tid: i32) -> Duration {
    cpu_of_stat(&format!("/proc/self/task/{tid}/stat")).unwrap_or_default()
}

/// Busy CPU time of the whole machine (every CPU, all but idle and
/// iowait) from `/proc/stat`.
pub fn machine_busy() -> Duration {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
        return Duration::ZERO;
    };
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let busy: u64 = ticks
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .take(6)
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|h| *h > 0).unwrap_or(100);
    Duration::from_secs_f64(busy as f64 / hz as f64)
}

/// The 1-, 5- and 15-minute load averages as `/proc/loadavg` has them.
pub fn loadavg() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of sorted `values`.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// `n` with thousands separators: `40,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Count and total seconds of the master's allocation passes (its
/// `/metrics` histogram of recent passes); zeros if unreadable.
pub fn allocation_passes(url: &str) -> AllocationPasses {
    let text = crate::http::Client::new(url)
        .get("/metrics")
        .map(|r| r.text())
        .unwrap_or_default();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    AllocationPasses(
        value("corral_master_allocation_seconds_count"),
        value("corral_master_allocation_seconds_sum"),
    )
}

/// Allocation passes: how many, and their total seconds.
#[derive(Debug, Clone, Copy)]
pub struct AllocationPasses(pub f64, pub f64);

impl std::ops::Sub for AllocationPasses {
    type Output = AllocationPasses;

    fn sub(self, before: AllocationPasses) -> AllocationPasses {
        // The master keeps recent passes only: after a trim, report the
        // window as it is.
        if self.0 < before.0 {
            return self;
        }
        AllocationPasses(self.0 - before.0, self.1 - before.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&v, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&v[..1], 50.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn own_cpu_time_is_readable() {
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
        assert!(process_cpu(std::process::id()) > Duration::ZERO);
        assert_eq!(thousands(40000), "40,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
