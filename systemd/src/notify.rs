//! sd_notify(3) without libsystemd: state lines (`READY=1`, `STATUS=...`,
//! `WATCHDOG=1`, `STOPPING=1`) sent as one datagram to the unix socket
//! systemd names in `$NOTIFY_SOCKET` (a path, or `@name` in the abstract
//! namespace), and the watchdog period from `$WATCHDOG_USEC` (for this
//! process only when `$WATCHDOG_PID` names another). Outside systemd there
//! is no socket and every call is a no-op.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Why a notification could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// `$NOTIFY_SOCKET` is not a usable address.
    #[error("NOTIFY_SOCKET={0:?}: not a socket path or @abstract name")]
    BadAddress(String),
    /// The datagram could not be sent.
    #[error("sending to NOTIFY_SOCKET {socket}: {source}")]
    Send {
        /// The socket.
        socket: String,
        /// The error.
        source: std::io::Error,
    },
}

/// The message for `fields`: `KEY=value` lines. A value's newlines would
/// start new assignments, so they become spaces. Pure.
pub fn message(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        out.push_str(k);
        out.push('=');
        out.push_str(&v.replace('\n', " "));
        out.push('\n');
    }
    out
}

/// The watchdog period systemd expects pings within, for process `pid`,
/// from the values of `$WATCHDOG_USEC` and `$WATCHDOG_PID`. Pure.
pub fn watchdog_period(usec: Option<&str>, for_pid: Option<&str>, pid: u32) -> Option<Duration> {
    if let Some(p) = for_pid
        && p.parse::<u32>().ok() != Some(pid)
    {
        return None;
    }
    let usec: u64 = usec?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// The service manager's notification socket, if there is one.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(String, SocketAddr, UnixDatagram)>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From the environment systemd gives a `Type=notify` service; a no-op
    /// notifier when `$NOTIFY_SOCKET` is unset.
    pub fn from_env() -> Result<Notifier, NotifyError> {
        let watchdog = watchdog_period(
            std::env::var("WATCHDOG_USEC").ok().as_deref(),
            std::env::var("WATCHDOG_PID").ok().as_deref(),
            std::process::id(),
        );
        match std::env::var("NOTIFY_SOCKET") {
            Ok(socket) if !socket.is_empty() => Ok(Notifier {
                watchdog,
                ..Notifier::to(&socket)?
            }),
            _ => Ok(Notifier::none()),
        }
    }

    /// A notifier that sends nothing.
    pub fn none() -> Notifier {
        Notifier {
            target: None,
            watchdog: None,
        }
    }

    /// A notifier for `socket` (a path, or `@name`), without a watchdog.
    pub fn to(socket: &str) -> Result<Notifier, NotifyError> {
        let bad = || NotifyError::BadAddress(socket.to_string());
        let addr = match socket.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes()).map_err(|_| bad())?,
            None if socket.starts_with('/') => {
                SocketAddr::from_pathname(socket).map_err(|_| bad())?
            }
            None => return Err(bad()),
        };
        let sock = UnixDatagram::unbound().map_err(|source| NotifyError::Send {
            socket: socket.to_string(),
            source,
        })?;
        Ok(Notifier {
            target: Some((socket.to_string(), addr, sock)),
            watchdog: None,
        })
    }

    /// Whether a service manager listens.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often to send `WATCHDOG=1`: half the period systemd allows, as
    /// sd_watchdog_enabled(3) advises; None without a watchdog.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|d| d / 2)
    }

    /// Sends `fields` (no-op without a socket).
    pub fn send(&self, fields: &[(&str, &str)]) -> Result<(), NotifyError> {
        let Some((name, addr, sock)) = &self.target else {
            return Ok(());
        };
        sock.send_to_addr(message(fields).as_bytes(), addr)
            .map(|_| ())
            .map_err(|source| NotifyError::Send {
                socket: name.clone(),
                source,
            })
    }

    /// `READY=1` with a status line.
    pub fn ready(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&[("READY", "1"), ("STATUS", status)])
    }

    /// A status line.
    pub fn status(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&[("STATUS", status)])
    }

    /// `WATCHDOG=1`: alive and well.
    pub fn watchdog(&self) -> Result<(), NotifyError> {
        self.send(&[("WATCHDOG", "1")])
    }

    /// `STOPPING=1` with a status line.
    pub fn stopping(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&[("STOPPING", "1"), ("STATUS", status)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_key_value_lines_without_stray_newlines() {
        assert_eq!(
            message(&[("READY", "1"), ("STATUS", "two\nlines")]),
            "READY=1\nSTATUS=two lines\n"
        );
    }

    #[test]
    fn the_watchdog_is_this_processes_only() {
        let us = Some("10000000");
        assert_eq!(watchdog_period(us, None, 7), Some(Duration::from_secs(10)));
        assert_eq!(
            watchdog_period(us, Some("7"), 7),
            Some(Duration::from_secs(10))
        );
        assert_eq!(watchdog_period(us, Some("8"), 7), None);
        assert_eq!(watchdog_period(Some("0"), None, 7), None);
        assert_eq!(watchdog_period(Some("x"), None, 7), None);
        assert_eq!(watchdog_period(None, None, 7), None);
    }

    #[test]
    fn datagrams_reach_a_path_socket_and_an_abstract_one() {
        let dir = std::env::temp_dir().join(format!("corral-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let server = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::to(path.to_str().unwrap()).unwrap();
        assert!(n.enabled());
        n.ready("serving").unwrap();
        let mut buf = [0u8; 256];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=serving\n");
        std::fs::remove_dir_all(&dir).unwrap();

        let name = format!("corral-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        Notifier::to(&format!("@{name}"))
            .unwrap()
            .watchdog()
            .unwrap();
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1\n");
    }

    #[test]
    fn without_a_socket_nothing_is_sent_and_bad_addresses_are_named() {
        let n = Notifier::none();
        assert!(!n.enabled());
        n.ready("x").unwrap();
        let e = Notifier::to("relative/path").unwrap_err();
        assert!(e.to_string().contains("relative/path"), "{e}");
        let e = Notifier::to("/nonexistent/corral-notify")
            .unwrap()
            .status("x")
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/corral-notify"), "{e}");
    }
}
