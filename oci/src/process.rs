//! Process identity: a pid together with its start time, so a recycled pid is
//! never mistaken for the container's init, and signals go through a pidfd
//! opened only after the identity was confirmed.

use crate::sys;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A process as recorded in the state: pid and start time (clock ticks after
/// boot, field 22 of /proc/PID/stat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessId {
    pub pid: i32,
    pub start_time: u64,
}

/// What /proc says of a pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// The one-letter state (R, S, D, Z, T, ...).
    pub state: char,
    pub start_time: u64,
}

/// Parses the text of /proc/PID/stat (the command may contain spaces and
/// parentheses, so fields are counted after the last ')').
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); start time is field 22.
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// Reads /proc/PID/stat; None if the process does not exist.
pub fn stat(pid: i32) -> Option<ProcStat> {
    use std::io::Read;
    // One read: the file is a few hundred bytes and reports size 0, so
    // read_to_string would probe with several small reads.
    let mut buf = [0u8; 2048];
    let mut f = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
    let mut len = 0;
    while len < buf.len() {
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    parse_stat(std::str::from_utf8(&buf[..len]).ok()?)
}

impl ProcessId {
    /// Identifies a live process by pid.
    pub fn of(pid: i32) -> Option<ProcessId> {
        stat(pid).map(|s| ProcessId {
            pid,
            start_time: s.start_time,
        })
    }

    /// True if this exact process still exists and has not exited (zombies
    /// count as exited).
    pub fn is_alive(&self) -> bool {
        matches!(stat(self.pid), Some(s) if s.start_time == self.start_time && s.state != 'Z' && s.state != 'X')
    }

    /// Opens a pidfd on this exact process, or None if it is gone.
    pub fn pidfd(&self) -> Option<OwnedFd> {
        let fd = sys::pidfd_open(self.pid).ok()?;
        // SAFETY: fd is a fresh pidfd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Confirm after opening: the pidfd now pins the process we checked.
        self.is_alive().then_some(fd)
    }

    /// Sends `signal` to this exact process. Ok(false) if it is gone.
    pub fn signal(&self, signal: i32) -> Result<bool, i32> {
        let Some(fd) = self.pidfd() else {
            return Ok(false);
        };
        match sys::pidfd_send_signal(fd.as_raw_fd(), signal) {
            Ok(()) => Ok(true),
            Err(libc::ESRCH) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_names() {
        let text =
            "1234 (a) b) (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100";
        let s = parse_stat(text).unwrap();
        assert_eq!(s.state, 'S');
        assert_eq!(s.start_time, 987654);
    }

    #[test]
    fn knows_itself_and_not_a_recycled_pid() {
        let me = ProcessId::of(std::process::id() as i32).unwrap();
        assert!(me.is_alive());
        assert!(me.pidfd().is_some());
        let impostor = ProcessId {
            pid: me.pid,
            start_time: me.start_time + 1,
        };
        assert!(!impostor.is_alive());
        assert_eq!(impostor.signal(0), Ok(false));
    }
}
