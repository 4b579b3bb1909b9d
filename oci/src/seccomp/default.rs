//! corral's default seccomp profile, which the agent applies to tasks that
//! bring none: an allow-list in the spirit of Docker's and containerd's
//! defaults, built in code.
//!
//! Every syscall not listed fails with EPERM (`SCMP_ACT_ERRNO`). The list
//! allows what ordinary programs use — files, memory, processes and threads,
//! credentials inside the container's user ids, signals, time, polling, SysV
//! and POSIX IPC, sockets — and leaves out what reaches the kernel or host
//! state that namespaces do not isolate, or widens the attack surface for
//! little use in a task:
//!
//! - keyrings (`keyctl`, `add_key`, `request_key`): not namespaced, a task
//!   could read or fill another tenant's keys;
//! - tracing and reading other processes (`ptrace`, `process_vm_readv`/
//!   `writev`, `kcmp`, `pidfd_getfd`): escapes and information leaks;
//! - namespaces and mounts (`unshare`, `setns`, `mount`, `umount`,
//!   `umount2`, `pivot_root`, the new mount API `fsopen`/`fsmount`/
//!   `move_mount`/`open_tree`/…, and `clone` with any `CLONE_NEW*` flag):
//!   nested user namespaces are the usual door to kernel bugs; `clone3` gets
//!   ENOSYS, because its flags sit in memory a filter cannot read, and libc
//!   then falls back to `clone`, whose flags are checked;
//! - the machine itself (`reboot`, `kexec_load`, `kexec_file_load`,
//!   `init_module`, `finit_module`, `delete_module`, `swapon`, `swapoff`,
//!   `acct`, `quotactl`, `settimeofday`, `clock_settime`, `clock_adjtime`,
//!   `adjtimex`, `sethostname`, `setdomainname`, `syslog`, `iopl`, `ioperm`,
//!   `vhangup`): host-wide state;
//! - large kernel attack surface (`bpf`, `perf_event_open`, `userfaultfd`,
//!   `io_uring_*`, `fanotify_init`, `lookup_dcookie`, `modify_ldt`);
//! - file handles (`open_by_handle_at`, `name_to_handle_at`): they bypass the
//!   mount namespace (the "shocker" escape);
//! - `personality` beyond the harmless values (Linux, 32-bit Linux, UNAME26
//!   and the query 0xffffffff): others such as READ_IMPLIES_EXEC weaken ASLR;
//! - `socket` for AF_VSOCK, which talks to the hypervisor.
//!
//! It lists the syscalls of every architecture corral runs on (x86_64 with
//! its x86 and x32 compat ABIs, aarch64 with arm); names the running
//! libseccomp does not know are skipped when compiling.

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompOperator, LinuxSyscall,
};

#[rustfmt::skip]
const FILES: &[&str] = &[
    "access", "faccessat", "faccessat2", "open", "openat", "openat2", "creat", "close",
    "close_range", "read", "readv", "pread64", "preadv", "preadv2", "write", "writev",
    "pwrite64", "pwritev", "pwritev2", "lseek", "_llseek", "dup", "dup2", "dup3", "fcntl",
    "fcntl64", "ioctl", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
    "sync_file_range2", "arm_sync_file_range", "fallocate", "ftruncate", "ftruncate64",
    "truncate", "truncate64", "fadvise64", "fadvise64_64", "arm_fadvise64_64", "readahead",
    "copy_file_range", "sendfile", "sendfile64", "splice", "tee", "vmsplice", "stat", "stat64",
    "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx", "statfs",
    "statfs64", "fstatfs", "fstatfs64", "getdents", "getdents64", "mkdir", "mkdirat", "rmdir",
    "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "unlink",
    "unlinkat", "readlink", "readlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown",
    "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "umask", "utime",
    "utimes", "utimensat", "utimensat_time64", "futimesat", "mknod", "mknodat", "chdir",
    "fchdir", "getcwd", "chroot", "getxattr", "lgetxattr", "fgetxattr", "getxattrat",
    "setxattr", "lsetxattr", "fsetxattr", "setxattrat", "listxattr", "llistxattr",
    "flistxattr", "listxattrat", "removexattr", "lremovexattr", "fremovexattr",
    "removexattrat", "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    "fanotify_mark", "memfd_create", "cachestat", "file_getattr", "file_setattr",
];

#[rustfmt::skip]
const MEMORY: &[&str] = &[
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "pkey_mprotect", "pkey_alloc",
    "pkey_free", "madvise", "mincore", "mlock", "mlock2", "mlockall", "munlock", "munlockall",
    "msync", "remap_file_pages", "membarrier", "get_mempolicy", "set_mempolicy",
    "set_mempolicy_home_node", "mbind", "memfd_secret", "mseal", "map_shadow_stack",
];

#[rustfmt::skip]
const PROCESSES: &[&str] = &[
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
    "kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp",
    "getsid", "setsid", "getpriority", "setpriority", "prctl", "arch_prctl", "set_tid_address",
    "set_robust_list", "get_robust_list", "rseq", "futex", "futex_time64", "futex_waitv",
    "futex_wake", "futex_wait", "futex_requeue", "set_thread_area", "get_thread_area",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "getcpu", "ioprio_get", "ioprio_set", "pidfd_open",
    "pidfd_send_signal", "process_mrelease", "capget", "capset", "getrlimit", "setrlimit",
    "prlimit64", "ugetrlimit", "getrusage", "times", "uname", "sysinfo", "getrandom",
    "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    "set_tls", "cacheflush", "breakpoint", "riscv_flush_icache", "riscv_hwprobe",
];

#[rustfmt::skip]
const CREDENTIALS: &[&str] = &[
    "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
    "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
    "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid",
    "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32", "setgroups",
    "setgroups32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32",
];

#[rustfmt::skip]
const SIGNALS_AND_TIME: &[&str] = &[
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "sigaction", "sigprocmask", "sigreturn", "sigaltstack", "signal", "sigpending",
    "sigsuspend", "signalfd", "signalfd4", "pause", "alarm", "restart_syscall", "time",
    "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
    "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "getitimer", "setitimer",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
    "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
];

#[rustfmt::skip]
const POLLING_AND_IPC: &[&str] = &[
    "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait",
    "epoll_wait_old", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "pipe", "pipe2",
    "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr", "msgget",
    "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semtimedop_time64",
    "semctl", "shmget", "shmat", "shmdt", "shmctl", "ipc",
];

#[rustfmt::skip]
const NETWORK: &[&str] = &[
    "socketpair", "socketcall", "bind", "listen", "accept", "accept4", "connect",
    "getsockname", "getpeername", "getsockopt", "setsockopt", "sendto", "send", "sendmsg",
    "sendmmsg", "recvfrom", "recv", "recvmsg", "recvmmsg", "recvmmsg_time64", "shutdown",
];

/// `personality` values a task may set: PER_LINUX, PER_LINUX32, UNAME26,
/// UNAME26|PER_LINUX32, and 0xffffffff, which only queries.
const PERSONALITIES: [u64; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// The namespace flags `clone` may not carry. CLONE_NEWTIME is left out: in
/// clone(2)'s flags its bit belongs to the exit signal.
const NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u64;

/// The profile described in this module's documentation.
pub fn default_profile() -> LinuxSeccomp {
    let allowed = [
        FILES,
        MEMORY,
        PROCESSES,
        CREDENTIALS,
        SIGNALS_AND_TIME,
        POLLING_AND_IPC,
        NETWORK,
    ]
    .concat();
    let mut syscalls = vec![syscall(&allowed, LinuxSeccompAction::ScmpActAllow, &[])];
    // clone without namespace flags; s390 passes the flags second.
    let flags_index = if cfg!(target_arch = "s390x") { 1 } else { 0 };
    syscalls.push(syscall(
        &["clone"],
        LinuxSeccompAction::ScmpActAllow,
        &[arg(
            flags_index,
            LinuxSeccompOperator::ScmpCmpMaskedEq,
            NAMESPACE_FLAGS,
            0,
        )],
    ));
    let mut clone3 = syscall(&["clone3"], LinuxSeccompAction::ScmpActErrno, &[]);
    clone3.set_errno_ret(Some(libc::ENOSYS as u32));
    syscalls.push(clone3);
    for value in PERSONALITIES {
        syscalls.push(syscall(
            &["personality"],
            LinuxSeccompAction::ScmpActAllow,
            &[arg(0, LinuxSeccompOperator::ScmpCmpEq, value, 0)],
        ));
    }
    syscalls.push(syscall(
        &["socket"],
        LinuxSeccompAction::ScmpActAllow,
        &[arg(
            0,
            LinuxSeccompOperator::ScmpCmpNe,
            libc::AF_VSOCK as u64,
            0,
        )],
    ));

    let mut profile = LinuxSeccomp::default();
    profile.set_default_action(LinuxSeccompAction::ScmpActErrno);
    profile.set_default_errno_ret(Some(libc::EPERM as u32));
    profile.set_architectures(Some(architectures()));
    profile.set_syscalls(Some(syscalls));
    profile
}

/// The native architecture's compat ABIs, so 32-bit binaries are filtered
/// too rather than killed for a foreign architecture.
fn architectures() -> Vec<Arch> {
    if cfg!(target_arch = "x86_64") {
        vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
    } else if cfg!(target_arch = "aarch64") {
        vec![Arch::ScmpArchAarch64, Arch::ScmpArchArm]
    } else if cfg!(target_arch = "s390x") {
        vec![Arch::ScmpArchS390x, Arch::ScmpArchS390]
    } else {
        vec![Arch::ScmpArchNative]
    }
}

fn syscall(names: &[&str], action: LinuxSeccompAction, args: &[LinuxSeccompArg]) -> LinuxSyscall {
    let mut s = LinuxSyscall::default();
    s.set_names(names.iter().map(|n| n.to_string()).collect());
    s.set_action(action);
    if !args.is_empty() {
        s.set_args(Some(args.to_vec()));
    }
    s
}

fn arg(index: usize, op: LinuxSeccompOperator, value: u64, value_two: u64) -> LinuxSeccompArg {
    LinuxSeccompArgBuilder::default()
        .index(index)
        .op(op)
        .value(value)
        .value_two(value_two)
        .build()
        .expect("every field of LinuxSeccompArg is set")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn names(p: &LinuxSeccomp, action: LinuxSeccompAction) -> HashSet<String> {
        p.syscalls()
            .iter()
            .flatten()
            .filter(|s| s.action() == action)
            .flat_map(|s| s.names().clone())
            .collect()
    }

    #[test]
    fn denies_by_default_with_eperm() {
        let p = default_profile();
        assert_eq!(p.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(p.default_errno_ret(), Some(libc::EPERM as u32));
    }

    #[test]
    fn leaves_out_the_dangerous_syscalls() {
        let allowed = names(&default_profile(), LinuxSeccompAction::ScmpActAllow);
        for bad in [
            "keyctl",
            "add_key",
            "request_key",
            "ptrace",
            "unshare",
            "setns",
            "mount",
            "umount2",
            "pivot_root",
            "reboot",
            "kexec_load",
            "init_module",
            "finit_module",
            "delete_module",
            "bpf",
            "perf_event_open",
            "userfaultfd",
            "open_by_handle_at",
            "io_uring_setup",
            "clone3",
            "fsopen",
            "move_mount",
        ] {
            assert!(!allowed.contains(bad), "{bad} is allowed");
        }
        for good in [
            "read",
            "openat",
            "execve",
            "exit_group",
            "futex",
            "socket",
            "clone",
        ] {
            assert!(allowed.contains(good), "{good} is not allowed");
        }
    }

    #[test]
    fn no_name_is_listed_twice_in_the_allow_list() {
        let p = default_profile();
        let first = &p.syscalls().as_ref().unwrap()[0];
        let unique: HashSet<_> = first.names().iter().collect();
        assert_eq!(unique.len(), first.names().len());
    }
}
