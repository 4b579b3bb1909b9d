//! The cgroup module's one error type: every failure names the cgroup, the
//! interface file and the value involved, and says what to do about it.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong creating, configuring, observing or removing a cgroup.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A cgroup path given to the driver is not a plain relative path.
    #[error(
        "cgroup path {path:?} is invalid: {reason}; give a path of plain names relative to \
         the driver's root, such as \"corral/executors/e1\""
    )]
    InvalidPath {
        /// The path as given.
        path: PathBuf,
        /// Why it was refused.
        reason: &'static str,
    },

    /// The driver's root is not a cgroup v2 directory.
    #[error(
        "{root} is not a cgroup v2 directory (it has no cgroup.controllers): mount cgroup2 there \
         (a cgroup v1 or hybrid host has none at /sys/fs/cgroup) or point the driver at one"
    )]
    NotCgroup2 {
        /// The driver's root.
        root: PathBuf,
    },

    /// `create` was asked for a cgroup that exists already; nothing was changed.
    #[error("cgroup {path} already exists: pick another name, or open() and destroy() it first")]
    AlreadyExists {
        /// The existing cgroup directory.
        path: PathBuf,
    },

    /// `open` was asked for a cgroup that does not exist.
    #[error("cgroup {path} does not exist: create() it first")]
    NotFound {
        /// The missing cgroup directory.
        path: PathBuf,
    },

    /// A field of the OCI `LinuxResources` cannot be translated to cgroup v2.
    #[error("invalid linux.resources.{field} = {value}: {reason}")]
    InvalidResource {
        /// The OCI field, e.g. `memory.swap`.
        field: String,
        /// Its value as given.
        value: String,
        /// Why it was refused and what to give instead.
        reason: String,
    },

    /// A controller the resources need is not offered to this part of the tree.
    #[error(
        "cgroup {cgroup}: controller {controller} is not available (cgroup.controllers: \
         {available:?}): enable it in the parent's cgroup.subtree_control (for the driver's \
         root: in its parent, or by systemd with Delegate=yes), or drop the limits that need it"
    )]
    ControllerUnavailable {
        /// The cgroup whose cgroup.controllers lacks it.
        cgroup: PathBuf,
        /// The controller, e.g. `hugetlb`.
        controller: String,
        /// The content of that cgroup.controllers.
        available: String,
    },

    /// A write targets a controller that is not enabled for this cgroup.
    #[error(
        "cgroup {cgroup}: cannot write {file}: controller {controller} is not enabled for this \
         cgroup (cgroup.controllers: {enabled:?}); create the cgroup with resources that need \
         it, or enable it in the parent's cgroup.subtree_control"
    )]
    ControllerNotEnabled {
        /// The cgroup directory.
        cgroup: PathBuf,
        /// The interface file that was to be written.
        file: String,
        /// The controller owning that file.
        controller: String,
        /// The content of the cgroup's cgroup.controllers.
        enabled: String,
    },

    /// Writing an interface file failed.
    #[error("cgroup {cgroup}: writing {value:?} to {file} failed: {source}; {hint}")]
    Write {
        /// The cgroup directory.
        cgroup: PathBuf,
        /// The interface file, e.g. `cpuset.cpus`.
        file: String,
        /// The value that was written.
        value: String,
        /// The kernel's answer.
        source: io::Error,
        /// What the errno usually means for cgroup files.
        hint: &'static str,
    },

    /// Reading an interface file failed.
    #[error("cgroup {cgroup}: reading {file} failed: {source}; {hint}")]
    Read {
        /// The cgroup directory.
        cgroup: PathBuf,
        /// The interface file.
        file: String,
        /// The kernel's answer.
        source: io::Error,
        /// What the errno usually means for cgroup files.
        hint: &'static str,
    },

    /// An interface file's content is not in the format the kernel documents.
    #[error(
        "cgroup {cgroup}: cannot parse {file}: {reason}; the kernel's format is not the one \
         expected, please report it with the file's content"
    )]
    Parse {
        /// The cgroup directory.
        cgroup: PathBuf,
        /// The interface file.
        file: String,
        /// What did not parse.
        reason: String,
    },

    /// A directory operation (mkdir, rmdir, open, read_dir) failed.
    #[error("{op} {path} failed: {source}; {hint}")]
    Dir {
        /// The operation.
        op: &'static str,
        /// The directory.
        path: PathBuf,
        /// The kernel's answer.
        source: io::Error,
        /// What the errno usually means here.
        hint: &'static str,
    },

    /// A state change (frozen, unpopulated) did not happen in time.
    #[error(
        "cgroup {cgroup}: timed out after {waited:?} waiting until {what}; look at its \
         cgroup.events and cgroup.procs (a process stuck in the kernel, in D state, can \
         delay this)"
    )]
    Timeout {
        /// The cgroup directory.
        cgroup: PathBuf,
        /// The state waited for.
        what: &'static str,
        /// How long it waited.
        waited: Duration,
    },

    /// `memory.checkBeforeUpdate` refused a limit below the current usage.
    #[error(
        "cgroup {cgroup}: refusing memory limit {limit} below the current usage {usage} \
         (linux.resources.memory.checkBeforeUpdate is set): raise the limit or let the \
         container free memory first"
    )]
    MemoryBelowUsage {
        /// The cgroup directory.
        cgroup: PathBuf,
        /// The requested memory.max.
        limit: u64,
        /// memory.current.
        usage: u64,
    },

    /// Killing was asked of the hierarchy's root cgroup, which holds every
    /// process of the machine.
    #[error(
        "refusing to kill every process in {path}: it is the root of the cgroup hierarchy \
         (it has no cgroup.events); kill a child cgroup instead"
    )]
    HierarchyRoot {
        /// The root cgroup directory.
        path: PathBuf,
    },

    /// Sending SIGKILL to a member process failed (other than it being gone).
    #[error("cgroup {cgroup}: kill(SIGKILL) of pid {pid} failed: {source}")]
    Kill {
        /// The cgroup directory.
        cgroup: PathBuf,
        /// The process.
        pid: i32,
        /// The kernel's answer.
        source: io::Error,
    },

    /// A `bpf(2)` call for the cgroup's device filter failed.
    #[error(
        "cgroup {cgroup}: {op} (device filter) failed: {source}; {hint}{}",
        verifier_log(.log)
    )]
    Bpf {
        /// The cgroup directory.
        cgroup: PathBuf,
        /// The bpf(2) command, e.g. `BPF_PROG_ATTACH`.
        op: &'static str,
        /// The kernel's answer.
        source: io::Error,
        /// What the errno usually means for that command.
        hint: &'static str,
        /// The verifier's log when a load failed, else empty.
        log: String,
    },

    /// Setting up a notification (inotify) on an interface file failed.
    #[error("watching {path} with inotify failed: {source}; check fs.inotify.max_user_watches")]
    Watch {
        /// The watched file.
        path: PathBuf,
        /// The kernel's answer.
        source: io::Error,
    },

    /// A driver that manages cgroups through another program (systemd)
    /// could not get it done; `reason` says what it answered and what to do.
    #[error("{driver} cgroup driver: {reason}")]
    Manager {
        /// The driver, e.g. `systemd`.
        driver: &'static str,
        /// What failed, with the manager's answer.
        reason: String,
    },
}

/// The verifier's log as the tail of a [`CgroupError::Bpf`] message.
fn verifier_log(log: &str) -> String {
    if log.is_empty() {
        String::new()
    } else {
        format!("; the verifier said:\n{log}")
    }
}

/// What an errno usually means when a cgroup interface file refuses a write.
pub(crate) fn write_hint(err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::ENOENT) => {
            "the file does not exist: its controller is not enabled for this cgroup or the \
             kernel is too old to have it"
        }
        Some(libc::EINVAL) | Some(libc::ERANGE) => {
            "the kernel rejected the value: check its format and range in the kernel's \
             cgroup-v2 documentation (Documentation/admin-guide/cgroup-v2.rst)"
        }
        Some(libc::EBUSY) => {
            "the cgroup is busy: cgroup v2 forbids processes in a cgroup that enables \
             controllers for its children (move them to a leaf), or the value conflicts with \
             the current state"
        }
        Some(libc::EACCES) | Some(libc::EPERM) => {
            "permission denied: run as root or inside a cgroup delegated to this user"
        }
        Some(libc::EOPNOTSUPP) => {
            "the kernel does not support this setting here (per-device io.weight needs io.cost \
             enabled on the device; bfq uses io.bfq.weight)"
        }
        Some(libc::ENODEV) => "no such device: check major:minor against /sys/block/*/dev",
        Some(libc::ESRCH) => "no such process: it has exited",
        Some(libc::ENOSPC) => {
            "no space: the parent's cpuset or limit does not allow it, or the cgroup tree is \
             at its cgroup.max.descendants"
        }
        _ => "see the kernel's cgroup-v2 documentation for this file",
    }
}

/// What an errno usually means when reading a cgroup interface file fails.
pub(crate) fn read_hint(err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::ENOENT) => {
            "the file does not exist: the cgroup is gone, its controller is not enabled, or the \
             kernel is too old to have it"
        }
        Some(libc::EOPNOTSUPP) => {
            "not supported by this kernel (PSI files need psi=1 on the kernel command line)"
        }
        Some(libc::EACCES) | Some(libc::EPERM) => "permission denied: run as root",
        _ => "see the kernel's cgroup-v2 documentation for this file",
    }
}

/// What an errno usually means for mkdir, rmdir or open of a cgroup directory.
pub(crate) fn dir_hint(err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::EBUSY) | Some(libc::ENOTEMPTY) => {
            "the cgroup still has processes or child cgroups: kill them and remove children first"
        }
        Some(libc::EACCES) | Some(libc::EPERM) => {
            "permission denied: run as root or inside a cgroup delegated to this user"
        }
        Some(libc::ENOENT) => "a parent directory does not exist",
        Some(libc::EAGAIN) | Some(libc::ENOSPC) => {
            "the cgroup tree is at its cgroup.max.descendants or cgroup.max.depth"
        }
        _ => "check that the path is inside a mounted cgroup2 hierarchy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_error_names_cgroup_file_value_and_hint() {
        let e = CgroupError::Write {
            cgroup: "/sys/fs/cgroup/a".into(),
            file: "cpuset.cpus".into(),
            value: "999".into(),
            source: io::Error::from_raw_os_error(libc::EINVAL),
            hint: write_hint(&io::Error::from_raw_os_error(libc::EINVAL)),
        };
        let msg = e.to_string();
        for part in [
            "/sys/fs/cgroup/a",
            "cpuset.cpus",
            "\"999\"",
            "rejected the value",
        ] {
            assert!(msg.contains(part), "{part} missing from {msg}");
        }
    }

    #[test]
    fn every_errno_has_a_hint() {
        for errno in [libc::ENOENT, libc::EBUSY, libc::EPERM, libc::EIO] {
            let e = io::Error::from_raw_os_error(errno);
            assert!(!write_hint(&e).is_empty());
            assert!(!read_hint(&e).is_empty());
            assert!(!dir_hint(&e).is_empty());
        }
    }
}
