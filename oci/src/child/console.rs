//! The terminal, child side: a new pty from the container's own devpts, its
//! master sent to the caller's console socket (SCM_RIGHTS, runc's protocol),
//! its peer made the process's stdio and controlling terminal.

use super::report::{Failure, Step};
use crate::sys;
use std::os::fd::{BorrowedFd, RawFd};

fn err(index: usize) -> impl Fn(i32) -> Failure {
    move |errno| Failure {
        step: Step::Console,
        index: index as u32,
        errno,
    }
}

/// Sets up the terminal; `socket` is connected to the console socket.
pub fn setup(socket: RawFd, size: Option<(u16, u16)>) -> Result<(), Failure> {
    // SAFETY: a valid path and flags.
    let master = unsafe {
        libc::open(
            c"/dev/ptmx".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if master < 0 {
        return Err(Failure::now(Step::Console, 0));
    }
    let unlock: libc::c_int = 0;
    // SAFETY: master is a pty master; unlock is a valid int.
    sys::check(unsafe { libc::ioctl(master, libc::TIOCSPTLCK, &unlock) }).map_err(err(1))?;
    // SAFETY: TIOCGPTPEER returns a new fd for the peer of master.
    let peer = sys::check(unsafe {
        libc::ioctl(master, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY)
    })
    .map_err(err(2))?;
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: peer is a tty; ws is a valid winsize.
        sys::check(unsafe { libc::ioctl(peer, libc::TIOCSWINSZ, &ws) }).map_err(err(3))?;
    }
    // SAFETY: socket stays open for the duration of the call.
    let s = unsafe { BorrowedFd::borrow_raw(socket) };
    // SAFETY: master stays open for the duration of the call.
    let m = unsafe { BorrowedFd::borrow_raw(master) };
    crate::seccomp::send_fd(s, m, b"/dev/ptmx").map_err(err(4))?;
    // SAFETY: both fds are ours and no longer needed.
    unsafe { libc::close(master) };
    // SAFETY: as above.
    unsafe { libc::close(socket) };
    for target in 0..3 {
        // SAFETY: peer is open; dup3 onto stdio.
        sys::check(unsafe { libc::dup3(peer, target, 0) }).map_err(err(5))?;
    }
    if peer > 2 {
        // SAFETY: the original peer fd is ours.
        unsafe { libc::close(peer) };
    }
    // SAFETY: stdin is now the pty peer and we lead a new session.
    sys::check(unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) })
        .map_err(err(6))
        .map(drop)
}
