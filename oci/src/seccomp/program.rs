//! A compiled seccomp program and its installation: one seccomp(2) syscall on
//! data prepared in the parent, safe to run in a raw clone3 child.

use std::os::fd::RawFd;

use libc::{c_long, c_ulong};

use super::notify::NotifyListener;

/// The kernel's limit on a filter's length (BPF_MAXINSNS).
pub const MAX_INSTRUCTIONS: usize = 4096;

/// A classic-BPF seccomp filter and the flags to install it with, compiled
/// in the runtime by [`compile`](super::compile).
///
/// # Safety rules for installing
///
/// [`install`](Self::install) and [`install_with_listener`](Self::install_with_listener)
/// are meant for the container child, a raw clone3 child of a possibly
/// multi-threaded process. They are **async-signal-safe and allocation-free**:
/// they only build a `sock_fprog` on the stack pointing at this value's
/// instructions and call `seccomp(SECCOMP_SET_MODE_FILTER)` (or
/// `prctl(PR_SET_SECCOMP)` on kernels without seccomp(2) when no flags are
/// needed); the error is the errno, never a formatted message. So:
///
/// - compile in the parent, before the clone; the child only borrows the
///   program (its memory is the parent's, copied or shared by the clone);
/// - they do **not** set `no_new_privs`. The kernel refuses a filter
///   (EACCES) unless the thread has no_new_privs or CAP_SYS_ADMIN in its user
///   namespace, so the caller orders it: either `prctl(PR_SET_NO_NEW_PRIVS)`
///   before installing, or install while still privileged, before the
///   capabilities are dropped (what runc does when `noNewPrivileges` is off);
/// - install as late as possible — every syscall after it (execve included)
///   goes through the filter;
/// - the filter applies to the calling thread and its future children only,
///   unless the profile asked for SECCOMP_FILTER_FLAG_TSYNC.
#[derive(Debug, Clone)]
pub struct SeccompProgram {
    filter: Box<[libc::sock_filter]>,
    flags: c_ulong,
    listener: Option<NotifyListener>,
    skipped: Vec<String>,
}

/// The errno of the last failed call, without allocating.
fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

impl SeccompProgram {
    /// A program from compiled parts (see [`compile`](super::compile)).
    pub(crate) fn new(
        filter: Vec<libc::sock_filter>,
        flags: c_ulong,
        listener: Option<NotifyListener>,
        skipped: Vec<String>,
    ) -> Self {
        SeccompProgram {
            filter: filter.into_boxed_slice(),
            flags,
            listener,
            skipped,
        }
    }

    /// The BPF instructions.
    pub fn instructions(&self) -> &[libc::sock_filter] {
        &self.filter
    }

    /// How many instructions the program has.
    pub fn len(&self) -> usize {
        self.filter.len()
    }

    /// Whether the program has no instruction (never true for a compiled one).
    pub fn is_empty(&self) -> bool {
        self.filter.is_empty()
    }

    /// The `SECCOMP_FILTER_FLAG_*` bits passed to seccomp(2).
    pub fn flags(&self) -> c_ulong {
        self.flags
    }

    /// Where the listener fd goes when the profile uses SCMP_ACT_NOTIFY; then
    /// install with [`install_with_listener`](Self::install_with_listener).
    pub fn listener(&self) -> Option<&NotifyListener> {
        self.listener.as_ref()
    }

    /// Syscall names of the profile this libseccomp does not know, skipped
    /// (as runc and crun do: profiles list syscalls of newer kernels). For the
    /// caller to log.
    pub fn skipped_syscalls(&self) -> &[String] {
        &self.skipped
    }

    /// Installs the filter on the calling thread (all threads with TSYNC).
    /// Async-signal-safe and allocation-free; see the type's safety rules.
    /// Err is the errno: EACCES without no_new_privs or CAP_SYS_ADMIN, EINVAL
    /// for a program that needs a listener (use
    /// [`install_with_listener`](Self::install_with_listener)), ESRCH when
    /// TSYNC could not synchronise another thread.
    pub fn install(&self) -> Result<(), i32> {
        if self.listener.is_some() {
            return Err(libc::EINVAL);
        }
        self.load().map(|_| ())
    }

    /// Installs a filter that uses SCMP_ACT_NOTIFY and returns the new
    /// listener fd (close-on-exec), to be handed to the runtime and on to
    /// the agent. Async-signal-safe and allocation-free. EINVAL for a program
    /// without notifications.
    pub fn install_with_listener(&self) -> Result<RawFd, i32> {
        if self.listener.is_none() {
            return Err(libc::EINVAL);
        }
        let fd = self.load()?;
        RawFd::try_from(fd).map_err(|_| libc::EBADF)
    }

    /// seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog), falling back to
    /// prctl(PR_SET_SECCOMP) when seccomp(2) is missing and no flag is needed.
    fn load(&self) -> Result<c_long, i32> {
        let len = u16::try_from(self.filter.len()).map_err(|_| libc::EINVAL)?;
        let prog = libc::sock_fprog {
            len,
            // The kernel only reads the instructions.
            filter: self.filter.as_ptr().cast_mut(),
        };
        let prog_ptr: *const libc::sock_fprog = &prog;
        // SAFETY: prog points to `len` valid instructions that outlive the
        // call; the kernel copies them and never writes through the pointer.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                self.flags,
                prog_ptr,
            )
        };
        if ret >= 0 {
            let tsync_only = libc::SECCOMP_FILTER_FLAG_TSYNC;
            if self.flags & (tsync_only | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER) == tsync_only
                && ret > 0
            {
                // With TSYNC alone the kernel returns the id of a thread it
                // could not synchronise.
                return Err(libc::ESRCH);
            }
            return Ok(ret);
        }
        let errno = last_errno();
        if errno != libc::ENOSYS || self.flags != 0 {
            return Err(errno);
        }
        // SAFETY: as above; prctl reads the same sock_fprog.
        let ret = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as c_ulong,
                prog_ptr,
            )
        };
        if ret == 0 { Ok(0) } else { Err(last_errno()) }
    }
}
