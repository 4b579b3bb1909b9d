//! The effects: making a compiled device filter the one program of a
//! cgroup's `BPF_CGROUP_DEVICE` hook, and reading which programs are there.
//!
//! Order of [`Cgroup::set_device_filter`]: load the new program, or reuse
//! the one loaded before for the same instructions (a verifier rejection
//! changes nothing), list the programs attached now, attach the new one
//! with `BPF_F_ALLOW_MULTI` unless it is among them, then detach the
//! others. In between, old and new both run and a request needs both to
//! allow it: access is never wider than either rule set during an update.

use super::cache;
use super::compile::program;
use super::insn::BpfInsn;
use super::sys;
use crate::cgroup::{Cgroup, CgroupError};
use oci_spec::runtime::LinuxDeviceCgroup;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

impl Cgroup {
    /// Allows the cgroup's processes (and its descendants') exactly the
    /// device accesses `rules` allow — the last matching rule wins, nothing
    /// matching is denied — replacing any device program attached before.
    /// An OCI container's list is [`container_rules`] of its spec's.
    ///
    /// [`container_rules`]: super::container_rules
    pub fn set_devices(&self, rules: &[LinuxDeviceCgroup]) -> Result<(), CgroupError> {
        self.set_device_filter(&program(rules)?)
    }

    /// Loads `insns` (from [`super::program`]) and makes it the only
    /// device program attached to this cgroup (see the module doc).
    pub fn set_device_filter(&self, insns: &[BpfInsn]) -> Result<(), CgroupError> {
        let dir = self.open_dir()?;
        let prog =
            cache::load(insns).map_err(|(e, log)| self.bpf_error("BPF_PROG_LOAD", e, log))?;
        let ids = sys::prog_query(dir.as_fd())
            .map_err(|e| self.bpf_error("BPF_PROG_QUERY", e, String::new()))?;
        // The same program again (same rules): already in place.
        if !ids.contains(&prog.id) {
            sys::prog_attach(dir.as_fd(), prog.fd.as_fd())
                .map_err(|e| self.bpf_error("BPF_PROG_ATTACH", e, String::new()))?;
        }
        for p in self.open_ids(ids.into_iter().filter(|&id| id != prog.id))? {
            match sys::prog_detach(dir.as_fd(), p.as_fd()) {
                // ENOENT: someone else detached it meanwhile.
                Err(e) if e.raw_os_error() != Some(libc::ENOENT) => {
                    return Err(self.bpf_error("BPF_PROG_DETACH", e, String::new()));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The ids of the device programs attached to this cgroup itself (not
    /// those inherited from its ancestors): one after [`Cgroup::set_devices`].
    pub fn device_filter_ids(&self) -> Result<Vec<u32>, CgroupError> {
        let dir = self.open_dir()?;
        sys::prog_query(dir.as_fd()).map_err(|e| self.bpf_error("BPF_PROG_QUERY", e, String::new()))
    }

    /// Descriptors of the programs `ids` (attached here). Programs that
    /// vanish meanwhile are skipped, and so are those an LSM forbids us to
    /// open (as runc does): a device program can only narrow access.
    fn open_ids(&self, ids: impl Iterator<Item = u32>) -> Result<Vec<OwnedFd>, CgroupError> {
        let mut fds = Vec::new();
        for id in ids {
            match sys::prog_fd_by_id(id) {
                Ok(fd) => fds.push(fd),
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ENOENT | libc::EACCES | libc::EPERM)
                    ) => {}
                Err(e) => return Err(self.bpf_error("BPF_PROG_GET_FD_BY_ID", e, String::new())),
            }
        }
        Ok(fds)
    }

    fn bpf_error(&self, op: &'static str, source: io::Error, log: String) -> CgroupError {
        CgroupError::Bpf {
            cgroup: self.path().to_path_buf(),
            op,
            hint: hint(op, &source),
            source,
            log,
        }
    }
}

/// What an errno usually means for a device filter's `bpf(2)` call.
fn hint(op: &str, err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::ENOSYS) => {
            "the kernel has no bpf(2) (CONFIG_BPF_SYSCALL is off) or a seccomp filter blocks it"
        }
        Some(libc::EPERM) | Some(libc::EACCES) if op == "BPF_PROG_LOAD" => {
            "run as root (CAP_SYS_ADMIN, or CAP_BPF); on kernels before 5.11 also raise \
             RLIMIT_MEMLOCK (ulimit -l); if the verifier's log below is not empty, it rejected \
             the program: please report it with the rules"
        }
        Some(libc::EPERM) | Some(libc::EACCES) => {
            "run as root (CAP_SYS_ADMIN, or CAP_NET_ADMIN for the query)"
        }
        Some(libc::EINVAL) if op == "BPF_PROG_LOAD" => {
            "the kernel does not know BPF_PROG_TYPE_CGROUP_DEVICE: it needs Linux 4.15+ built \
             with CONFIG_CGROUP_BPF=y (or the verifier rejected the program: see its log)"
        }
        Some(libc::EINVAL) => {
            "the kernel does not support BPF_CGROUP_DEVICE programs on this target: check that \
             it is a cgroup v2 directory and that the kernel has CONFIG_CGROUP_BPF=y"
        }
        Some(libc::E2BIG) if op == "BPF_PROG_ATTACH" => {
            "too many BPF_CGROUP_DEVICE programs are attached to this cgroup (the kernel allows \
             64): detach stale ones (bpftool cgroup show DIR)"
        }
        Some(libc::E2BIG) => "the kernel is older than 4.15, which device programs need",
        Some(libc::EBADF) => "the cgroup directory could not be used: was it removed meanwhile?",
        _ => "see bpf(2) for this command",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_bpf_errors_name_cgroup_syscall_and_what_to_do() {
        let cg = Cgroup::at("/sys/fs/cgroup/x".into());
        let e = cg.bpf_error(
            "BPF_PROG_LOAD",
            io::Error::from_raw_os_error(libc::EINVAL),
            "0: (61) r2 = *(u32 *)(r1 +0)\ninvalid insn".into(),
        );
        let msg = e.to_string();
        for part in [
            "/sys/fs/cgroup/x",
            "BPF_PROG_LOAD",
            "CONFIG_CGROUP_BPF",
            "invalid insn",
        ] {
            assert!(msg.contains(part), "{part} missing from {msg}");
        }
        let e = cg.bpf_error(
            "BPF_PROG_ATTACH",
            io::Error::from_raw_os_error(libc::EPERM),
            String::new(),
        );
        assert!(e.to_string().contains("run as root"), "{e}");
        assert!(!e.to_string().contains("verifier"), "{e}");
    }
}
