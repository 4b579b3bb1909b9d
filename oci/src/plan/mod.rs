//! The launch plan: every decision about how a container's init is made —
//! clone flags, namespaces to join, forks needed, id maps, mounts, devices,
//! identity, capabilities, limits — computed as a value from the spec before
//! any syscall runs, and unit-tested without root (crun's speed, youki's
//! clarity). `child::Prepared` turns it into the raw data the clone uses.

pub mod affinity;
pub mod caps;
pub mod idmap;
pub mod mempolicy;
pub mod mounts;
pub mod namespaces;
pub mod netdevs;
pub mod paths;
pub mod sched;

use crate::spec::Bundle;
use caps::CapSets;
use mounts::{DeviceNode, MountOptionError, MountStep};
use namespaces::NamespacePlan;
use oci_spec::runtime::{LinuxDeviceType, LinuxIdMapping, LinuxPersonalityDomain, PosixRlimitType};
use std::path::{Path, PathBuf};

/// Why a valid spec still cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    MountOption(#[from] MountOptionError),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
}

/// The root filesystem part of the plan (present with a mount namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsPlan {
    pub rootfs: PathBuf,
    /// Propagation applied to / before anything else (default rslave).
    pub propagation: u64,
    /// rootfsPropagation given explicitly: applied to the new root too.
    pub root_propagation: Option<u64>,
    pub readonly: bool,
    /// pivot_root (true) or move + chroot (the no-pivot case).
    pub pivot: bool,
    pub mounts: Vec<MountStep>,
    pub devices: Vec<DeviceNode>,
    /// Bind device nodes from the host instead of mknod (user namespaces).
    pub bind_devices: bool,
    pub links: Vec<(PathBuf, PathBuf)>,
    pub masked: Vec<PathBuf>,
    pub readonly_paths: Vec<PathBuf>,
}

/// User and group the process runs as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub umask: Option<u32>,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchPlan {
    pub namespaces: NamespacePlan,
    pub uid_map: String,
    pub gid_map: String,
    pub rootfs: Option<RootfsPlan>,
    pub hostname: Option<String>,
    /// linux.timeOffsets as written to /proc/self/timens_offsets (with a
    /// new time namespace; empty otherwise).
    pub time_offsets: String,
    pub domainname: Option<String>,
    /// (/proc/sys path, value), written after the root is in place.
    pub sysctls: Vec<(PathBuf, String)>,
    /// (RLIMIT_*, soft, hard).
    pub rlimits: Vec<(u32, u64, u64)>,
    pub caps: Option<CapSets>,
    pub identity: Identity,
    pub no_new_privs: bool,
    pub oom_score_adj: Option<i32>,
    pub personality: Option<u64>,
    /// process.scheduler for sched_setattr(2).
    pub scheduler: Option<sched::SchedAttr>,
    /// process.ioPriority for ioprio_set(2).
    pub io_priority: Option<i32>,
    /// linux.memoryPolicy for set_mempolicy(2).
    pub memory_policy: Option<mempolicy::MemPolicy>,
    /// process.execCPUAffinity: set by `exec` only (not applicable to the
    /// container's init).
    pub exec_affinity: Option<affinity::ExecAffinity>,
    pub cwd: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Paths to try with execve, in order (PATH search done up front).
    pub exec_candidates: Vec<PathBuf>,
    pub terminal: bool,
    /// process.consoleSize as (rows, columns).
    pub console_size: Option<(u16, u16)>,
    /// Hooks run by the child inside the container's namespaces.
    pub create_container_hooks: Vec<oci_spec::runtime::Hook>,
    pub start_container_hooks: Vec<oci_spec::runtime::Hook>,
    /// linux.netDevices, moved by the runtime into the container's network
    /// namespace before the hooks run.
    pub net_devices: Vec<netdevs::NetDevice>,
}

/// What the plan needs to know about the host.
#[derive(Debug, Clone)]
pub struct HostFacts {
    /// /proc/sys/kernel/cap_last_cap.
    pub last_cap: u32,
    /// Set by the caller: do not pivot_root (rootfs on ramfs, or --no-pivot).
    pub no_pivot: bool,
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn id_map(maps: &Option<Vec<LinuxIdMapping>>) -> String {
    maps.iter()
        .flatten()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// Plans the launch of `bundle`'s process.
pub fn plan(
    bundle: &Bundle,
    host: &HostFacts,
    is_dir: &dyn Fn(&Path) -> bool,
) -> Result<LaunchPlan, PlanError> {
    let spec = &bundle.spec;
    let process = spec.process().as_ref().ok_or_else(|| PlanError::Invalid {
        field: "process".into(),
        problem: "missing".into(),
    })?;
    let linux = spec.linux().clone().unwrap_or_default();
    let ns = namespaces::plan(linux.namespaces().as_deref().unwrap_or(&[]));
    let rootfs = if ns.new_mount {
        Some(plan_rootfs(bundle, host, &ns, is_dir)?)
    } else {
        None
    };
    let env: Vec<String> = process.env().clone().unwrap_or_default();
    let args = process.args().clone().unwrap_or_default();
    let user = process.user();
    Ok(LaunchPlan {
        uid_map: id_map(linux.uid_mappings()),
        gid_map: id_map(linux.gid_mappings()),
        rootfs,
        hostname: spec.hostname().clone().filter(|h| !h.is_empty()),
        time_offsets: match ns.new_time {
            true => time_offsets(&linux),
            false => String::new(),
        },
        domainname: spec.domainname().clone().filter(|h| !h.is_empty()),
        sysctls: linux
            .sysctl()
            .iter()
            .flatten()
            .map(|(k, v)| (Path::new("/proc/sys").join(k.replace('.', "/")), v.clone()))
            .collect(),
        rlimits: process
            .rlimits()
            .iter()
            .flatten()
            .map(|r| (rlimit_resource(r.typ()), r.soft(), r.hard()))
            .collect(),
        caps: process
            .capabilities()
            .as_ref()
            .map(|c| caps::plan(c, host.last_cap)),
        identity: Identity {
            uid: user.uid(),
            gid: user.gid(),
            groups: user.additional_gids().clone().unwrap_or_default(),
            umask: user.umask(),
        },
        no_new_privs: process.no_new_privileges().unwrap_or(false),
        oom_score_adj: process.oom_score_adj(),
        personality: linux.personality().as_ref().map(|p| match p.domain() {
            LinuxPersonalityDomain::PerLinux => 0,
            LinuxPersonalityDomain::PerLinux32 => 8,
        }),
        scheduler: process
            .scheduler()
            .as_ref()
            .map(sched::scheduler)
            .transpose()?,
        io_priority: process
            .io_priority()
            .as_ref()
            .map(sched::io_priority)
            .transpose()?,
        memory_policy: linux
            .memory_policy()
            .as_ref()
            .map(mempolicy::plan)
            .transpose()?,
        exec_affinity: None,
        cwd: process.cwd().clone(),
        exec_candidates: exec_candidates(&args[0], &env),
        args,
        env,
        terminal: process.terminal().unwrap_or(false),
        create_container_hooks: spec
            .hooks()
            .as_ref()
            .and_then(|h| h.create_container().clone())
            .unwrap_or_default(),
        start_container_hooks: spec
            .hooks()
            .as_ref()
            .and_then(|h| h.start_container().clone())
            .unwrap_or_default(),
        console_size: process.console_size().map(|b| {
            let clamp = |v: u64| v.min(u64::from(u16::MAX)) as u16;
            (clamp(b.height()), clamp(b.width()))
        }),
        net_devices: linux
            .net_devices()
            .as_ref()
            .map(netdevs::plan)
            .transpose()?
            .unwrap_or_default(),
        namespaces: ns,
    })
}

fn plan_rootfs(
    bundle: &Bundle,
    host: &HostFacts,
    ns: &NamespacePlan,
    is_dir: &dyn Fn(&Path) -> bool,
) -> Result<RootfsPlan, PlanError> {
    let spec = &bundle.spec;
    let linux = spec.linux().clone().unwrap_or_default();
    let root_propagation = match linux.rootfs_propagation().as_deref() {
        None | Some("") => None,
        Some(name) => Some(mounts::propagation(name).ok_or_else(|| PlanError::Invalid {
            field: "linux.rootfsPropagation".into(),
            problem: format!("{name:?} is not a propagation type"),
        })?),
    };
    let mut steps = Vec::new();
    let uid_map = id_map(linux.uid_mappings());
    let gid_map = id_map(linux.gid_mappings());
    let userns = ns.new_user.then_some((uid_map.as_str(), gid_map.as_str()));
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let mut step = mounts::plan(i, m, is_dir)?;
        idmap::resolve(i, m, &mut step, userns)?;
        steps.push(step);
    }
    let mut devices = mounts::default_devices();
    for (i, d) in linux.devices().iter().flatten().enumerate() {
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => libc::S_IFCHR,
            LinuxDeviceType::B => libc::S_IFBLK,
            LinuxDeviceType::P => libc::S_IFIFO,
            LinuxDeviceType::A => {
                return Err(PlanError::Invalid {
                    field: format!("linux.devices[{i}].type"),
                    problem: "\"a\" is only valid in device cgroup rules".into(),
                });
            }
        };
        devices.retain(|x| x.path != *d.path());
        devices.push(DeviceNode {
            path: d.path().clone(),
            kind,
            major: d.major() as u64,
            minor: d.minor() as u64,
            mode: d.file_mode().unwrap_or(0o666),
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        });
    }
    Ok(RootfsPlan {
        rootfs: bundle.rootfs.clone(),
        propagation: root_propagation.unwrap_or(libc::MS_SLAVE | libc::MS_REC),
        root_propagation,
        readonly: spec
            .root()
            .as_ref()
            .and_then(|r| r.readonly())
            .unwrap_or(false),
        pivot: !host.no_pivot,
        mounts: steps,
        devices,
        bind_devices: ns.new_user,
        links: mounts::default_links()
            .into_iter()
            .map(|(t, l)| (PathBuf::from(t), PathBuf::from(l)))
            .collect(),
        masked: linux
            .masked_paths()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        readonly_paths: linux
            .readonly_paths()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect(),
    })
}

/// linux.timeOffsets (validated: monotonic and boottime only) as lines of
/// `CLOCK SECS NANOSECS`, sorted by clock.
fn time_offsets(linux: &oci_spec::runtime::Linux) -> String {
    let mut v: Vec<_> = linux.time_offsets().iter().flatten().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v.into_iter()
        .map(|(clock, o)| {
            format!(
                "{clock} {} {}\n",
                o.secs().unwrap_or(0),
                o.nanosecs().unwrap_or(0)
            )
        })
        .collect()
}

/// The paths execve should try for `arg0`, searching the container's PATH
/// (or the default one) when arg0 has no slash, as execvp does.
pub fn exec_candidates(arg0: &str, env: &[String]) -> Vec<PathBuf> {
    if arg0.contains('/') {
        return vec![PathBuf::from(arg0)];
    }
    let path = env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    path.split(':')
        .map(|dir| if dir.is_empty() { "." } else { dir })
        .map(|dir| Path::new(dir).join(arg0))
        .collect()
}

/// The RLIMIT_* number of an OCI rlimit type.
pub fn rlimit_resource(t: PosixRlimitType) -> u32 {
    use PosixRlimitType as T;
    match t {
        T::RlimitCpu => libc::RLIMIT_CPU,
        T::RlimitFsize => libc::RLIMIT_FSIZE,
        T::RlimitData => libc::RLIMIT_DATA,
        T::RlimitStack => libc::RLIMIT_STACK,
        T::RlimitCore => libc::RLIMIT_CORE,
        T::RlimitRss => libc::RLIMIT_RSS,
        T::RlimitNproc => libc::RLIMIT_NPROC,
        T::RlimitNofile => libc::RLIMIT_NOFILE,
        T::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        T::RlimitAs => libc::RLIMIT_AS,
        T::RlimitLocks => libc::RLIMIT_LOCKS,
        T::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        T::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        T::RlimitNice => libc::RLIMIT_NICE,
        T::RlimitRtprio => libc::RLIMIT_RTPRIO,
        T::RlimitRttime => libc::RLIMIT_RTTIME,
    }
}

#[cfg(test)]
mod tests;
