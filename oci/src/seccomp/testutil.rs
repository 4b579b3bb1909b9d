//! Test helpers: a seccomp filter sticks to the process that installs it, so
//! tests install in a forked child and read how it ended.

/// How a forked child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `_exit(code)`.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

/// Runs `f` in a forked child that `_exit`s with its result (101 on panic)
/// and waits for it.
pub fn in_child(f: impl FnOnce() -> i32) -> Ended {
    wait(spawn(f))
}

/// Forks a child that runs `f` and `_exit`s with its result (101 on panic).
pub fn spawn(f: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `f`, which in these tests makes raw
    // syscalls on data prepared before the fork, then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
        // SAFETY: _exit ends the child without running the parent's atexit.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Waits for the child `pid` and says how it ended.
pub fn wait(pid: libc::pid_t) -> Ended {
    let mut status = 0;
    loop {
        // SAFETY: pid is our child and status a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        assert_eq!(errno(), libc::EINTR, "waitpid");
    }
    if libc::WIFEXITED(status) {
        Ended::Exited(libc::WEXITSTATUS(status))
    } else {
        Ended::Signaled(libc::WTERMSIG(status))
    }
}

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Sets no_new_privs so an unprivileged process may install filters.
pub fn no_new_privs() {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes plain integers.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(r, 0, "PR_SET_NO_NEW_PRIVS");
}

/// Runs the syscall `nr` with `args` and returns its result or -errno.
pub fn raw(nr: libc::c_long, args: [libc::c_long; 3]) -> i64 {
    // SAFETY: the tests only call syscalls whose arguments are integers or
    // null/valid pointers they own.
    let r = unsafe { libc::syscall(nr, args[0], args[1], args[2]) };
    if r < 0 { -i64::from(errno()) } else { r }
}
