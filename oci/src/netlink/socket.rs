//! A NETLINK_ROUTE socket: send a request, read its acknowledgement, its
//! answer or its dump. Errors are the kernel's errno.

use super::message::{self, Address, Link, NLMSG_DONE, NLMSG_ERROR};
use crate::sys;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A NETLINK_ROUTE socket, bound to the network namespace of the thread
/// that opened it.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

impl Socket {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> Result<Socket, i32> {
        // SAFETY: plain socket(2) call.
        let fd = sys::check(unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        })?;
        // SAFETY: fd was just created and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Socket { fd, seq: 0 })
    }

    fn next(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    fn send(&self, bytes: &[u8]) -> Result<(), i32> {
        // SAFETY: an all-zero sockaddr_nl is valid; the kernel is pid 0.
        let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        to.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: bytes and to are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                (&to as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if n < 0 { Err(sys::errno()) } else { Ok(()) }
    }

    fn recv(&self, buf: &mut [u8]) -> Result<usize, i32> {
        loop {
            // SAFETY: buf is valid for its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            match n {
                n if n >= 0 => return Ok(n as usize),
                _ if sys::errno() == libc::EINTR => continue,
                _ => return Err(sys::errno()),
            }
        }
    }

    /// Sends a request built with sequence number `seq` and collects the
    /// payloads of its answer of type `typ`, up to its acknowledgement,
    /// error or (for a dump) NLMSG_DONE.
    fn exchange(
        &mut self,
        bytes: &[u8],
        seq: u32,
        typ: u16,
        dump: bool,
    ) -> Result<Vec<Vec<u8>>, i32> {
        self.send(bytes)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut out = Vec::new();
        loop {
            let n = self.recv(&mut buf)?;
            for m in message::messages(&buf[..n]) {
                if m.seq != seq {
                    continue;
                }
                match m.typ {
                    NLMSG_ERROR => {
                        return match message::error_code(m.payload) {
                            0 => Ok(out),
                            e => Err(e),
                        };
                    }
                    NLMSG_DONE => return Ok(out),
                    t if t == typ => {
                        out.push(m.payload.to_vec());
                        if !dump {
                            return Ok(out);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends a request that is answered by an acknowledgement.
    fn request(&mut self, build: impl FnOnce(u32) -> Vec<u8>) -> Result<(), i32> {
        let seq = self.next();
        self.exchange(&build(seq), seq, 0, false).map(drop)
    }

    /// The link named `name`; ENODEV when there is none.
    pub fn link(&mut self, name: &str) -> Result<Link, i32> {
        self.one_link(|seq| message::get_link(name, seq))
    }

    /// The link with `index`.
    pub fn link_by_index(&mut self, index: i32) -> Result<Link, i32> {
        self.one_link(|seq| message::get_link_by_index(index, seq))
    }

    /// The one link a RTM_GETLINK request (built for its sequence number)
    /// answers; ENODEV when the answer holds none.
    fn one_link(&mut self, request: impl FnOnce(u32) -> Vec<u8>) -> Result<Link, i32> {
        let seq = self.next();
        let got = self.exchange(&request(seq), seq, message::RTM_NEWLINK, false)?;
        got.first()
            .and_then(|p| message::link(p))
            .ok_or(libc::ENODEV)
    }

    /// Every address of link `index`.
    pub fn addresses(&mut self, index: i32) -> Result<Vec<Address>, i32> {
        let seq = self.next();
        let got = self.exchange(
            &message::dump_addresses(seq),
            seq,
            message::RTM_NEWADDR,
            true,
        )?;
        Ok(got
            .iter()
            .filter_map(|p| message::address(p))
            .filter(|a| a.index == index as u32)
            .collect())
    }

    /// Moves link `index` into the namespace of `netns_fd`, named `name`
    /// there when given.
    pub fn move_link(&mut self, index: i32, netns_fd: i32, name: Option<&str>) -> Result<(), i32> {
        self.request(|seq| message::move_link(index, netns_fd, name, seq))
    }

    pub fn rename(&mut self, index: i32, name: &str) -> Result<(), i32> {
        self.request(|seq| message::rename_link(index, name, seq))
    }

    pub fn set_up(&mut self, index: i32) -> Result<(), i32> {
        self.request(|seq| message::set_up(index, seq))
    }

    /// Adds `addr` to link `index`.
    pub fn add_address(&mut self, index: i32, addr: &Address) -> Result<(), i32> {
        self.request(|seq| addr.add_request(index as u32, seq))
    }
}
