//! The child's side of the sync protocol: fixed-size messages over a
//! SOCK_SEQPACKET socketpair, so the cloned child can report without
//! allocating. The parent turns a failure into a message naming the step
//! and the path or item it failed on.

use std::os::fd::{BorrowedFd, OwnedFd, RawFd};

/// Message tags.
pub const TAG_GO: u32 = 1;
pub const TAG_CREATED: u32 = 2;
pub const TAG_FAILED: u32 = 3;
pub const TAG_FORKED: u32 = 4;
/// The seccomp listener fd (SCM_RIGHTS) of a profile using SCMP_ACT_NOTIFY.
pub const TAG_SECCOMP: u32 = 5;

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
    SeccompListener,
    Scheduler,
    IoPriority,
    UnshareTime,
    TimeOffsets,
    EnterTime,
    MountSetattr,
    MemoryPolicy,
    CpuAffinity,
}

const STEPS: [(Step, &str); 49] = [
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
    (
        Step::SeccompListener,
        "passing the seccomp listener (SCMP_ACT_NOTIFY) to the runtime",
    ),
    (
        Step::Scheduler,
        "setting the scheduler (process.scheduler) with sched_setattr(2)",
    ),
    (
        Step::IoPriority,
        "setting the I/O priority (process.ioPriority) with ioprio_set(2)",
    ),
    (Step::UnshareTime, "creating the time namespace"),
    (
        Step::TimeOffsets,
        "writing linux.timeOffsets to /proc/self/timens_offsets",
    ),
    (Step::EnterTime, "entering the new time namespace"),
    (
        Step::MountSetattr,
        "setting recursive attributes with mount_setattr(2) (Linux 5.12 or later) of mount",
    ),
    (
        Step::MemoryPolicy,
        "setting the memory policy (linux.memoryPolicy) with set_mempolicy(2)",
    ),
    (
        Step::CpuAffinity,
        "setting the CPU affinity (process.execCPUAffinity.final) with sched_setaffinity(2)",
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

/// Sends `r` with the descriptor `passed` (SCM_RIGHTS) on `fd`;
/// async-signal-safe and allocation-free. Err is the errno.
pub fn send_with_fd(fd: RawFd, r: Report, passed: RawFd) -> Result<(), i32> {
    // SAFETY: r is a plain repr(C) value; its bytes are the message.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&r as *const Report).cast::<u8>(),
            std::mem::size_of::<Report>(),
        )
    };
    // SAFETY: the socket is open for the duration of the call.
    let sock = unsafe { BorrowedFd::borrow_raw(fd) };
    // SAFETY: so is the descriptor passed.
    let passed = unsafe { BorrowedFd::borrow_raw(passed) };
    crate::seccomp::send_fd(sock, passed, bytes)
}

/// Receives one report and the descriptor it carries, if any; None on EOF
/// or error.
pub fn recv_with_fd(fd: RawFd) -> Option<(Report, Option<OwnedFd>)> {
    let mut r = Report::default();
    // SAFETY: r is a plain repr(C) value we own; any bytes are a valid Report.
    let buf = unsafe {
        std::slice::from_raw_parts_mut(
            (&mut r as *mut Report).cast::<u8>(),
            std::mem::size_of::<Report>(),
        )
    };
    // SAFETY: fd is the caller's open socket.
    let sock = unsafe { BorrowedFd::borrow_raw(fd) };
    match crate::seccomp::recv_maybe_fd(sock, buf) {
        Ok((n, passed)) if n == std::mem::size_of::<Report>() => Some((r, passed)),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd};

    fn seqpacket_pair() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: fds is a valid array of two ints.
        let r =
            unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET, 0, fds.as_mut_ptr()) };
        assert_eq!(r, 0);
        // SAFETY: fds[0] was just created and is owned by nobody else.
        let a = unsafe { OwnedFd::from_raw_fd(fds[0]) };
        // SAFETY: likewise fds[1].
        let b = unsafe { OwnedFd::from_raw_fd(fds[1]) };
        (a, b)
    }

    #[test]
    fn a_report_carries_a_descriptor_and_plain_reports_none() {
        let (a, b) = seqpacket_pair();
        let (x, _y) = seqpacket_pair();
        let r = Report {
            tag: TAG_SECCOMP,
            ..Report::default()
        };
        send_with_fd(a.as_raw_fd(), r, x.as_raw_fd()).unwrap();
        send(
            a.as_raw_fd(),
            Report {
                tag: TAG_CREATED,
                ..Report::default()
            },
        );
        let (got, fd) = recv_with_fd(b.as_raw_fd()).unwrap();
        assert_eq!(got, r);
        let fd = fd.expect("the descriptor");
        // The same socket end as x: both report the same inode.
        let ino = |fd: RawFd| {
            // SAFETY: stat is plain data; all-zero is a valid value.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: fd is open and st a valid out-pointer.
            let r = unsafe { libc::fstat(fd, &mut st) };
            assert_eq!(r, 0);
            st.st_ino
        };
        assert_eq!(ino(fd.as_raw_fd()), ino(x.as_raw_fd()));
        let (got, fd) = recv_with_fd(b.as_raw_fd()).unwrap();
        assert_eq!(got.tag, TAG_CREATED);
        assert!(fd.is_none());
        drop(a);
        assert!(recv_with_fd(b.as_raw_fd()).is_none());
    }
}
