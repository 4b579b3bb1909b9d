//! A real `corral agent` process for VM tests: a fresh work dir under
//! [`WORK_PARENT`], a cgroup subtree of its own
//! (`/sys/fs/cgroup/corral-test-agentN-PID`, given as `--cgroup-root`),
//! connected to a master. On drop the agent is killed,
//! then every task it left is killed and its cgroups removed (whatever the
//! agent did), and the work dir deleted.

use crate::cgroup::DriverRoot;
use crate::master::MasterProcess;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static AGENTS: AtomicU64 = AtomicU64::new(0);

/// Where agents' folders are made: not under /tmp, which every task gets
/// a fresh one of, so that a task looking for the agent's work dir at its
/// host path finds the (masked) folder, not an absent one.
pub const WORK_PARENT: &str = "/var/tmp";

/// A running agent.
#[derive(Debug)]
pub struct AgentProcess {
    process: MasterProcess,
    cgroup: DriverRoot,
}

impl AgentProcess {
    /// Starts `corral agent --master MASTER --cgroup-root <own> <extra>`
    /// (MASTER is `HOST:PORT`) and waits for its listening line.
    pub fn start(master: &str, extra: &[&str]) -> AgentProcess {
        AgentProcess::start_in(Path::new(WORK_PARENT), master, extra)
    }

    /// As [`AgentProcess::start`], its folders under `parent` (e.g. a
    /// filesystem that can hold an overlay's upper layer).
    pub fn start_in(parent: &Path, master: &str, extra: &[&str]) -> AgentProcess {
        crate::vm::require();
        let n = AGENTS.fetch_add(1, Ordering::Relaxed);
        let cgroup = DriverRoot::new(&format!("agent{n}"));
        let root = cgroup
            .path
            .strip_prefix("/sys/fs/cgroup")
            .expect("under the cgroup mount")
            .display()
            .to_string();
        let mut args = vec!["--master", master, "--cgroup-root", &root];
        args.extend_from_slice(extra);
        let process =
            MasterProcess::start_daemon_in(parent, "agent", &crate::oci::corral_bin(), &args);
        AgentProcess { process, cgroup }
    }

    /// `http://127.0.0.1:PORT` of the agent's API.
    pub fn url(&self) -> String {
        self.process.url()
    }

    /// Its work dir.
    pub fn work_dir(&self) -> PathBuf {
        self.process.work_dir()
    }

    /// The sandbox of a container (its id as the task status reports it).
    pub fn sandbox(&self, container_id: &str) -> PathBuf {
        self.work_dir().join("sandboxes").join(container_id)
    }

    /// Its cgroup subtree on the host.
    pub fn cgroup(&self) -> &Path {
        &self.cgroup.path
    }

    /// Everything it printed.
    pub fn log(&self) -> String {
        self.process.stderr_log()
    }

    /// SIGKILL, as a crash: its tasks keep running.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Starts it again on the same work dir (and port if free).
    pub fn restart(&mut self) {
        self.process.restart();
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        // What the agent had recorded, for the failure's story.
        let meta = self.work_dir().join("meta/containers");
        for entry in std::fs::read_dir(&meta).into_iter().flatten().flatten() {
            for file in ["task.json", "updates", "exit", "killed"] {
                let path = entry.path().join(file);
                if let Ok(text) = std::fs::read_to_string(&path) {
                    eprintln!("---- {} ----\n{text}", path.display());
                }
            }
        }
        let sandboxes = self.work_dir().join("sandboxes");
        for entry in std::fs::read_dir(&sandboxes)
            .into_iter()
            .flatten()
            .flatten()
        {
            for file in ["stdout", "stderr"] {
                let path = entry.path().join(file);
                if let Ok(text) = std::fs::read_to_string(&path) {
                    eprintln!("---- {} ----\n{text}", path.display());
                }
            }
        }
    }
}
