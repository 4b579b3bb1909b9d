//! The agent's settings, as its command line gives them (Mesos' flag names
//! where one exists; `src/agent.rs` of the binary parses them).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which cgroup driver manages containers' cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupDriverKind {
    /// Plain cgroup v2 files under `--cgroup-root`.
    Fs,
    /// systemd transient scopes `corral-ID.scope` in `corral.slice`.
    Systemd,
}

/// Everything the agent is told.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master, `HOST:PORT`.
    pub master: String,
    /// Address to serve the agent's HTTP API on.
    pub ip: IpAddr,
    /// Its port (0: any free one).
    pub port: u16,
    /// The name reported to the master (default: the machine's).
    pub hostname: Option<String>,
    /// The work dir (sandboxes, checkpoints, runtime state).
    pub work_dir: PathBuf,
    /// `--resources`: overrides of the measured capacity.
    pub resources: Option<String>,
    /// `--attributes`: `name:value;...`.
    pub attributes: Option<String>,
    /// `--isolation`: isolator names, comma separated (default: all).
    pub isolation: Option<String>,
    /// The cgroup v2 mount.
    pub cgroup_mount: PathBuf,
    /// The agent's cgroup subtree, relative to the mount: the agent runs in
    /// `ROOT/agent`, containers in `ROOT/containers/ID`.
    pub cgroup_root: PathBuf,
    /// The cgroup driver.
    pub cgroup_driver: CgroupDriverKind,
    /// The command executor binary (the agent's own by default).
    pub executor: PathBuf,
    /// Memory kept back from MemTotal for the system and the agent, MiB.
    pub reserved_mem_mib: u64,
    /// pids.max of each container.
    pub default_pids_max: u64,
    /// Hard-cap CPU with cpu.max.
    pub cfs_quota: bool,
    /// The I/O device for io.max (`MAJ:MIN`).
    pub io_device: Option<(u64, u64)>,
    /// Ports offered when `--resources` does not name them.
    pub ports: (u64, u64),
    /// First resend of an unacknowledged status update.
    pub update_retry: Duration,
    /// Kill grace period when the task names none (Mesos: 3 s).
    pub kill_grace: Duration,
    /// How often sandboxes are measured against their disk quota.
    pub disk_watch: Duration,
    /// A folder of OCI image layouts, one per repository
    /// (`--docker-registry`); none: tasks with images fail.
    pub docker_registry: Option<PathBuf>,
    /// Where images are unpacked (default `WORK/store/docker`).
    pub docker_store_dir: Option<PathBuf>,
    /// How image containers get their root (default: overlay where the
    /// work dir can hold an overlay's upper layer, else copy).
    pub provisioner_backend: Option<crate::containerizer::rootfs::Backend>,
    /// How often the containers' usage is sent to the master (zero: never).
    pub usage_report: Duration,
    /// A custom executor must subscribe within it (Mesos: 1 min).
    pub executor_registration_timeout: Duration,
    /// After a restart, a running executor must subscribe again within it
    /// (Mesos: 2 s).
    pub executor_reregistration_timeout: Duration,
    /// How long executors keep trying to reach a restarting agent
    /// (their MESOS_RECOVERY_TIMEOUT; Mesos: 15 min).
    pub recovery_timeout: Duration,
}

impl Config {
    /// Defaults for everything but the master and the work dir.
    pub fn new(master: impl Into<String>, work_dir: impl Into<PathBuf>) -> Config {
        Config {
            master: master.into(),
            ip: IpAddr::from([0, 0, 0, 0]),
            port: 5051,
            hostname: None,
            work_dir: work_dir.into(),
            resources: None,
            attributes: None,
            isolation: None,
            cgroup_mount: "/sys/fs/cgroup".into(),
            cgroup_root: "corral".into(),
            cgroup_driver: CgroupDriverKind::Fs,
            executor: std::env::current_exe().unwrap_or_else(|_| "/usr/bin/corral".into()),
            reserved_mem_mib: 256,
            default_pids_max: 4096,
            cfs_quota: true,
            io_device: None,
            ports: (31000, 32000),
            update_retry: Duration::from_secs(10),
            kill_grace: Duration::from_secs(3),
            disk_watch: Duration::from_secs(15),
            docker_registry: None,
            docker_store_dir: None,
            provisioner_backend: None,
            usage_report: Duration::from_secs(10),
            executor_registration_timeout: Duration::from_secs(60),
            executor_reregistration_timeout: Duration::from_secs(2),
            recovery_timeout: Duration::from_secs(15 * 60),
        }
    }
}
