//! Isolators, one per file with Mesos' names: each turns what a task asked
//! for into a [`SpecPatch`] on the container's OCI spec, and names the
//! cgroup v2 controllers it needs. The containerizer merges the patches
//! (conflicts are errors naming both isolators) and the OCI runtime
//! enforces the result.
//!
//! `--isolation` picks the set (comma separated); the default is every
//! isolator here.

pub mod cgroups;
pub mod filesystem;
pub mod linux;
pub mod namespaces;
pub mod patch;
pub mod posix;

pub use patch::{MergeError, Op, SpecPatch};

use std::path::PathBuf;

/// What a container is launched with, as isolators see it.
#[derive(Debug, Clone)]
pub struct Launch {
    /// cpus asked for.
    pub cpus: f64,
    /// mem asked for, MiB.
    pub mem_mib: f64,
    /// Bytes per second the task may read and write on the I/O device,
    /// from its `disk_read_bps` and `disk_write_bps` resources.
    pub io_bps: (Option<u64>, Option<u64>),
    /// The sandbox on the host.
    pub sandbox: PathBuf,
    /// The task's image, when it names one.
    pub image: Option<ImageRoot>,
    /// Its container's volumes (`ContainerInfo.volumes`).
    pub volumes: Vec<corral_api::v1::Volume>,
}

/// What isolators see of a task's image: its rootfs is the container's
/// (writable, in the bundle), with the host's folders nowhere in it.
#[derive(Debug, Clone, Default)]
pub struct ImageRoot {
    /// The image config's WorkingDir (else the sandbox is the cwd).
    pub working_dir: Option<String>,
}

/// Settings of the isolators, from the agent's flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Hard-cap CPU with cpu.max (Mesos' --cgroups_enable_cfs).
    pub cfs_quota: bool,
    /// pids.max of every container.
    pub pids_max: u64,
    /// The I/O device (major, minor) for io.max, if configured.
    pub io_device: Option<(u64, u64)>,
    /// Host paths tasks must not see (the agent's work dir, ...).
    pub hidden: Vec<PathBuf>,
    /// Writable host mounts below / that tasks get read-only.
    pub host_mounts: Vec<PathBuf>,
    /// The host's top-level folders, bound read-only into every root.
    pub host_root: Vec<PathBuf>,
    /// The agent's own RLIMIT_NOFILE hard limit.
    pub nofile_hard: u64,
    /// The command executor binary on the host.
    pub executor: PathBuf,
    /// Files the executor needs in image containers: (host file, path in
    /// the container) of its loader and libraries, when it is dynamically
    /// linked.
    pub executor_libs: Vec<(PathBuf, String)>,
}

/// An isolator could not prepare a container.
#[derive(Debug, thiserror::Error)]
pub enum IsolatorError {
    #[error("{isolator}: {message}")]
    Refused {
        isolator: &'static str,
        message: String,
    },
    #[error("unknown isolator {0:?} in --isolation (known: {known})", known = NAMES.join(", "))]
    Unknown(String),
}

/// One isolator.
pub trait Isolator: Send + Sync + std::fmt::Debug {
    /// Its Mesos name, e.g. `cgroups/memory`.
    fn name(&self) -> &'static str;
    /// cgroup v2 controllers it needs.
    fn controllers(&self) -> &'static [&'static str] {
        &[]
    }
    /// Its part of the container's spec.
    fn prepare(&self, launch: &Launch, settings: &Settings) -> Result<SpecPatch, IsolatorError>;
}

/// Every isolator's name, in merge order.
pub const NAMES: [&str; 10] = [
    "filesystem/linux",
    "namespaces/pid",
    "namespaces/ipc",
    "cgroups/cpu",
    "cgroups/memory",
    "cgroups/pids",
    "cgroups/io",
    "linux/capabilities",
    "linux/seccomp",
    "posix/rlimits",
];

fn by_name(name: &str) -> Option<Box<dyn Isolator>> {
    Some(match name {
        "filesystem/linux" => Box::new(filesystem::Linux),
        "namespaces/pid" => Box::new(namespaces::Pid),
        "namespaces/ipc" => Box::new(namespaces::Ipc),
        "cgroups/cpu" => Box::new(cgroups::Cpu),
        "cgroups/memory" => Box::new(cgroups::Memory),
        "cgroups/pids" => Box::new(cgroups::Pids),
        "cgroups/io" => Box::new(cgroups::Io),
        "linux/capabilities" => Box::new(linux::Capabilities),
        "linux/seccomp" => Box::new(linux::Seccomp),
        "posix/rlimits" => Box::new(posix::Rlimits),
        _ => return None,
    })
}

/// Isolators every container gets, whatever `--isolation` says: without
/// them there is no root to run in.
pub const ALWAYS: [&str; 1] = ["filesystem/linux"];

/// The isolators `--isolation` names (all of them for `None`) plus
/// [`ALWAYS`], in merge order whatever order they were given in.
pub fn select(isolation: Option<&str>) -> Result<Vec<Box<dyn Isolator>>, IsolatorError> {
    let wanted: Vec<&str> = match isolation {
        None => NAMES.to_vec(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
    };
    if let Some(bad) = wanted.iter().find(|w| !NAMES.contains(w)) {
        return Err(IsolatorError::Unknown(bad.to_string()));
    }
    Ok(NAMES
        .iter()
        .filter(|n| wanted.contains(n) || ALWAYS.contains(n))
        .filter_map(|n| by_name(n))
        .collect())
}

/// The controllers `isolators` need that `available` lacks.
pub fn missing_controllers(
    isolators: &[Box<dyn Isolator>],
    available: &[String],
) -> Vec<&'static str> {
    let mut missing: Vec<&'static str> = isolators
        .iter()
        .flat_map(|i| i.controllers().iter().copied())
        .filter(|c| !available.iter().any(|a| a == c))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// Applies the named patches to `spec` in order.
pub fn merge_patches(
    spec: &mut serde_json::Value,
    patches: &[(String, SpecPatch)],
) -> Result<(), MergeError> {
    patch::merge(spec, patches)
}

/// Every isolator's patch, named, in order.
pub fn prepare_all(
    isolators: &[Box<dyn Isolator>],
    launch: &Launch,
    settings: &Settings,
) -> Result<Vec<(String, SpecPatch)>, IsolatorError> {
    isolators
        .iter()
        .map(|i| Ok((i.name().to_string(), i.prepare(launch, settings)?)))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn launch(cpus: f64, mem_mib: f64) -> Launch {
        Launch {
            cpus,
            mem_mib,
            io_bps: (None, None),
            sandbox: "/w/sandboxes/c".into(),
            image: None,
            volumes: Vec::new(),
        }
    }

    pub fn settings() -> Settings {
        Settings {
            cfs_quota: true,
            pids_max: 1024,
            io_device: None,
            hidden: Vec::new(),
            host_mounts: Vec::new(),
            host_root: Vec::new(),
            nofile_hard: u64::MAX,
            executor: "/usr/bin/corral".into(),
            executor_libs: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_keeps_merge_order_and_refuses_unknown_names() {
        let s = select(Some("cgroups/memory, namespaces/pid")).unwrap();
        let names: Vec<_> = s.iter().map(|i| i.name()).collect();
        assert_eq!(
            names,
            ["filesystem/linux", "namespaces/pid", "cgroups/memory"]
        );
        assert_eq!(select(None).unwrap().len(), NAMES.len());
        let e = select(Some("cgroups/gpu")).unwrap_err().to_string();
        assert!(
            e.contains("\"cgroups/gpu\"") && e.contains("cgroups/memory"),
            "{e}"
        );
    }

    #[test]
    fn missing_controllers_are_listed_once() {
        let all = select(None).unwrap();
        let have = vec!["cpu".to_string(), "pids".to_string()];
        assert_eq!(missing_controllers(&all, &have), ["io", "memory"]);
        let ns_only = select(Some("namespaces/pid,filesystem/linux")).unwrap();
        assert!(missing_controllers(&ns_only, &[]).is_empty());
    }
}
