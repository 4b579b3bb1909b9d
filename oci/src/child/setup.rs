//! The child's setup sequence, from clone to execve, in the order the
//! runtime spec and the kernel require. Every step reports a failure to the
//! parent (step, item, errno) and exits; nothing here allocates.

use super::report::{self, Failure, Report, Step};
use super::{Prepared, identity, rootfs};
use crate::sys;
use std::ffi::CStr;
use std::os::fd::RawFd;

/// Runs the child: sets the container up and execs its process. Never returns.
pub fn run(p: &Prepared) -> ! {
    let failure = match setup(p) {
        Ok(never) => match never {},
        Err((f, fd)) => (f, fd),
    };
    let (f, fd) = failure;
    report::send(
        fd,
        Report {
            tag: report::TAG_FAILED,
            step: f.step as u32,
            index: f.index,
            value: f.errno,
        },
    );
    // SAFETY: _exit is async-signal-safe and ends the child.
    unsafe { libc::_exit(1) }
}

enum Never {}

fn wrap(fd: RawFd) -> impl Fn(Failure) -> (Failure, RawFd) {
    move |f| (f, fd)
}

fn setup(p: &Prepared) -> Result<Never, (Failure, RawFd)> {
    let on_sync = wrap(p.sync);
    reset_signals();
    if !p.new_user && !p.joins.iter().any(|&(_, t)| t == libc::CLONE_NEWUSER) {
        // Until it execs, this process is the runtime binary. Non-dumpable,
        // processes of the container cannot open its /proc/PID/exe to
        // overwrite the runtime (CVE-2019-5736); execve makes the user's
        // program dumpable again. (In a user namespace the container's root
        // is not the host's root, and the flag would lock the child out of
        // its own /proc files.)
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    }
    match report::recv(p.sync) {
        Some(r) if r.tag == report::TAG_GO => {}
        _ => {
            return Err(on_sync(Failure {
                step: Step::SyncWait,
                index: 0,
                errno: libc::EPIPE,
            }));
        }
    }
    namespaces(p).map_err(&on_sync)?;
    before_root(p).map_err(&on_sync)?;
    let create_hooks = || {
        super::hooks::run(
            &p.create_container_hooks,
            p.hook_state,
            Step::CreateContainerHook,
        )
    };
    match &p.root {
        // With a root, sysctls are written through the container's /proc,
        // opened inside the root before the pivot (`rootfs.rs`).
        Some(root) => {
            rootfs::build(root, &p.sysctls, create_hooks).map_err(&on_sync)?;
            rootfs::finish(root).map_err(&on_sync)?;
        }
        None => {
            create_hooks().map_err(&on_sync)?;
            for (i, (path, value)) in p.sysctls.iter().enumerate() {
                write_file(path, value.to_bytes()).map_err(|e| {
                    on_sync(Failure {
                        step: Step::Sysctl,
                        index: i as u32,
                        errno: e,
                    })
                })?;
            }
        }
    }
    if let Some(socket) = p.console {
        super::console::setup(socket, p.console_size).map_err(&on_sync)?;
    }
    super::fds::apply(&p.fds).map_err(&on_sync)?;
    process_attributes(p).map_err(&on_sync)?;
    // A notifying filter is installed during create, whose caller hands its
    // listener to the seccomp agent; others as late as no_new_privs allows.
    let notify = p.seccomp.as_ref().is_some_and(|s| s.listener().is_some());
    if !p.no_new_privs {
        // Without no_new_privs the filter needs CAP_SYS_ADMIN: install it
        // before the capabilities are dropped.
        install_seccomp(p).map_err(&on_sync)?;
    }
    identity::apply(p).map_err(&on_sync)?;
    if p.no_new_privs {
        identity::no_new_privs().map_err(&on_sync)?;
        if notify {
            install_seccomp(p).map_err(&on_sync)?;
        }
    }
    if let Some(mask) = p.umask {
        // SAFETY: umask cannot fail.
        unsafe { libc::umask(mask) };
    }
    // SAFETY: cwd is a valid path.
    if unsafe { libc::chdir(p.cwd.as_ptr()) } == -1 {
        return Err(on_sync(Failure::now(Step::Cwd, 0)));
    }
    report::send(
        p.sync,
        Report {
            tag: report::TAG_CREATED,
            ..Report::default()
        },
    );
    let out = match p.start_listener {
        Some(l) => wait_for_start(l).map_err(&on_sync)?,
        None => p.sync,
    };
    super::hooks::run(
        &p.start_container_hooks,
        p.hook_state,
        Step::StartContainerHook,
    )
    .map_err(wrap(out))?;
    if p.no_new_privs && !notify {
        install_seccomp(p).map_err(wrap(out))?;
    }
    Err((exec(p), out))
}

fn reset_signals() {
    // SAFETY: an all-zero sigset_t is a valid value to initialise.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid sigset_t; these calls are async-signal-safe.
    unsafe { libc::sigemptyset(&mut set) };
    // SAFETY: as above; unblocks every signal for the container.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) };
    // SAFETY: Rust ignores SIGPIPE; the container must not.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

fn namespaces(p: &Prepared) -> Result<(), Failure> {
    for (i, &(fd, nstype)) in p.joins.iter().enumerate() {
        // SAFETY: fd is an open namespace file of the parent's preparing.
        if unsafe { libc::setns(fd, nstype) } == -1 {
            return Err(Failure::now(Step::Setns, i));
        }
    }
    if p.new_user {
        // Our host ids are unmapped in the new namespace: become its root.
        let failed = |step| {
            move |errno| Failure {
                step,
                index: 0,
                errno,
            }
        };
        sys::setresgid(0).map_err(failed(Step::Setgid))?;
        sys::setresuid(0).map_err(failed(Step::Setuid))?;
    }
    if p.fork_after_setns {
        let mut args = sys::CloneArgs {
            exit_signal: libc::SIGCHLD as u64,
            ..Default::default()
        };
        // SAFETY: we are already a single-threaded clone child; the
        // grandchild continues with the same prepared data.
        match unsafe { sys::clone3(&mut args) } {
            Ok(0) => {}
            Ok(pid) => {
                report::send(
                    p.sync,
                    Report {
                        tag: report::TAG_FORKED,
                        value: pid,
                        ..Report::default()
                    },
                );
                // SAFETY: the intermediate process ends here.
                unsafe { libc::_exit(0) }
            }
            Err(e) => {
                return Err(Failure {
                    step: Step::Fork,
                    index: 0,
                    errno: e,
                });
            }
        }
    }
    if p.new_cgroup_ns {
        // SAFETY: plain flag argument.
        if unsafe { libc::unshare(libc::CLONE_NEWCGROUP) } == -1 {
            return Err(Failure::now(Step::UnshareCgroup, 0));
        }
    }
    if p.new_time {
        time_namespace(p)?;
    }
    // SAFETY: setsid has no arguments.
    if unsafe { libc::setsid() } == -1 {
        return Err(Failure::now(Step::Setsid, 0));
    }
    Ok(())
}

/// Makes the time namespace, sets its offsets and enters it. unshare only
/// makes it the namespace of our children, and the kernel takes offsets
/// only until a process is in it; so: unshare, write the offsets, then
/// setns into it (execve moves a process in only since Linux 6.x).
fn time_namespace(p: &Prepared) -> Result<(), Failure> {
    // SAFETY: plain flag argument.
    if unsafe { libc::unshare(libc::CLONE_NEWTIME) } == -1 {
        return Err(Failure::now(Step::UnshareTime, 0));
    }
    if !p.time_offsets.is_empty() {
        write_file(c"/proc/self/timens_offsets", p.time_offsets.to_bytes()).map_err(|e| {
            Failure {
                step: Step::TimeOffsets,
                index: 0,
                errno: e,
            }
        })?;
    }
    let path = c"/proc/self/ns/time_for_children";
    // SAFETY: path is a valid NUL-terminated string.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(Failure::now(Step::EnterTime, 0));
    }
    // SAFETY: fd is the time namespace just opened; we are single-threaded.
    let r = unsafe { libc::setns(fd, libc::CLONE_NEWTIME) };
    let e = sys::errno();
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    if r == -1 {
        return Err(Failure {
            step: Step::EnterTime,
            index: 0,
            errno: e,
        });
    }
    Ok(())
}

fn before_root(p: &Prepared) -> Result<(), Failure> {
    if let Some(v) = &p.oom_score_adj {
        write_file(c"/proc/self/oom_score_adj", v.to_bytes()).map_err(|e| Failure {
            step: Step::OomScoreAdj,
            index: 0,
            errno: e,
        })?;
    }
    if let Some(h) = &p.hostname {
        // SAFETY: h is valid for its length.
        if unsafe { libc::sethostname(h.as_ptr(), h.to_bytes().len()) } == -1 {
            return Err(Failure::now(Step::Hostname, 0));
        }
    }
    if let Some(d) = &p.domainname {
        // SAFETY: d is valid for its length.
        if unsafe { libc::setdomainname(d.as_ptr(), d.to_bytes().len()) } == -1 {
            return Err(Failure::now(Step::Domainname, 0));
        }
    }
    Ok(())
}

fn process_attributes(p: &Prepared) -> Result<(), Failure> {
    for (i, (resource, limit)) in p.rlimits.iter().enumerate() {
        // SAFETY: limit is a valid rlimit value.
        if unsafe { libc::setrlimit(*resource as _, limit) } == -1 {
            return Err(Failure::now(Step::Rlimit, i));
        }
    }
    if let Some(persona) = p.personality {
        // SAFETY: plain integer argument.
        if unsafe { libc::personality(persona as libc::c_ulong) } == -1 {
            return Err(Failure::now(Step::Personality, 0));
        }
    }
    // Both before the capability drop: a real-time policy, a negative nice
    // or the real-time I/O class need CAP_SYS_NICE / CAP_SYS_ADMIN.
    if let Some(attr) = &p.scheduler {
        // SAFETY: attr is a sched_attr of the size it declares; pid 0 is
        // the calling thread.
        let r = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, attr as *const _, 0) };
        if r == -1 {
            return Err(Failure::now(Step::Scheduler, 0));
        }
    }
    if let Some(pol) = &p.memory_policy {
        let maxnode = (pol.nodes.len() * 64 + 1) as libc::c_ulong;
        // SAFETY: nodes is a mask of maxnode - 1 bits that outlives the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_set_mempolicy,
                pol.mode,
                pol.nodes.as_ptr(),
                maxnode,
            )
        };
        if r == -1 {
            return Err(Failure::now(Step::MemoryPolicy, 0));
        }
    }
    if let Some(mask) = &p.cpu_affinity {
        // SAFETY: the mask is `bytes()` long and outlives the call; pid 0
        // is the calling thread.
        let r = unsafe {
            libc::syscall(
                libc::SYS_sched_setaffinity,
                0,
                mask.bytes(),
                mask.0.as_ptr(),
            )
        };
        if r == -1 {
            return Err(Failure::now(Step::CpuAffinity, 0));
        }
    }
    if let Some(prio) = p.io_priority {
        const IOPRIO_WHO_PROCESS: libc::c_long = 1;
        // SAFETY: integer arguments; who 0 is the calling process.
        let r = unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) };
        if r == -1 {
            return Err(Failure::now(Step::IoPriority, 0));
        }
    }
    Ok(())
}

/// Installs the filter; a notifying one's listener fd goes to the runtime
/// over the sync socket (which forwards it to the seccomp agent) and is
/// closed here, so the container never holds it.
fn install_seccomp(p: &Prepared) -> Result<(), Failure> {
    let Some(prog) = &p.seccomp else {
        return Ok(());
    };
    let failed = |step| {
        move |errno| Failure {
            step,
            index: 0,
            errno,
        }
    };
    if prog.listener().is_none() {
        return prog.install().map_err(failed(Step::Seccomp));
    }
    let fd = prog
        .install_with_listener()
        .map_err(failed(Step::Seccomp))?;
    let msg = Report {
        tag: report::TAG_SECCOMP,
        ..Report::default()
    };
    let sent = report::send_with_fd(p.sync, msg, fd);
    // SAFETY: fd is the listener the kernel just gave us.
    unsafe { libc::close(fd) };
    sent.map_err(failed(Step::SeccompListener))
}

fn write_file(path: &CStr, value: &[u8]) -> Result<(), i32> {
    // SAFETY: path is a valid NUL-terminated string.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(sys::errno());
    }
    // SAFETY: value is valid for its length; fd is ours.
    let n = unsafe { libc::write(fd, value.as_ptr().cast(), value.len()) };
    let e = sys::errno();
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    if n < 0 { Err(e) } else { Ok(()) }
}

/// Blocks until `start` connects and sends its byte; returns the connection,
/// kept open (close-on-exec) to carry an exec failure back to `start`.
fn wait_for_start(listener: RawFd) -> Result<RawFd, Failure> {
    let conn = loop {
        // SAFETY: listener is a listening socket; null address is allowed.
        let fd = unsafe {
            libc::accept4(
                listener,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            )
        };
        if fd >= 0 {
            break fd;
        }
        if sys::errno() != libc::EINTR {
            return Err(Failure::now(Step::StartWait, 0));
        }
    };
    let mut byte = 0u8;
    // SAFETY: byte is a valid one-byte buffer.
    if unsafe { libc::read(conn, (&mut byte as *mut u8).cast(), 1) } != 1 {
        return Err(Failure::now(Step::StartWait, 1));
    }
    // SAFETY: the listener is ours and no longer needed.
    unsafe { libc::close(listener) };
    Ok(conn)
}

/// Tries every candidate path; returns the failure to report.
fn exec(p: &Prepared) -> Failure {
    let mut best = libc::ENOENT;
    for (i, path) in p.exec_paths.iter().enumerate() {
        // SAFETY: path, argv and envp are NUL-terminated strings and
        // null-terminated pointer arrays owned by `p`.
        unsafe { libc::execve(path.as_ptr(), p.argv_ptrs.as_ptr(), p.env_ptrs.as_ptr()) };
        let e = sys::errno();
        match e {
            libc::ENOENT | libc::ENOTDIR => {}
            libc::EACCES => best = libc::EACCES,
            _ => {
                return Failure {
                    step: Step::Exec,
                    index: i as u32,
                    errno: e,
                };
            }
        }
    }
    Failure {
        step: Step::Exec,
        index: u32::MAX,
        errno: best,
    }
}
