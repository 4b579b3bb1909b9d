//! A `corral master` or `corral agent` child of `corral dev`: this same
//! binary, in a process group of its own (so a terminal's Ctrl-C reaches
//! only `corral dev`, which stops the children in order), its signal mask
//! cleared, sent SIGTERM if `corral dev` dies without stopping it, its
//! output appended to a log file and its `corral KIND listening on
//! http://ADDR` line picked out of it.

use anyhow::{Context, Result, anyhow, bail};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running daemon.
#[derive(Debug)]
pub struct Daemon {
    kind: &'static str,
    child: Child,
    log: PathBuf,
    listening: mpsc::Receiver<SocketAddr>,
}

/// The address in `corral KIND listening on http://IP:PORT`. Pure.
pub fn parse_listening(kind: &str, line: &str) -> Option<SocketAddr> {
    line.strip_prefix(&format!("corral {kind} listening on http://"))?
        .trim()
        .trim_end_matches('/')
        .parse()
        .ok()
}

impl Daemon {
    /// Starts `corral KIND ARGS...`, appending its stdout and stderr to
    /// `log`.
    pub fn spawn(kind: &'static str, args: &[OsString], log: &Path) -> Result<Daemon> {
        let exe = std::env::current_exe().context("finding the corral binary")?;
        let mut file = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let _ = writeln!(file, "==== corral dev: corral {kind} {args:?}");
        let parent = std::process::id();
        // SAFETY: an all-zero sigset_t is a valid value to initialise.
        let mut no_signals: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `no_signals` is a valid sigset_t owned here.
        unsafe { libc::sigemptyset(&mut no_signals) };
        let mut cmd = Command::new(&exe);
        cmd.arg(kind)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(file.try_clone().context("duplicating the log file")?)
            .process_group(0);
        let hook = move || {
            // corral dev blocks SIGINT and SIGTERM in every thread and the
            // mask survives exec: the daemon must get them.
            // SAFETY: `no_signals` is an initialised set; async-signal-safe.
            let rc = unsafe {
                libc::pthread_sigmask(libc::SIG_SETMASK, &no_signals, std::ptr::null_mut())
            };
            if rc != 0 {
                return Err(std::io::Error::from_raw_os_error(rc));
            }
            // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag of this
            // (forked, single-threaded) process; async-signal-safe.
            if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: getppid has no preconditions.
            let ppid = unsafe { libc::getppid() };
            // The parent died before the flag was set: nobody will stop us.
            if u32::try_from(ppid).ok() != Some(parent) {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        };
        // SAFETY: the hook makes three syscalls and neither allocates nor
        // takes a lock another thread could hold at the fork.
        unsafe { cmd.pre_exec(hook) };
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {} {kind}", exe.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, listening) = mpsc::channel();
        std::thread::spawn(move || copy_lines(kind, stdout, file, tx));
        Ok(Daemon {
            kind,
            child,
            log: log.to_path_buf(),
            listening,
        })
    }

    /// Waits for the listening line; fails with the log's end if the
    /// daemon exits first or `timeout` passes.
    pub fn wait_listening(&mut self, timeout: Duration) -> Result<SocketAddr> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.listening.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => return Ok(addr),
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => {}
            }
            if let Some(status) = self.exited() {
                bail!("corral {} {status}:\n{}", self.kind, self.log_tail(20));
            }
            if Instant::now() >= deadline {
                bail!(
                    "corral {} did not serve within {timeout:?}:\n{}",
                    self.kind,
                    self.log_tail(20)
                );
            }
        }
    }

    /// Its exit status, once it ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, then SIGKILL after `grace`; waits for it. Returns whether
    /// it stopped by itself.
    pub fn stop(&mut self, grace: Duration) -> bool {
        if self.exited().is_some() {
            return true;
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) of our own child, not yet reaped (so its pid
            // cannot have been reused).
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// The last `lines` lines of the file at `path` (its last 64 KiB at most).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
        let mut bytes = Vec::new();
        let _ = f.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let all: Vec<&str> = text.lines().collect();
    let tail = all[all.len().saturating_sub(lines)..].join("\n");
    format!("---- {} ----\n{tail}", path.display())
}

/// Copies `from` into `log` line by line; the first listening line's
/// address also goes to `tx`.
fn copy_lines(kind: &str, from: impl Read, mut log: File, tx: mpsc::Sender<SocketAddr>) {
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    let mut tx = Some(tx);
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let _ = log.write_all(&line);
        let text = String::from_utf8_lossy(&line);
        if let Some(addr) = parse_listening(kind, text.trim_end())
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(addr);
        }
        line.clear();
    }
}

/// An error naming the daemon that ended and the end of its log.
pub fn ended(d: &mut Daemon, status: ExitStatus) -> anyhow::Error {
    anyhow!(
        "corral {} ended unexpectedly ({status}):\n{}",
        d.kind,
        d.log_tail(20)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_gives_the_address() {
        let line = "corral agent listening on http://127.0.0.1:40123";
        assert_eq!(
            parse_listening("agent", line),
            Some(SocketAddr::from(([127, 0, 0, 1], 40123)))
        );
        assert_eq!(parse_listening("master", line), None);
        assert_eq!(
            parse_listening("agent", "corral agent listening on http://x"),
            None
        );
    }
}
