//! The cluster under test: a real `corral master`, one real `corral agent`
//! (its own work dir and cgroup subtree, killed and removed on drop as
//! `corral_tests::agent::AgentProcess` does, but with the binary named on
//! the command line) and its RSS, read from `/proc/PID/status`.

use corral_tests::cgroup::DriverRoot;
use corral_tests::master::MasterProcess;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A running `corral agent`. Drop order matters: the process is killed
/// first, then its cgroup subtree (every task left in it) killed and
/// removed.
#[derive(Debug)]
pub(crate) struct Agent {
    process: MasterProcess,
    cgroup: DriverRoot,
}

impl Agent {
    /// `CORRAL agent --master MASTER --cgroup-root <own> --resources R
    /// EXTRA`, waiting for its listening line (panics with its log if it
    /// fails).
    pub(crate) fn start(corral: &Path, master: &str, resources: &str, extra: &[&str]) -> Agent {
        let cgroup = DriverRoot::new("agentbench");
        let root = cgroup
            .path
            .strip_prefix("/sys/fs/cgroup")
            .expect("DriverRoot is under /sys/fs/cgroup")
            .display()
            .to_string();
        let mut args = vec![
            "--master",
            master,
            "--cgroup-root",
            &root,
            "--resources",
            resources,
        ];
        args.extend_from_slice(extra);
        let process = MasterProcess::start_daemon("agent", corral, &args);
        Agent { process, cgroup }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The last `n` characters of what it printed.
    pub(crate) fn log_tail(&self, n: usize) -> String {
        let log = self.process.stderr_log();
        let cut = log.len().saturating_sub(n);
        let start = (cut..log.len())
            .find(|i| log.is_char_boundary(*i))
            .unwrap_or(log.len());
        log[start..].to_string()
    }

    /// The folder holding one cgroup per container.
    fn containers(&self) -> PathBuf {
        self.cgroup.path.join("containers")
    }

    /// The containers' cgroups: how many, and their `memory.current` summed.
    pub(crate) fn container_memory(&self) -> (usize, u64) {
        let mut count = 0;
        let mut bytes = 0;
        for entry in fs::read_dir(self.containers())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().is_dir() {
                count += 1;
                let current = fs::read_to_string(entry.path().join("memory.current"));
                bytes += current
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
            }
        }
        (count, bytes)
    }

    /// Waits (up to `timeout`) until no container cgroup is left; returns
    /// how many there still are.
    pub(crate) fn wait_containers_gone(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let (left, _) = self.container_memory();
            if left == 0 || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rss {
    pub(crate) rss_kib: u64,
    pub(crate) hwm_kib: u64,
}

/// Reads `/proc/PID/status`.
pub(crate) fn rss(pid: Option<u32>) -> Result<Rss, String> {
    let pid = pid.ok_or("the process is not running")?;
    let path = format!("/proc/{pid}/status");
    let text = fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("{path}: no {key} line"))
    };
    Ok(Rss {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}
