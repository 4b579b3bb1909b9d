//! The hooks that run inside the container's namespaces (createContainer,
//! before the pivot; startContainer, just before the program's exec), child
//! side: fork, the state JSON on stdin from a memfd the parent filled, execve
//! of the hook, and a wait bounded by its timeout. No allocation.

use super::report::{Failure, Step};
use super::{NulError, cpath, cstr, ptrs};
use crate::sys;
use oci_spec::runtime::Hook;
use std::ffi::{CString, c_char};
use std::os::fd::RawFd;

/// A hook ready for execve.
#[derive(Debug)]
pub struct PreparedHook {
    pub path: CString,
    pub argv: Vec<CString>,
    pub argv_ptrs: Vec<*const c_char>,
    pub env: Vec<CString>,
    pub env_ptrs: Vec<*const c_char>,
    pub timeout_ms: Option<u64>,
}

/// Prepares `hooks` (parent side).
pub fn prepare(hooks: &[Hook]) -> Result<Vec<PreparedHook>, NulError> {
    hooks
        .iter()
        .map(|h| {
            let mut argv = h
                .args()
                .iter()
                .flatten()
                .map(|a| cstr("hook argument", a))
                .collect::<Result<Vec<_>, _>>()?;
            if argv.is_empty() {
                argv.push(cpath("hook", h.path())?);
            }
            let env = h
                .env()
                .iter()
                .flatten()
                .map(|e| cstr("hook environment", e))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(PreparedHook {
                path: cpath("hook", h.path())?,
                argv_ptrs: ptrs(&argv),
                argv,
                env_ptrs: ptrs(&env),
                env,
                timeout_ms: h.timeout().map(|t| t as u64 * 1000),
            })
        })
        .collect()
}

fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// Runs `hooks` in order; a failure carries the hook's index and, as a
/// negative value, its exit status (or -(128+signal), or -255 on timeout).
pub fn run(hooks: &[PreparedHook], state: RawFd, step: Step) -> Result<(), Failure> {
    for (i, h) in hooks.iter().enumerate() {
        let fail = |value: i32| Failure {
            step,
            index: i as u32,
            errno: value,
        };
        // SAFETY: state is the memfd the parent filled.
        unsafe { libc::lseek(state, 0, libc::SEEK_SET) };
        let mut args = sys::CloneArgs {
            exit_signal: libc::SIGCHLD as u64,
            ..Default::default()
        };
        // SAFETY: we are a single-threaded clone child; the grandchild only
        // calls dup2, execve and _exit.
        let pid = match unsafe { sys::clone3(&mut args) } {
            Ok(0) => {
                // SAFETY: state is open; 0 becomes the hook's stdin.
                unsafe { libc::dup2(state, 0) };
                // SAFETY: path, argv, envp are prepared and NUL-terminated.
                unsafe { libc::execve(h.path.as_ptr(), h.argv_ptrs.as_ptr(), h.env_ptrs.as_ptr()) };
                // SAFETY: exec failed; end the grandchild.
                unsafe { libc::_exit(127) }
            }
            Ok(pid) => pid,
            Err(e) => return Err(fail(e)),
        };
        let status = wait(pid, h.timeout_ms).map_err(fail)?;
        if status != 0 {
            return Err(fail(-status));
        }
    }
    Ok(())
}

/// Waits for `pid`; its exit status (128+signal when killed), Err(-255)
/// after killing it on timeout.
fn wait(pid: i32, timeout_ms: Option<u64>) -> Result<i32, i32> {
    let deadline = timeout_ms.map(|t| now_ms() + t);
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer; pid is our child.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if got == pid {
            return Ok(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            });
        }
        if got == -1 && sys::errno() != libc::EINTR {
            return Err(sys::errno());
        }
        if deadline.is_some_and(|d| now_ms() >= d) {
            // SAFETY: pid is our child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: as above; reap it.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            return Err(-255);
        }
        let ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000,
        };
        // SAFETY: ts is valid; a null remainder is allowed.
        unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
    }
}
