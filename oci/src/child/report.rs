//! The child's side of the sync protocol: fixed-size messages over a
//! SOCK_SEQPACKET socketpair, so the cloned child can report without
//! allocating. The parent turns a failure into a message naming the step
//! and the path or item it failed on.

use std::os::fd::RawFd;

/// Message tags.
pub const TAG_GO: u32 = 1;
pub const TAG_CREATED: u32 = 2;
pub const TAG_FAILED: u32 = 3;
pub const TAG_FORKED: u32 = 4;

/// One message: a tag, the failed step, the item index within the step and
/// an errno (or a pid for TAG_FORKED).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub tag: u32,
    pub step: u32,
    pub index: u32,
    pub value: i32,
}

/// Steps of container setup, as reported on failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Step {
    SyncWait = 1,
    Setns,
    Fork,
    UnshareCgroup,
    Setsid,
    OomScoreAdj,
    Hostname,
    Domainname,
    RootPropagation,
    RootBind,
    MountDir,
    Mount,
    MountRemount,
    MountPropagation,
    Device,
    Link,
    Pivot,
    Sysctl,
    Masked,
    ReadonlyPath,
    ReadonlyRoot,
    Rlimit,
    Personality,
    Cwd,
    Seccomp,
    CapBounding,
    Keepcaps,
    Setgroups,
    Setgid,
    Setuid,
    Capset,
    Ambient,
    NoNewPrivs,
    StartWait,
    Exec,
    Console,
    CreateContainerHook,
    StartContainerHook,
    Fds,
    OpenRoot,
}

const STEPS: [(Step, &str); 40] = [
    (Step::SyncWait, "waiting for the runtime"),
    (Step::Setns, "joining namespace"),
    (Step::Fork, "forking into the joined pid namespace"),
    (Step::UnshareCgroup, "creating the cgroup namespace"),
    (Step::Setsid, "creating a session"),
    (Step::OomScoreAdj, "setting oom_score_adj"),
    (Step::Hostname, "setting the hostname"),
    (Step::Domainname, "setting the domainname"),
    (Step::RootPropagation, "setting mount propagation of /"),
    (Step::RootBind, "bind-mounting the root filesystem"),
    (Step::MountDir, "creating the mount point of mount"),
    (Step::Mount, "mounting"),
    (Step::MountRemount, "remounting with its flags"),
    (Step::MountPropagation, "setting the propagation of mount"),
    (Step::Device, "creating device"),
    (Step::Link, "creating link"),
    (Step::Pivot, "pivoting to the root filesystem"),
    (Step::Sysctl, "writing sysctl"),
    (Step::Masked, "masking path"),
    (Step::ReadonlyPath, "making path read-only"),
    (Step::ReadonlyRoot, "making the root read-only"),
    (Step::Rlimit, "setting rlimit"),
    (Step::Personality, "setting the personality"),
    (Step::Cwd, "changing to the working directory"),
    (Step::Seccomp, "installing the seccomp filter"),
    (
        Step::CapBounding,
        "dropping from the bounding set capability",
    ),
    (
        Step::Keepcaps,
        "keeping capabilities across the user switch",
    ),
    (Step::Setgroups, "setting additional groups"),
    (Step::Setgid, "setting the group id"),
    (Step::Setuid, "setting the user id"),
    (Step::Capset, "setting capabilities"),
    (Step::Ambient, "raising ambient capability"),
    (Step::NoNewPrivs, "setting no_new_privs"),
    (Step::StartWait, "waiting for start"),
    (Step::Exec, "executing the process"),
    (Step::Console, "setting up the console"),
    (Step::CreateContainerHook, "running createContainer hook"),
    (Step::StartContainerHook, "running startContainer hook"),
    (Step::Fds, "placing file descriptor"),
    (
        Step::OpenRoot,
        "opening the root filesystem with openat2(2), which resolves every path inside it (Linux 5.6 or later)",
    ),
];

/// A description of step number `n`.
pub fn describe(n: u32) -> &'static str {
    STEPS
        .iter()
        .find(|(s, _)| *s as u32 == n)
        .map(|(_, d)| *d)
        .unwrap_or("an unknown step")
}

/// A failed step in the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub step: Step,
    pub index: u32,
    pub errno: i32,
}

impl Failure {
    /// The failure of `step` on item `index` with the current errno.
    pub fn now(step: Step, index: usize) -> Failure {
        Failure {
            step,
            index: index as u32,
            errno: crate::sys::errno(),
        }
    }
}

/// Sends `r` on `fd` (async-signal-safe). Errors are ignored: the parent sees
/// EOF and reports that the child died.
pub fn send(fd: RawFd, r: Report) {
    // SAFETY: r is a plain repr(C) value of the size sent.
    unsafe {
        libc::send(
            fd,
            (&r as *const Report).cast(),
            std::mem::size_of::<Report>(),
            libc::MSG_NOSIGNAL,
        )
    };
}

/// Receives one report; None on EOF or error.
pub fn recv(fd: RawFd) -> Option<Report> {
    let mut r = Report::default();
    loop {
        // SAFETY: r is a plain repr(C) value we own, of the size given.
        let n = unsafe {
            libc::recv(
                fd,
                (&mut r as *mut Report).cast(),
                std::mem::size_of::<Report>(),
                0,
            )
        };
        if n == std::mem::size_of::<Report>() as isize {
            return Some(r);
        }
        if n < 0 && crate::sys::errno() == libc::EINTR {
            continue;
        }
        return None;
    }
}
