//! The guard every VM test calls first: it fails loudly when the test is not
//! running inside the corral test VM with the cgroup v2 controllers it needs.

use std::fs;

/// Controllers the VM platform enables at the root of the cgroup v2 tree.
pub const CONTROLLERS: [&str; 6] = ["cpuset", "cpu", "io", "memory", "pids", "hugetlb"];

/// Panics unless this process runs as root inside the test VM with every
/// controller of [`CONTROLLERS`] enabled in the root's subtree_control.
pub fn require() {
    let hint = "this test needs root and a full cgroup v2 hierarchy: run it inside the VM with \
                `tests/run` (or `tests/vm/run -- cargo nextest run -E 'binary(/^vm_/)'`)";
    assert!(
        std::env::var_os("CORRAL_VM").is_some(),
        "CORRAL_VM is not set: {hint}"
    );
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "not running as root: {hint}");
    let enabled = fs::read_to_string("/sys/fs/cgroup/cgroup.subtree_control")
        .unwrap_or_else(|e| panic!("reading /sys/fs/cgroup/cgroup.subtree_control: {e}: {hint}"));
    for c in CONTROLLERS {
        assert!(
            enabled.split_whitespace().any(|x| x == c),
            "controller {c} is not enabled in /sys/fs/cgroup/cgroup.subtree_control \
             ({enabled:?}): {hint}"
        );
    }
}

/// The scratch disk of the VM: its mount point and its block device.
#[derive(Debug, Clone)]
pub struct Disk {
    /// Where the ext4 scratch disk is mounted.
    pub mount: String,
    /// The block device behind it, e.g. `/dev/vda`.
    pub device: String,
}

impl Disk {
    /// The scratch disk the VM mounted; panics outside the VM.
    pub fn get() -> Disk {
        require();
        let mount = std::env::var("CORRAL_VM_DISK").expect("CORRAL_VM_DISK is not set by the VM");
        let device =
            std::env::var("CORRAL_VM_DISK_DEV").expect("CORRAL_VM_DISK_DEV is not set by the VM");
        Disk { mount, device }
    }

    /// The device's `major:minor`, as io.max and io.stat name it.
    pub fn major_minor(&self) -> String {
        let name = self.device.trim_start_matches("/dev/");
        let path = format!("/sys/block/{name}/dev");
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {path}: {e}"))
            .trim()
            .to_string()
    }
}

/// Panics unless this process runs as root inside the test VM booted with
/// systemd as PID 1 (`tests/vm/run --systemd`, as `tests/run` does for the
/// `vm_systemd*` test targets).
pub fn require_systemd() {
    let hint = "this test needs the VM booted with systemd as PID 1: run it with `tests/run` \
                (or `tests/vm/run --systemd -- cargo nextest run -E 'binary(/^vm_systemd/)'`)";
    assert!(
        std::env::var_os("CORRAL_VM_SYSTEMD").is_some(),
        "CORRAL_VM_SYSTEMD is not set: {hint}"
    );
    // SAFETY: geteuid has no preconditions and cannot fail.
    assert_eq!(unsafe { libc::geteuid() }, 0, "not running as root: {hint}");
    let init = fs::read_to_string("/proc/1/comm").unwrap_or_default();
    assert_eq!(init.trim(), "systemd", "PID 1 is {init:?}: {hint}");
}
