//! The container lifecycle, one verb per file: create, start, run (create
//! and start in one step), state, kill, delete, plus pause/resume, update and stats over the cgroup. `Runtime`
//! ties the state store to a cgroup driver; the same API serves the
//! `corral oci` command line and the agent in-process.

mod control;
mod create;
mod delete;
mod error;
mod exec;
mod kill;
mod run;
mod start;
mod state;

pub use create::CreateOptions;
pub use error::RuntimeError;
pub use exec::{Execed, exec_bundle};

use crate::id::ContainerId;
use crate::state::{State, StateStore};
use corral_isolator::cgroup::{CgroupDriver, FsDriver};
use corral_systemd::scope::{DEFAULT_SLICE, ScopePath, SystemdDriver};
use std::path::{Path, PathBuf};

/// The default state root, like runc's /run/runc.
pub const DEFAULT_ROOT: &str = "/run/corral-oci";

/// An OCI runtime over a state root and a cgroup driver.
#[derive(Debug)]
pub struct Runtime {
    store: StateStore,
    driver: Box<dyn CgroupDriver>,
    cgroup_root: PathBuf,
    /// With the systemd driver, the slice of containers without a cgroupsPath.
    systemd_slice: Option<String>,
}

impl Runtime {
    /// A runtime keeping state under `root`, with cgroups under
    /// `cgroup_root` (normally /sys/fs/cgroup) through the file driver.
    pub fn new(root: impl Into<PathBuf>, cgroup_root: impl Into<PathBuf>) -> Runtime {
        let cgroup_root = cgroup_root.into();
        Runtime {
            store: StateStore::new(root),
            driver: Box::new(FsDriver::with_root(&cgroup_root)),
            cgroup_root,
            systemd_slice: None,
        }
    }

    /// A runtime whose containers are systemd transient scopes (runc's
    /// `--systemd-cgroup`): linux.cgroupsPath is `SLICE:PREFIX:NAME`, and
    /// without one a container is `corral-ID.scope` in `corral.slice`.
    pub fn systemd(root: impl Into<PathBuf>, cgroup_root: impl Into<PathBuf>) -> Runtime {
        let cgroup_root = cgroup_root.into();
        Runtime {
            store: StateStore::new(root),
            driver: Box::new(SystemdDriver::with_mount(&cgroup_root)),
            cgroup_root,
            systemd_slice: Some(DEFAULT_SLICE.to_string()),
        }
    }

    /// Like [`Runtime::systemd`], containers without a cgroupsPath going to
    /// `slice`.
    pub fn systemd_in(
        root: impl Into<PathBuf>,
        cgroup_root: impl Into<PathBuf>,
        slice: &str,
    ) -> Runtime {
        Runtime {
            systemd_slice: Some(slice.to_string()),
            ..Runtime::systemd(root, cgroup_root)
        }
    }

    /// The cgroup path of container `id` for this runtime's driver: the
    /// spec's cgroupsPath if it has one, else the driver's default.
    pub fn cgroup_path_for(&self, spec_path: Option<&Path>, id: &ContainerId) -> PathBuf {
        match (&self.systemd_slice, spec_path) {
            (Some(_), Some(p)) if !p.as_os_str().is_empty() => p.to_path_buf(),
            (Some(slice), _) => PathBuf::from(ScopePath::cgroups_path(slice, id.as_str())),
            (None, p) => cgroup_relative(p, id),
        }
    }

    /// The state store.
    pub fn store(&self) -> &StateStore {
        &self.store
    }

    /// The ids of all containers.
    pub fn list(&self) -> Result<Vec<ContainerId>, RuntimeError> {
        Ok(self.store.list()?)
    }

    fn load(&self, id: &ContainerId) -> Result<State, RuntimeError> {
        Ok(self.store.load(id)?)
    }

    fn cgroup_of(&self, state: &State) -> Result<corral_isolator::cgroup::Cgroup, RuntimeError> {
        self.driver
            .open(&state.cgroup_relative)
            .map_err(|e| RuntimeError::Cgroup(e.to_string()))
    }

    fn start_socket(&self, id: &ContainerId) -> PathBuf {
        self.store.dir(id).join("start.sock")
    }
}

/// The cgroup path of a container: linux.cgroupsPath relative to the cgroup
/// root (absolute paths are taken from the root, as runc does), or
/// `corral-oci/<id>` by default.
pub fn cgroup_relative(spec_path: Option<&Path>, id: &ContainerId) -> PathBuf {
    match spec_path {
        Some(p) if !p.as_os_str().is_empty() => p
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .collect(),
        _ => Path::new("corral-oci").join(id.as_str()),
    }
}

/// The bundle's seccomp profile compiled, if it has one.
pub(crate) fn compile_seccomp(
    bundle: &crate::spec::Bundle,
) -> Result<Option<crate::seccomp::SeccompProgram>, RuntimeError> {
    bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().as_ref())
        .map(crate::seccomp::compile)
        .transpose()
        .map_err(|e| RuntimeError::Seccomp(e.to_string()))
}

/// Connects to the console socket when the process wants a terminal.
pub(crate) fn console_socket(
    terminal: bool,
    path: Option<&Path>,
) -> Result<Option<std::os::fd::OwnedFd>, RuntimeError> {
    match (terminal, path) {
        (true, Some(p)) => std::os::unix::net::UnixStream::connect(p)
            .map(|s| Some(s.into()))
            .map_err(RuntimeError::io(format!(
                "connecting to console socket {}",
                p.display()
            ))),
        (true, None) => Err(RuntimeError::Unsupported(
            "process.terminal is true: pass --console-socket".into(),
        )),
        (false, _) => Ok(None),
    }
}

/// /proc/sys/kernel/cap_last_cap, or 40 (Linux 5.9+) if unreadable.
pub fn last_cap() -> u32 {
    // Fixed for the kernel's lifetime: read once per process.
    static LAST_CAP: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *LAST_CAP.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_paths_stay_under_the_root() {
        let id = ContainerId::new("c1").unwrap();
        assert_eq!(cgroup_relative(None, &id), PathBuf::from("corral-oci/c1"));
        assert_eq!(
            cgroup_relative(Some(Path::new("/a/b")), &id),
            PathBuf::from("a/b")
        );
        assert_eq!(
            cgroup_relative(Some(Path::new("x/../../y")), &id),
            PathBuf::from("x/y")
        );
    }
}
