//! Passing one file descriptor over a unix socket (SCM_RIGHTS) with raw
//! sendmsg/recvmsg on stack buffers: async-signal-safe and allocation-free, so
//! a freshly cloned container child can hand its seccomp listener fd to the
//! runtime, and the runtime can hand it on to a seccomp agent.

use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Room for one cmsghdr carrying one int, aligned as cmsghdr needs.
#[repr(C, align(8))]
struct CmsgBuf([u8; 64]);

/// The bytes of control data one fd needs (`CMSG_SPACE(sizeof(int))`).
fn cmsg_space() -> usize {
    // SAFETY: CMSG_SPACE is pure arithmetic on its argument.
    unsafe { libc::CMSG_SPACE(size_of::<RawFd>() as u32) as usize }
}

/// The errno of the last failed call, without allocating.
fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Sends `payload` (at least one byte) and `fd` on the connected unix socket
/// `socket`. Async-signal-safe, allocation-free; Err is the errno.
pub fn send_fd(socket: BorrowedFd<'_>, fd: BorrowedFd<'_>, payload: &[u8]) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    if payload.is_empty() {
        return Err(libc::EINVAL);
    }
    let mut buf = CmsgBuf([0; 64]);
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr().cast_mut().cast(),
        iov_len: payload.len(),
    };
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = buf.0.as_mut_ptr().cast();
    msg.msg_controllen = cmsg_space() as _;
    // SAFETY: msg_control points to a buffer of msg_controllen bytes, large
    // enough for one header, so the first header is inside it.
    let cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    // SAFETY: cmsg points into `buf`, aligned and large enough (see above).
    let hdr = unsafe { &mut *cmsg };
    hdr.cmsg_level = libc::SOL_SOCKET;
    hdr.cmsg_type = libc::SCM_RIGHTS;
    // SAFETY: CMSG_LEN is pure arithmetic.
    hdr.cmsg_len = unsafe { libc::CMSG_LEN(size_of::<RawFd>() as u32) } as _;
    // SAFETY: CMSG_DATA of a header inside `buf` points inside `buf`.
    let data = unsafe { libc::CMSG_DATA(cmsg) };
    // SAFETY: there are size_of::<RawFd>() bytes after data in `buf`; the
    // write is unaligned-safe.
    unsafe { data.cast::<RawFd>().write_unaligned(fd.as_raw_fd()) };
    loop {
        // SAFETY: msg and everything it points to live across the call.
        let n = unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = last_errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

/// Receives a payload into `buf` and one fd from the unix socket `socket`.
/// Returns the payload's length and the fd (close-on-exec). Allocation-free;
/// Err is the errno (EBADMSG when the message carried no fd).
pub fn recv_fd(socket: BorrowedFd<'_>, buf: &mut [u8]) -> Result<(usize, OwnedFd), i32> {
    match recv_maybe_fd(socket, buf)? {
        (n, Some(fd)) => Ok((n, fd)),
        (_, None) => Err(libc::EBADMSG),
    }
}

/// Receives a payload into `buf` and the fd it carries, if any (for a
/// protocol where only some messages carry one). Allocation-free; Err is
/// the errno.
pub fn recv_maybe_fd(
    socket: BorrowedFd<'_>,
    buf: &mut [u8],
) -> Result<(usize, Option<OwnedFd>), i32> {
    use std::os::fd::AsRawFd;
    let mut cbuf = CmsgBuf([0; 64]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = cbuf.0.len() as _;
    let n = loop {
        // SAFETY: msg and the buffers it points to live across the call.
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = last_errno();
        if e != libc::EINTR {
            return Err(e);
        }
    };
    // SAFETY: msg was filled by recvmsg; msg_controllen says how much of
    // `cbuf` holds headers.
    let cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    if cmsg.is_null() {
        return Ok((n, None));
    }
    // SAFETY: a non-null first header lies inside `cbuf`.
    let hdr = unsafe { &*cmsg };
    // SAFETY: CMSG_LEN is pure arithmetic.
    let min_len = unsafe { libc::CMSG_LEN(size_of::<RawFd>() as u32) } as usize;
    if hdr.cmsg_level != libc::SOL_SOCKET
        || hdr.cmsg_type != libc::SCM_RIGHTS
        || (hdr.cmsg_len as usize) < min_len
    {
        return Err(libc::EBADMSG);
    }
    // SAFETY: CMSG_DATA of a header inside `cbuf` points inside `cbuf`.
    let data = unsafe { libc::CMSG_DATA(cmsg) };
    // SAFETY: the SCM_RIGHTS header is followed by at least one int in `cbuf`.
    let fd = unsafe { data.cast::<RawFd>().read_unaligned() };
    // SAFETY: the kernel just installed this fd for us; nothing else owns it.
    Ok((n, Some(unsafe { OwnedFd::from_raw_fd(fd) })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn an_fd_and_its_payload_cross_a_socket_pair() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut r, mut w) = UnixStream::pair().unwrap();
        send_fd(a.as_fd(), w.as_fd(), b"hello").unwrap();
        let mut buf = [0u8; 16];
        let (n, fd) = recv_fd(b.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
        // The received fd is the same socket end as `w`.
        let mut passed = UnixStream::from(fd);
        passed.write_all(b"x").unwrap();
        w.write_all(b"y").unwrap();
        let mut got = [0u8; 2];
        r.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"xy");
    }

    #[test]
    fn a_message_without_fd_is_ebadmsg() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(b"plain").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(recv_fd(b.as_fd(), &mut buf).unwrap_err(), libc::EBADMSG);
    }
}
