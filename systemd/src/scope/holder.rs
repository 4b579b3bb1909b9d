//! The holder: a tiny process that keeps a scope alive. systemd starts a
//! scope only around existing processes and stops it (removing its cgroup)
//! as soon as it is empty, so the driver forks a holder before
//! StartTransientUnit (the container's init is cloned straight into the
//! scope's cgroup afterwards) and leaves it there until the container is
//! removed: the cgroup, with memory.events and memory.peak, outlives the
//! container's processes like the file driver's, which the agent's OOM
//! verdict needs.
//!
//! It is double-forked (re-parented to init or the nearest subreaper, never
//! a zombie of the caller), closes every descriptor it inherited (no
//! listening socket or pipe is held open), names itself `corral-holder`,
//! sets its oom_score_adj to -1000 (a group OOM kill spares it) and sleeps
//! in pause(2) until killed. Only raw system calls run between fork and
//! pause, so forking from a threaded process is sound.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A running holder, with a pidfd so killing it never hits a reused pid.
#[derive(Debug)]
pub struct Holder {
    pid: i32,
    pidfd: OwnedFd,
}

const ADJ_PATH: &CStr = c"/proc/self/oom_score_adj";
const ADJ_VALUE: &[u8] = b"-1000";
const NAME: &CStr = c"corral-holder";

impl Holder {
    /// Forks a holder; returns once its pid is known.
    pub fn spawn() -> io::Result<Holder> {
        let mut fds = [0; 2];
        // SAFETY: fds is valid storage for two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 just returned this descriptor, owned here alone.
        let read = unsafe { OwnedFd::from_raw_fd(fds[0]) };
        // SAFETY: as above.
        let write = unsafe { OwnedFd::from_raw_fd(fds[1]) };
        // SAFETY: the child runs only async-signal-safe system calls
        // (`intermediate` and `hold`) and never returns.
        let child = unsafe { libc::fork() };
        if child < 0 {
            return Err(io::Error::last_os_error());
        }
        if child == 0 {
            intermediate(write.as_raw_fd());
        }
        drop(write);
        let mut status = 0;
        // SAFETY: child is our own child; status is valid storage.
        while unsafe { libc::waitpid(child, &mut status, 0) } < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let mut buf = [0u8; 4];
        // SAFETY: buf is valid for 4 bytes.
        let n = unsafe { libc::read(read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n != 4 {
            return Err(io::Error::other("the holder process did not start"));
        }
        let pid = i32::from_ne_bytes(buf);
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pidfd_open returned a new descriptor we own.
        let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        Ok(Holder { pid, pidfd })
    }

    /// Its pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// SIGKILLs it (it may already be gone).
    pub fn kill(self) {
        // SAFETY: pidfd_send_signal on our pidfd, no siginfo, no flags.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
        }
    }
}

/// The first child: starts its own session, forks the holder, sends its
/// pid through `pipe` and exits, so the holder is re-parented.
fn intermediate(pipe: i32) -> ! {
    // SAFETY: setsid is an async-signal-safe system call.
    unsafe { libc::setsid() };
    // SAFETY: as the first fork: the child only runs `hold`.
    let holder = unsafe { libc::fork() };
    if holder == 0 {
        hold();
    }
    let bytes = holder.to_ne_bytes();
    if holder > 0 {
        // SAFETY: a write from a valid 4-byte buffer; a failed fork (-1)
        // sends nothing and is read as no holder.
        unsafe { libc::write(pipe, bytes.as_ptr().cast(), bytes.len()) };
    }
    // SAFETY: _exit is async-signal-safe and ends only this child.
    unsafe { libc::_exit(0) }
}

/// The holder itself: sheds descriptors, protects itself from group OOM
/// kills and sleeps until killed.
// Each call below is a raw system call on constant, NUL-terminated strings
// or buffers: none allocates or takes a lock.
fn hold() -> ! {
    // SAFETY: closes every descriptor of this process, which owns none
    // that Rust code will use again.
    unsafe { libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) };
    // SAFETY: NAME is NUL-terminated and outlives the call.
    unsafe { libc::prctl(libc::PR_SET_NAME, NAME.as_ptr()) };
    // SAFETY: ADJ_PATH is NUL-terminated.
    let fd = unsafe { libc::open(ADJ_PATH.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd >= 0 {
        // SAFETY: a write of a constant buffer to the fd just opened.
        unsafe { libc::write(fd, ADJ_VALUE.as_ptr().cast(), ADJ_VALUE.len()) };
        // SAFETY: closes the fd just opened.
        unsafe { libc::close(fd) };
    }
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}
