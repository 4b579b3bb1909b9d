//! The syscall seam: thin, typed wrappers over the raw Linux calls the
//! runtime makes that libc does not wrap (clone3, pidfd_*, pivot_root,
//! openat2), plus errno helpers. Everything here is safe to call in a freshly cloned child:
//! no allocation, no locks.

use std::os::fd::RawFd;

/// The last OS error number.
pub fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The kernel's `struct mount_attr` for mount_setattr(2)
/// (MOUNT_ATTR_SIZE_VER0).
#[repr(C)]
#[derive(Debug, Default)]
pub struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

/// `struct clone_args` of clone3(2), version 2 (with cgroup).
#[repr(C)]
#[derive(Debug, Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

/// `CLONE_INTO_CGROUP` (Linux 5.7).
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Forks the calling process the way clone3(2) does with no stack: the child
/// continues on a copy-on-write copy of the caller's stack. Returns 0 in the
/// child, the child's pid in the parent, or the errno.
///
/// # Safety
/// In a multi-threaded caller the child may only make async-signal-safe
/// calls (no allocation, no locks) until it execs or exits.
pub unsafe fn clone3(args: &mut CloneArgs) -> Result<i32, i32> {
    // SAFETY: args is a valid clone_args of the size passed; with no
    // CLONE_VM and no stack, the kernel gives the child a copy of our memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret < 0 {
        Err(errno())
    } else {
        Ok(ret as i32)
    }
}

/// pidfd_open(2).
pub fn pidfd_open(pid: i32) -> Result<RawFd, i32> {
    // SAFETY: plain syscall with integer arguments.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if ret < 0 {
        Err(errno())
    } else {
        Ok(ret as RawFd)
    }
}

/// pidfd_send_signal(2).
pub fn pidfd_send_signal(pidfd: RawFd, signal: i32) -> Result<(), i32> {
    // SAFETY: a null siginfo is allowed; pidfd and signal are plain integers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd,
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if ret < 0 { Err(errno()) } else { Ok(()) }
}

/// pivot_root(2) on NUL-terminated paths.
pub fn pivot_root(new_root: &std::ffi::CStr, put_old: &std::ffi::CStr) -> Result<(), i32> {
    // SAFETY: both pointers are valid NUL-terminated strings.
    let ret = unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) };
    if ret < 0 { Err(errno()) } else { Ok(()) }
}

/// How every path inside a container's root is resolved: `..` and absolute
/// symlinks stop at the root (the directory fd given to openat2), and
/// /proc magic links (`/proc/PID/root`, `/proc/self/fd/N`) are refused, so
/// a symlink in an image can never lead outside its root.
pub const RESOLVE_CONTAINED: u64 = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;

/// `struct open_how` of openat2(2) (libc's is non-exhaustive).
#[repr(C)]
#[derive(Debug, Default)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2(2) of `path` relative to `dirfd` with `flags` (O_CLOEXEC is
/// added), `mode` for O_CREAT and the `resolve` flags. Retries the EAGAIN
/// the kernel answers when a rename raced a `..` lookup under
/// RESOLVE_IN_ROOT. ENOSYS: the kernel is older than 5.6.
pub fn openat2(
    dirfd: RawFd,
    path: &std::ffi::CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> Result<RawFd, i32> {
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: u64::from(mode),
        resolve,
    };
    let mut tries = 0;
    loop {
        // SAFETY: path is a valid NUL-terminated string and how a valid
        // open_how of the size passed, both read during the call only.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dirfd,
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if ret >= 0 {
            return Ok(ret as RawFd);
        }
        let e = errno();
        tries += 1;
        if (e != libc::EAGAIN && e != libc::EINTR) || tries >= 16 {
            return Err(e);
        }
    }
}

/// Turns a libc return value into `Result`, taking errno on -1.
pub fn check(ret: libc::c_int) -> Result<libc::c_int, i32> {
    if ret == -1 { Err(errno()) } else { Ok(ret) }
}

// The set*id calls below are raw syscalls, for the container's init: glibc's
// wrappers make every thread of the process change ids (the "setxid"
// broadcast over its list of threads, under its locks). A child cloned from
// a multi-threaded process (the agent) has one thread, but its copy of that
// list names the parent's threads and its copy of those locks may be held
// for ever. The raw syscall changes the calling thread, which is all of it.

/// setresuid(2) of the calling thread.
pub fn setresuid(uid: libc::uid_t) -> Result<(), i32> {
    // SAFETY: plain integer arguments.
    let r = unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) };
    if r == -1 { Err(errno()) } else { Ok(()) }
}

/// setresgid(2) of the calling thread.
pub fn setresgid(gid: libc::gid_t) -> Result<(), i32> {
    // SAFETY: plain integer arguments.
    let r = unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) };
    if r == -1 { Err(errno()) } else { Ok(()) }
}

/// setgroups(2) of the calling thread.
pub fn setgroups(groups: &[libc::gid_t]) -> Result<(), i32> {
    // SAFETY: groups points to groups.len() gids, read during the call.
    let r = unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) };
    if r == -1 { Err(errno()) } else { Ok(()) }
}
