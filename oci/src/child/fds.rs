//! The container process's file descriptors: the caller's stdio and its
//! preserved descriptors placed at 0, 1, 2 and 3.., everything above them
//! marked close-on-exec so nothing of the runtime (or of the agent that
//! embeds it) leaks into the container.
//!
//! The parent has already duplicated every source to a number at or above
//! `floor` (the first descriptor the container does not get), and moved the
//! descriptors the child still needs after this step (sync socket, start
//! listener, hooks' state) there too, so the `dup2`s below cannot clobber a
//! source or one of the runtime's own descriptors.

use super::report::{Failure, Step};
use crate::sys;
use std::os::fd::RawFd;

/// The descriptors the container process gets, prepared by the parent.
#[derive(Debug, Default)]
pub struct FdMap {
    /// (source at or above `floor`, target below it).
    pub moves: Vec<(RawFd, RawFd)>,
    /// The lowest descriptor marked close-on-exec before exec.
    pub floor: RawFd,
}

/// Places the descriptors and marks the rest close-on-exec.
pub fn apply(map: &FdMap) -> Result<(), Failure> {
    for (i, &(source, target)) in map.moves.iter().enumerate() {
        // SAFETY: dup2 on descriptors the parent opened for this purpose;
        // the target is below every descriptor the child still uses.
        if unsafe { libc::dup2(source, target) } == -1 {
            return Err(Failure::now(Step::Fds, i));
        }
    }
    let floor = map.floor.max(3) as libc::c_uint;

    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            floor,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    // Kernels before 5.11 lack the flag: the runtime's own descriptors are
    // all close-on-exec already, so only a careless embedder's could leak.
    if ret == -1 && !matches!(sys::errno(), libc::ENOSYS | libc::EINVAL) {
        return Err(Failure::now(Step::Fds, usize::MAX));
    }
    Ok(())
}
