//! The descriptors the parent hands the child: the process's stdio and
//! preserved descriptors, and what the child keeps using, all moved at or
//! above a floor so that placing the process's own numbers cannot clobber
//! them; and the sync socketpair.

use super::{LaunchError, LaunchRequest};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The process's descriptors duplicated at or above `floor`, with the
/// number each is to have in the container.
pub(super) fn fd_sources(
    req: &LaunchRequest,
    floor: RawFd,
) -> Result<Vec<(OwnedFd, RawFd)>, LaunchError> {
    let stdio = req.stdio.iter().flatten().zip(0..);
    let preserved = req.preserve_fds.iter().zip(3..);
    stdio
        .chain(preserved)
        .map(|(&fd, target)| Ok((dup_at(fd, floor)?, target)))
        .collect()
}

/// `fd` itself if it is at or above `floor`, else a copy that is.
pub(super) fn raise(fd: OwnedFd, floor: RawFd) -> Result<OwnedFd, LaunchError> {
    match fd.as_raw_fd() >= floor {
        true => Ok(fd),
        false => dup_at(fd.as_raw_fd(), floor),
    }
}

/// A close-on-exec copy of `fd` at or above `floor`.
pub(super) fn raise_copy(fd: &impl AsRawFd, floor: RawFd) -> Result<OwnedFd, LaunchError> {
    dup_at(fd.as_raw_fd(), floor)
}

/// A close-on-exec copy of `fd` at the lowest free number at or above
/// `floor`.
pub(super) fn dup_at(fd: RawFd, floor: RawFd) -> Result<OwnedFd, LaunchError> {
    // SAFETY: fcntl F_DUPFD_CLOEXEC on a descriptor the caller holds open.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor) };
    if new == -1 {
        return Err(LaunchError::Fd {
            fd,
            source: std::io::Error::last_os_error(),
        });
    }
    // SAFETY: `new` was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// The parent's and the child's ends of the sync socket.
pub(super) fn socketpair() -> Result<(OwnedFd, OwnedFd), LaunchError> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid array of two ints.
    let ret = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if ret == -1 {
        return Err(LaunchError::Socket(std::io::Error::last_os_error()));
    }
    // SAFETY: fds[0] was just created and is owned by nobody else.
    let a = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    // SAFETY: likewise fds[1].
    let b = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    Ok((a, b))
}
