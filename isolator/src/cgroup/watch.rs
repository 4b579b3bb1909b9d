//! Blocking waits on a cgroup's notifications: [`MemoryWatcher`] reports new
//! memory.events counts (OOM, OOM kills, limit hits), and [`wait_for`] blocks
//! until cgroup.events reaches a state (frozen, unpopulated). Both use inotify
//! and re-read the file at least every [`RECHECK`], so a missed notification
//! only costs latency. The agent runs a watcher in a thread of its own.

use super::error::CgroupError;
use super::files;
use super::inotify::Inotify;
use super::parse::{self, CgroupEvents};
use super::stats::{self, MemoryEvents};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest a wait sleeps before re-reading the file on its own.
pub const RECHECK: Duration = Duration::from_millis(250);

/// What [`MemoryWatcher::wait`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryNotice {
    /// memory.events changed.
    Changed {
        /// The counts now.
        now: MemoryEvents,
        /// What grew since the previous notice (or since the watcher began):
        /// `new.oom_kill` processes were OOM-killed, and so on.
        new: MemoryEvents,
    },
    /// Nothing changed within the timeout.
    TimedOut,
    /// The cgroup is gone (destroyed).
    Removed,
}

/// Watches one cgroup's memory.events.
#[derive(Debug)]
pub struct MemoryWatcher {
    cgroup: PathBuf,
    inotify: Inotify,
    last: MemoryEvents,
}

impl MemoryWatcher {
    /// Starts watching the cgroup at `dir`; counts before this call are the
    /// baseline, not news.
    pub(crate) fn new(dir: &Path) -> Result<MemoryWatcher, CgroupError> {
        let file = dir.join("memory.events");
        let inotify = Inotify::watch(&file).map_err(|source| CgroupError::Watch {
            path: file.clone(),
            source,
        })?;
        let last = stats::memory_events(dir)?;
        Ok(MemoryWatcher {
            cgroup: dir.to_path_buf(),
            inotify,
            last,
        })
    }

    /// The counts at the last notice (or at the start).
    pub fn last(&self) -> MemoryEvents {
        self.last
    }

    /// Blocks until memory.events changes, the cgroup is removed, or
    /// `timeout` passes.
    pub fn wait(&mut self, timeout: Duration) -> Result<MemoryNotice, CgroupError> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = match files::read_raw(&self.cgroup, "memory.events") {
                Ok(text) => text,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    return Ok(MemoryNotice::Removed);
                }
                Err(e) => return Err(files::read_error(&self.cgroup, "memory.events", e)),
            };
            let now = parse::memory_events(&text)
                .map_err(|e| stats::parse_error(&self.cgroup, "memory.events", e))?;
            // The kernel's counts only grow: a read where nothing grew is
            // no change, even if it differs (a file rewritten under the
            // reader reads empty for a moment).
            let new = now.since(&self.last);
            if new.any() {
                self.last = now;
                return Ok(MemoryNotice::Changed { now, new });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(MemoryNotice::TimedOut);
            }
            self.sleep(left.min(RECHECK))?;
        }
    }

    fn sleep(&mut self, d: Duration) -> Result<(), CgroupError> {
        self.inotify
            .wait(d)
            .map(drop)
            .map_err(|source| CgroupError::Watch {
                path: self.cgroup.join("memory.events"),
                source,
            })
    }
}

/// Blocks until the cgroup.events of `dir` satisfies `done`, or fails with
/// [`CgroupError::Timeout`] naming `what` after `timeout`.
pub(crate) fn wait_for(
    dir: &Path,
    what: &'static str,
    timeout: Duration,
    done: impl Fn(&CgroupEvents) -> bool,
) -> Result<(), CgroupError> {
    // Already there: no watch. Closing an inotify fd waits for the kernel
    // (about 10 ms in the VM), which dominated container deletes.
    if done(&stats::parsed(dir, "cgroup.events", parse::cgroup_events)?) {
        return Ok(());
    }
    let file = dir.join("cgroup.events");
    let mut inotify = Inotify::watch(&file).map_err(|source| CgroupError::Watch {
        path: file.clone(),
        source,
    })?;
    let start = Instant::now();
    loop {
        let events = stats::parsed(dir, "cgroup.events", parse::cgroup_events)?;
        if done(&events) {
            return Ok(());
        }
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(CgroupError::Timeout {
                cgroup: dir.to_path_buf(),
                what,
                waited: start.elapsed(),
            });
        }
        inotify
            .wait(left.min(RECHECK))
            .map_err(|source| CgroupError::Watch {
                path: file.clone(),
                source,
            })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn fake_cgroup(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("corral-watch-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn memory_watcher_reports_growth_then_removal() {
        let dir = fake_cgroup("mem");
        let events = dir.join("memory.events");
        fs::write(&events, "low 0\nhigh 0\nmax 2\noom 0\noom_kill 0\n").unwrap();
        let mut w = MemoryWatcher::new(&dir).unwrap();
        assert_eq!(
            w.wait(Duration::from_millis(10)).unwrap(),
            MemoryNotice::TimedOut
        );
        let writer = {
            let events = events.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                fs::write(&events, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
            })
        };
        let MemoryNotice::Changed { now, new } = w.wait(Duration::from_secs(10)).unwrap() else {
            panic!("no change seen");
        };
        writer.join().unwrap();
        assert_eq!((now.max, now.oom_kill), (3, 1));
        assert_eq!((new.max, new.oom, new.oom_kill), (1, 1, 1));
        assert_eq!(w.last(), now);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            w.wait(Duration::from_secs(1)).unwrap(),
            MemoryNotice::Removed
        );
    }

    #[test]
    fn wait_for_returns_at_the_state_or_times_out_naming_it() {
        let dir = fake_cgroup("events");
        fs::write(dir.join("cgroup.events"), "populated 0\nfrozen 1\n").unwrap();
        wait_for(&dir, "frozen", Duration::from_secs(1), |e| e.frozen).unwrap();
        let err = wait_for(&dir, "thawed", Duration::from_millis(30), |e| !e.frozen)
            .unwrap_err()
            .to_string();
        assert!(err.contains("waiting until thawed"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
