//! `corral agent`: the flags (Mesos' names where Mesos has the flag) and
//! the start of the agent daemon; `corral executor`, the built-in command
//! executor every command task's container runs as its init.

use crate::master::duration;
use clap::{Args, ValueEnum};
use corral_agent::config::{CgroupDriverKind, Config};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The cgroup driver.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Driver {
    Fs,
    Systemd,
}

/// Flags of `corral agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The master, HOST:PORT.
    #[arg(long)]
    master: String,
    /// Address to serve the agent's API on.
    #[arg(long, default_value = "0.0.0.0")]
    ip: IpAddr,
    /// Port of the agent's API; 0 picks a free one (printed at start).
    #[arg(long, default_value_t = 5051)]
    port: u16,
    /// Hostname reported to the master.
    #[arg(long)]
    hostname: Option<String>,
    /// Sandboxes, checkpoints and runtime state.
    #[arg(
        long = "work-dir",
        alias = "work_dir",
        default_value = "/var/lib/corral/agent"
    )]
    work_dir: PathBuf,
    /// Overrides of the measured capacity, e.g. `cpus:2;mem:1024;ports:[31000-31999]`.
    #[arg(long)]
    resources: Option<String>,
    /// Attributes, `name:value;...`.
    #[arg(long)]
    attributes: Option<String>,
    /// Isolators, comma separated (default: all of them).
    #[arg(long)]
    isolation: Option<String>,
    /// The agent's cgroup subtree, relative to the cgroup v2 mount.
    #[arg(long = "cgroup-root", alias = "cgroups_root", default_value = "corral")]
    cgroup_root: PathBuf,
    /// The cgroup v2 mount.
    #[arg(long = "cgroup-mount", default_value = "/sys/fs/cgroup")]
    cgroup_mount: PathBuf,
    /// The cgroup driver: fs (containers under --cgroup-root) or systemd
    /// (each container a transient scope corral-ID.scope in corral.slice).
    #[arg(long = "cgroup-driver", value_enum, default_value = "fs")]
    cgroup_driver: Driver,
    /// Hard-cap CPU at the task's cpus with cpu.max.
    #[arg(long = "cgroups-enable-cfs", alias = "cgroups_enable_cfs", default_value_t = true, action = clap::ArgAction::Set)]
    cfs: bool,
    /// pids.max of every container.
    #[arg(long = "default-pids-max", default_value_t = 4096)]
    default_pids_max: u64,
    /// Memory kept back for the system and the agent, MiB.
    #[arg(long = "reserved-mem", default_value_t = 256)]
    reserved_mem: u64,
    /// The block device (MAJ:MIN) for the disk_read_bps/disk_write_bps resources.
    #[arg(long = "io-device", value_parser = major_minor)]
    io_device: Option<(u64, u64)>,
    /// First resend of an unacknowledged status update.
    #[arg(long = "status-update-retry", default_value = "10secs", value_parser = duration)]
    update_retry: Duration,
    /// Kill grace period when a task names none.
    #[arg(long = "executor-shutdown-grace-period", alias = "executor_shutdown_grace_period", default_value = "3secs", value_parser = duration)]
    kill_grace: Duration,
    /// How often sandboxes are measured against their disk quota.
    #[arg(long = "container-disk-watch-interval", alias = "container_disk_watch_interval", default_value = "15secs", value_parser = duration)]
    disk_watch: Duration,
    /// How often the containers' usage is sent to the master (0secs: never).
    #[arg(long = "usage-report-interval", default_value = "10secs", value_parser = duration)]
    usage_report: Duration,
    /// A custom executor must subscribe within this, or its tasks fail.
    #[arg(long = "executor-registration-timeout", alias = "executor_registration_timeout", default_value = "1mins", value_parser = duration)]
    executor_registration_timeout: Duration,
    /// After a restart, a running executor must subscribe again within this.
    #[arg(long = "executor-reregistration-timeout", alias = "executor_reregistration_timeout", default_value = "2secs", value_parser = duration)]
    executor_reregistration_timeout: Duration,
    /// How long executors keep trying to reach a restarting agent.
    #[arg(long = "recovery-timeout", alias = "recovery_timeout", default_value = "15mins", value_parser = duration)]
    recovery_timeout: Duration,
    /// The command executor binary (default: this one).
    #[arg(long)]
    executor: Option<PathBuf>,
    /// A folder of OCI image layouts, DIR/<repository>/ each (tags by
    /// their org.opencontainers.image.ref.name annotation).
    #[arg(long = "docker-registry", alias = "docker_registry")]
    docker_registry: Option<PathBuf>,
    /// Where images are unpacked (default: WORK_DIR/store/docker).
    #[arg(long = "docker-store-dir", alias = "docker_store_dir")]
    docker_store_dir: Option<PathBuf>,
    /// How containers with images get their root: overlay or copy
    /// (default: overlay where the work dir allows it, else copy).
    #[arg(
        long = "image-provisioner-backend",
        alias = "image_provisioner_backend"
    )]
    image_provisioner_backend: Option<corral_agent::containerizer::rootfs::Backend>,
}

fn major_minor(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}': expected MAJOR:MINOR"))?;
    let n = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("'{text}': expected MAJOR:MINOR"))
    };
    Ok((n(a)?, n(b)?))
}

impl AgentArgs {
    fn config(self) -> Config {
        let mut c = Config::new(self.master, self.work_dir);
        c.ip = self.ip;
        c.port = self.port;
        c.hostname = self.hostname;
        c.resources = self.resources;
        c.attributes = self.attributes;
        c.isolation = self.isolation;
        c.cgroup_root = self.cgroup_root;
        c.cgroup_mount = self.cgroup_mount;
        c.cgroup_driver = match self.cgroup_driver {
            Driver::Fs => CgroupDriverKind::Fs,
            Driver::Systemd => CgroupDriverKind::Systemd,
        };
        c.cfs_quota = self.cfs;
        c.default_pids_max = self.default_pids_max;
        c.reserved_mem_mib = self.reserved_mem;
        c.io_device = self.io_device;
        c.update_retry = self.update_retry;
        c.kill_grace = self.kill_grace;
        c.disk_watch = self.disk_watch;
        c.docker_registry = self.docker_registry;
        c.docker_store_dir = self.docker_store_dir;
        c.provisioner_backend = self.image_provisioner_backend;
        c.usage_report = self.usage_report;
        c.executor_registration_timeout = self.executor_registration_timeout;
        c.executor_reregistration_timeout = self.executor_reregistration_timeout;
        c.recovery_timeout = self.recovery_timeout;
        if let Some(e) = self.executor {
            c.executor = e;
        }
        c
    }
}

/// Runs the agent; the process's exit code.
pub fn main(args: AgentArgs) -> i32 {
    match corral_agent::run(args.config()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("corral agent: {e}");
            1
        }
    }
}
