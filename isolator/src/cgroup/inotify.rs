//! A minimal inotify watch on one file, the syscall seam for waiting on
//! cgroup notifications: the kernel signals a modification of memory.events
//! and cgroup.events (`cgroup_file_notify`) to inotify watchers, as systemd
//! relies on.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

/// An inotify instance watching one file for modification and deletion.
#[derive(Debug)]
pub(crate) struct Inotify {
    file: File,
}

impl Inotify {
    /// Starts watching `path`.
    pub(crate) fn watch(path: &Path) -> io::Result<Inotify> {
        let name = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
        // SAFETY: inotify_init1 takes only flags and returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a freshly created descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mask = libc::IN_MODIFY | libc::IN_DELETE_SELF;
        // SAFETY: fd is a valid inotify descriptor and name a NUL-terminated
        // string that outlives the call.
        let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), name.as_ptr(), mask) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Inotify {
            file: File::from(fd),
        })
    }

    /// Waits up to `timeout` for events and drains them; whether any came.
    pub(crate) fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // Round up so a sub-millisecond remainder still sleeps.
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: pfd is one valid pollfd and the count says so.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            };
        }
        if n == 0 {
            return Ok(false);
        }
        self.drain()?;
        Ok(true)
    }

    fn drain(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn sees_a_modification_and_times_out_otherwise() {
        let path = std::env::temp_dir().join(format!("corral-inotify-{}", std::process::id()));
        std::fs::write(&path, "0").unwrap();
        let mut w = Inotify::watch(&path).unwrap();
        let start = Instant::now();
        assert!(!w.wait(Duration::from_millis(20)).unwrap());
        assert!(start.elapsed() >= Duration::from_millis(20));
        std::fs::write(&path, "1").unwrap();
        assert!(w.wait(Duration::from_secs(5)).unwrap());
        assert!(!w.wait(Duration::ZERO).unwrap(), "drained");
        std::fs::remove_file(&path).unwrap();
        assert!(Inotify::watch(&path).is_err());
    }
}
