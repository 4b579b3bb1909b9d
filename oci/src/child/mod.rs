//! The container's init between clone and exec. The parent turns the
//! `LaunchPlan` into `Prepared`: every path, string and pointer array the
//! child needs, allocated before the clone. The child then only makes raw
//! syscalls on that data — no allocation, no locks — which is what makes a
//! clone from a multi-threaded process (the agent) safe.

mod console;
pub mod fds;
pub mod hooks;
mod identity;
mod inroot;
pub mod report;
mod rootfs;
mod setup;

pub use setup::run;

use crate::plan::LaunchPlan;
use crate::plan::caps::CapSets;
use crate::plan::paths::{self, Leaf};
use crate::seccomp::SeccompProgram;
use std::ffi::{CString, c_char};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A mount ready for mount(2).
#[derive(Debug)]
pub struct PreparedMount {
    pub source: CString,
    /// The destination relative to the rootfs, normalised (`plan::paths`).
    pub target: CString,
    /// What to make at the destination when it is missing.
    pub leaf: Leaf,
    pub fstype: CString,
    pub flags: u64,
    pub remount_flags: u64,
    pub propagation: Vec<u64>,
    pub data: CString,
    pub bind: bool,
    /// MOUNT_ATTR_* set and cleared recursively (mount_setattr).
    pub rec_attr_set: u64,
    pub rec_attr_clr: u64,
    /// A detached id-mapped tree (`crate::idmap`) to move into place
    /// instead of mounting `source`; -1 for none. Set by the launch.
    pub tree: RawFd,
}

/// A device node ready for mknodat(2) (or a bind from the host).
#[derive(Debug)]
pub struct PreparedDevice {
    pub host_path: CString,
    /// The node relative to the rootfs, and split into its directory
    /// (relative to the rootfs) and its name.
    pub target: CString,
    pub dir: CString,
    pub name: CString,
    pub mode: u32,
    pub dev: u64,
    pub uid: u32,
    pub gid: u32,
}

/// A symlink ready for symlinkat(2): `target` written at `dir`/`name`.
#[derive(Debug)]
pub struct PreparedLink {
    pub target: CString,
    pub dir: CString,
    pub name: CString,
}

/// The root filesystem work. Every path but `rootfs` is relative to the
/// rootfs and is opened inside it (`inroot.rs`).
#[derive(Debug)]
pub struct PreparedRoot {
    pub rootfs: CString,
    pub propagation: u64,
    pub root_propagation: Option<u64>,
    pub readonly: bool,
    pub pivot: bool,
    pub mounts: Vec<PreparedMount>,
    pub devices: Vec<PreparedDevice>,
    pub bind_devices: bool,
    pub links: Vec<PreparedLink>,
    pub masked: Vec<CString>,
    pub readonly_paths: Vec<CString>,
    pub cwd: CString,
}

/// Everything the child needs, prepared by the parent.
#[derive(Debug)]
pub struct Prepared {
    /// The child's end of the sync socketpair.
    pub sync: RawFd,
    /// Listening socket `start` connects to; None to run right away.
    pub start_listener: Option<RawFd>,
    /// Connected console socket: the child makes a pty and sends its master.
    pub console: Option<RawFd>,
    /// process.consoleSize as (rows, columns).
    pub console_size: Option<(u16, u16)>,
    /// createContainer and startContainer hooks, and the memfd holding the
    /// state JSON they read on stdin.
    pub create_container_hooks: Vec<hooks::PreparedHook>,
    pub start_container_hooks: Vec<hooks::PreparedHook>,
    pub hook_state: RawFd,
    /// (namespace fd, CLONE_NEW*) to setns, in order.
    pub joins: Vec<(RawFd, i32)>,
    pub fork_after_setns: bool,
    pub new_cgroup_ns: bool,
    /// A new time namespace to unshare, and the offsets written to
    /// /proc/self/timens_offsets before the execve moves the process in.
    pub new_time: bool,
    pub time_offsets: CString,
    /// A new user namespace: become its root once the maps are written.
    pub new_user: bool,
    pub root: Option<PreparedRoot>,
    pub hostname: Option<CString>,
    pub domainname: Option<CString>,
    pub sysctls: Vec<(CString, CString)>,
    pub rlimits: Vec<(u32, libc::rlimit)>,
    pub oom_score_adj: Option<CString>,
    pub personality: Option<u64>,
    pub scheduler: Option<crate::plan::sched::SchedAttr>,
    pub io_priority: Option<i32>,
    pub memory_policy: Option<crate::plan::mempolicy::MemPolicy>,
    /// process.execCPUAffinity.final (exec only).
    pub cpu_affinity: Option<crate::plan::affinity::CpuMask>,
    pub caps: Option<CapSets>,
    pub last_cap: u32,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<libc::gid_t>,
    /// setgroups(2) is allowed (not denied by a user namespace).
    pub set_groups: bool,
    pub umask: Option<u32>,
    pub no_new_privs: bool,
    pub seccomp: Option<SeccompProgram>,
    pub cwd: CString,
    pub exec_paths: Vec<CString>,
    pub argv: Vec<CString>,
    pub argv_ptrs: Vec<*const c_char>,
    pub env: Vec<CString>,
    pub env_ptrs: Vec<*const c_char>,
    /// stdio and preserved descriptors for the process.
    pub fds: fds::FdMap,
}

/// A string with a NUL byte cannot reach the kernel.
#[derive(Debug, thiserror::Error)]
#[error("{what} {value:?} contains a NUL byte")]
pub struct NulError {
    pub what: &'static str,
    pub value: String,
}

pub(crate) fn cstr(what: &'static str, s: impl AsRef<[u8]>) -> Result<CString, NulError> {
    CString::new(s.as_ref()).map_err(|_| NulError {
        what,
        value: String::from_utf8_lossy(s.as_ref()).into_owned(),
    })
}

pub(crate) fn cpath(what: &'static str, p: &Path) -> Result<CString, NulError> {
    cstr(what, p.as_os_str().as_bytes())
}

/// The container path `p` relative to the root, normalised, as a C string.
pub(crate) fn in_root(what: &'static str, p: &Path) -> Result<CString, NulError> {
    cpath(what, &paths::in_root(p))
}

pub(crate) fn ptrs(v: &[CString]) -> Vec<*const c_char> {
    v.iter()
        .map(|c| c.as_ptr())
        .chain([std::ptr::null()])
        .collect()
}

impl Prepared {
    /// Prepares `plan`. `cgroup_dir` is the container's cgroup on the host
    /// (bind-mounted for a cgroup mount when there is no cgroup namespace).
    pub fn new(
        plan: &LaunchPlan,
        sync: RawFd,
        start_listener: Option<RawFd>,
        joins: Vec<(RawFd, i32)>,
        cgroup_dir: &Path,
        seccomp: Option<SeccompProgram>,
        last_cap: u32,
    ) -> Result<Prepared, NulError> {
        let argv = plan
            .args
            .iter()
            .map(|a| cstr("argument", a))
            .collect::<Result<Vec<_>, _>>()?;
        let env = plan
            .env
            .iter()
            .map(|e| cstr("environment variable", e))
            .collect::<Result<Vec<_>, _>>()?;
        let root = match &plan.rootfs {
            Some(r) => Some(rootfs::prepare(r, plan, cgroup_dir)?),
            None => None,
        };
        Ok(Prepared {
            sync,
            start_listener,
            console: None,
            console_size: plan.console_size,
            create_container_hooks: hooks::prepare(&plan.create_container_hooks)?,
            start_container_hooks: hooks::prepare(&plan.start_container_hooks)?,
            hook_state: -1,
            joins,
            fork_after_setns: plan.namespaces.fork_after_setns,
            new_cgroup_ns: plan.namespaces.new_cgroup_ns,
            new_time: plan.namespaces.new_time,
            time_offsets: cstr("linux.timeOffsets", &plan.time_offsets)?,
            new_user: plan.namespaces.new_user,
            root,
            hostname: plan
                .hostname
                .as_ref()
                .map(|h| cstr("hostname", h))
                .transpose()?,
            domainname: plan
                .domainname
                .as_ref()
                .map(|h| cstr("domainname", h))
                .transpose()?,
            sysctls: plan
                .sysctls
                .iter()
                .map(|(k, v)| Ok((cpath("sysctl", k)?, cstr("sysctl value", v)?)))
                .collect::<Result<_, NulError>>()?,
            rlimits: plan
                .rlimits
                .iter()
                .map(|&(r, soft, hard)| {
                    (
                        r,
                        libc::rlimit {
                            rlim_cur: soft,
                            rlim_max: hard,
                        },
                    )
                })
                .collect(),
            oom_score_adj: plan
                .oom_score_adj
                .map(|v| cstr("oom_score_adj", v.to_string()))
                .transpose()?,
            personality: plan.personality,
            scheduler: plan.scheduler,
            io_priority: plan.io_priority,
            memory_policy: plan.memory_policy.clone(),
            cpu_affinity: plan.exec_affinity.as_ref().and_then(|a| a.last.clone()),
            caps: plan.caps,
            last_cap,
            uid: plan.identity.uid,
            gid: plan.identity.gid,
            groups: plan.identity.groups.clone(),
            set_groups: true,
            umask: plan.identity.umask,
            no_new_privs: plan.no_new_privs,
            seccomp,
            cwd: cpath("cwd", &plan.cwd)?,
            exec_paths: plan
                .exec_candidates
                .iter()
                .map(|p| cpath("program", p))
                .collect::<Result<_, _>>()?,
            argv_ptrs: ptrs(&argv),
            argv,
            env_ptrs: ptrs(&env),
            env,
            fds: fds::FdMap::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{HostFacts, plan};
    use crate::spec::{Bundle, DEFAULT_SPEC};
    use serde_json::json;
    use std::ffi::CStr;

    fn names(v: impl IntoIterator<Item = impl AsRef<CStr>>) -> Vec<String> {
        v.into_iter()
            .map(|c| c.as_ref().to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn root_paths_are_prepared_normalised_and_relative_to_the_rootfs() {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_SPEC).unwrap();
        let mounts = v["mounts"].as_array_mut().unwrap();
        mounts
            .push(json!({"destination": "/data/../../etc/x", "type": "tmpfs", "source": "tmpfs"}));
        mounts.push(json!({
            "destination": "/etc//hosts", "type": "bind", "source": "/etc/hosts", "options": ["rbind", "ro"]
        }));
        v["linux"]["devices"] =
            json!([{"path": "/dev/x/../fuse", "type": "c", "major": 10, "minor": 229}]);
        v["process"]["cwd"] = "/work/./dir/".into();
        let bundle = Bundle {
            dir: "/b".into(),
            rootfs: "/b/rootfs".into(),
            spec: serde_json::from_value(v).unwrap(),
        };
        let host = HostFacts {
            last_cap: 40,
            no_pivot: false,
        };
        let plan = plan(&bundle, &host, &|p| p != Path::new("/etc/hosts")).unwrap();
        let cgroup = Path::new("/sys/fs/cgroup/c");
        let p = Prepared::new(&plan, -1, None, Vec::new(), cgroup, None, 40).unwrap();
        let r = p.root.unwrap();
        assert_eq!(r.rootfs.to_str().unwrap(), "/b/rootfs");
        assert_eq!(
            names(r.mounts.iter().map(|m| &m.target)),
            [
                "proc",
                "dev",
                "dev/pts",
                "dev/shm",
                "dev/mqueue",
                "sys",
                "sys/fs/cgroup",
                "etc/x",
                "etc/hosts"
            ]
        );
        let leaves: Vec<Leaf> = r.mounts.iter().map(|m| m.leaf).collect();
        assert_eq!(leaves[7..], [Leaf::Dir, Leaf::File]);
        let fuse = r.devices.last().unwrap();
        assert_eq!(
            names([&fuse.target, &fuse.dir, &fuse.name]),
            ["dev/fuse", "dev", "fuse"]
        );
        let fd = &r.links[0];
        assert_eq!(
            names([&fd.target, &fd.dir, &fd.name]),
            ["/proc/self/fd", "dev", "fd"]
        );
        assert!(!r.masked.is_empty() && !r.readonly_paths.is_empty());
        for p in r.masked.iter().chain(&r.readonly_paths) {
            let s = p.to_str().unwrap();
            assert!(s.starts_with("proc/") || s.starts_with("sys/"), "{s}");
        }
        assert_eq!(r.cwd.to_str().unwrap(), "work/dir");
    }
}
