//! Usage and limit accounting of one cgroup, read from its interface files:
//! cpu.stat, memory.{current,peak,max,swap.current,stat,events}, io.stat,
//! pids.{current,max} and the PSI files. A controller that is not enabled for
//! the cgroup (or a file the kernel is too old for) gives `None`, not an error.
//! The parsers live in [`super::parse`] and [`super::psi`].

use super::error::CgroupError;
use super::files;
use super::parse::{self, ParseError};
use super::psi::{self, PsiStats};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A snapshot of one cgroup's accounting.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// cpu.stat (present even without the cpu controller, minus throttling).
    pub cpu: CpuStats,
    /// The memory controller's files; `None` when it is not enabled.
    pub memory: Option<MemoryStats>,
    /// io.stat, one entry per device; `None` when io is not enabled.
    pub io: Option<Vec<IoDeviceStats>>,
    /// pids.current and pids.max; `None` when pids is not enabled.
    pub pids: Option<PidsStats>,
    /// Pressure stall information of cpu, memory and io.
    pub psi: PsiStats,
}

/// cpu.stat. The throttling counters are 0 when the cpu controller is not
/// enabled for the cgroup; bursts need kernel 5.14.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CpuStats {
    /// Total CPU time, microseconds.
    pub usage_usec: u64,
    /// User CPU time, microseconds.
    pub user_usec: u64,
    /// System CPU time, microseconds.
    pub system_usec: u64,
    /// cpu.max enforcement periods that have elapsed.
    pub nr_periods: u64,
    /// Periods in which the cgroup was throttled.
    pub nr_throttled: u64,
    /// Total time throttled, microseconds.
    pub throttled_usec: u64,
    /// Periods in which cpu.max.burst was used.
    pub nr_bursts: u64,
    /// Total burst time used, microseconds.
    pub burst_usec: u64,
}

/// memory.events (hierarchical: it counts the cgroup's descendants too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemoryEvents {
    /// Reclaims despite usage under memory.low.
    pub low: u64,
    /// Times usage went over memory.high and was throttled.
    pub high: u64,
    /// Times usage was about to go over memory.max.
    pub max: u64,
    /// Times the OOM killer was invoked (allocation failed at memory.max).
    pub oom: u64,
    /// Processes killed by the OOM killer.
    pub oom_kill: u64,
    /// Whole-group kills under memory.oom.group (kernel 5.17+, else 0).
    pub oom_group_kill: u64,
}

impl MemoryEvents {
    /// The counts that grew since `earlier` (each `self - earlier`, at least 0).
    pub fn since(&self, earlier: &MemoryEvents) -> MemoryEvents {
        MemoryEvents {
            low: self.low.saturating_sub(earlier.low),
            high: self.high.saturating_sub(earlier.high),
            max: self.max.saturating_sub(earlier.max),
            oom: self.oom.saturating_sub(earlier.oom),
            oom_kill: self.oom_kill.saturating_sub(earlier.oom_kill),
            oom_group_kill: self.oom_group_kill.saturating_sub(earlier.oom_group_kill),
        }
    }

    /// Whether any count is non-zero.
    pub fn any(&self) -> bool {
        *self != MemoryEvents::default()
    }
}

/// The memory controller's accounting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemoryStats {
    /// memory.current, bytes.
    pub current: u64,
    /// memory.peak, bytes (kernel 5.19+, else `None`).
    pub peak: Option<u64>,
    /// memory.max, bytes; `None` means no limit (`max`).
    pub max: Option<u64>,
    /// memory.swap.current, bytes; `None` without swap accounting.
    pub swap_current: Option<u64>,
    /// memory.stat, every key as the kernel names it (bytes or counts).
    pub stat: BTreeMap<String, u64>,
    /// memory.events.
    pub events: MemoryEvents,
}

/// One device's line of io.stat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IoDeviceStats {
    /// Device major number.
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
    /// Bytes read.
    pub rbytes: u64,
    /// Bytes written.
    pub wbytes: u64,
    /// Read operations.
    pub rios: u64,
    /// Write operations.
    pub wios: u64,
    /// Bytes discarded.
    pub dbytes: u64,
    /// Discard operations.
    pub dios: u64,
}

/// The pids controller's accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PidsStats {
    /// pids.current: tasks (threads) in the cgroup and below.
    pub current: u64,
    /// pids.max; `None` means no limit (`max`).
    pub max: Option<u64>,
}

/// Reads every stat of the cgroup at `dir`.
pub(crate) fn collect(dir: &Path) -> Result<Stats, CgroupError> {
    Ok(Stats {
        cpu: parsed(dir, "cpu.stat", parse::cpu_stat)?,
        memory: memory(dir)?,
        io: optional(dir, "io.stat", parse::io_stat)?,
        pids: pids(dir)?,
        psi: PsiStats {
            cpu: optional(dir, "cpu.pressure", psi::parse)?,
            memory: optional(dir, "memory.pressure", psi::parse)?,
            io: optional(dir, "io.pressure", psi::parse)?,
        },
    })
}

/// memory.events of the cgroup at `dir`.
pub(crate) fn memory_events(dir: &Path) -> Result<MemoryEvents, CgroupError> {
    parsed(dir, "memory.events", parse::memory_events)
}

fn memory(dir: &Path) -> Result<Option<MemoryStats>, CgroupError> {
    let Some(current) = optional(dir, "memory.current", parse::single_u64)? else {
        return Ok(None);
    };
    Ok(Some(MemoryStats {
        current,
        peak: optional(dir, "memory.peak", parse::single_u64)?,
        max: parsed(dir, "memory.max", parse::limit)?,
        swap_current: optional(dir, "memory.swap.current", parse::single_u64)?,
        stat: parsed(dir, "memory.stat", parse::flat_keyed)?,
        events: memory_events(dir)?,
    }))
}

fn pids(dir: &Path) -> Result<Option<PidsStats>, CgroupError> {
    let Some(current) = optional(dir, "pids.current", parse::single_u64)? else {
        return Ok(None);
    };
    let max = parsed(dir, "pids.max", parse::limit)?;
    Ok(Some(PidsStats { current, max }))
}

/// Reads and parses `dir/file`.
pub(crate) fn parsed<T>(
    dir: &Path,
    file: &str,
    parser: fn(&str) -> Result<T, ParseError>,
) -> Result<T, CgroupError> {
    let text = files::read(dir, file)?;
    parser(&text).map_err(|e| parse_error(dir, file, e))
}

/// Reads and parses `dir/file`, `None` when the kernel does not have it here.
fn optional<T>(
    dir: &Path,
    file: &str,
    parser: fn(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, CgroupError> {
    match files::read_optional(dir, file)? {
        Some(text) => parser(&text)
            .map(Some)
            .map_err(|e| parse_error(dir, file, e)),
        None => Ok(None),
    }
}

pub(crate) fn parse_error(dir: &Path, file: &str, e: ParseError) -> CgroupError {
    CgroupError::Parse {
        cgroup: dir.to_path_buf(),
        file: file.to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn events_since_counts_only_growth() {
        let before = MemoryEvents {
            max: 3,
            oom: 1,
            ..Default::default()
        };
        let now = MemoryEvents {
            max: 5,
            oom: 1,
            oom_kill: 1,
            ..Default::default()
        };
        let d = now.since(&before);
        assert_eq!((d.max, d.oom, d.oom_kill), (2, 0, 1));
        assert!(d.any());
        assert!(!now.since(&now).any());
    }

    /// A directory laid out like a cgroup with only some controllers enabled.
    #[test]
    fn collect_reads_present_files_and_skips_absent_controllers() {
        let dir = std::env::temp_dir().join(format!("corral-stats-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let put = |f: &str, text: &str| fs::write(dir.join(f), text).unwrap();
        put("cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n");
        put("memory.current", "4096\n");
        put("memory.max", "max\n");
        put("memory.stat", "anon 4096\nfile 0\n");
        put("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        put(
            "cpu.pressure",
            "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n",
        );
        let s = collect(&dir).unwrap();
        assert_eq!(s.cpu.usage_usec, 10);
        let m = s.memory.unwrap();
        assert_eq!((m.current, m.peak, m.max), (4096, None, None));
        assert_eq!(m.stat["anon"], 4096);
        assert_eq!(s.io, None);
        assert_eq!(s.pids, None);
        assert_eq!(s.psi.cpu.unwrap().some.total, 5);
        assert_eq!(s.psi.memory, None);
        put("pids.current", "three\n");
        put("pids.max", "max\n");
        let msg = collect(&dir).unwrap_err().to_string();
        assert!(
            msg.contains("pids.current") && msg.contains("three"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
