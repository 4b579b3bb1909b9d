//! A real `corral master` (or `corral agent`) process for integration tests: started on a
//! loopback port of its own choosing with a fresh work dir, its stdout and
//! stderr drained into a log file (so it never blocks on a full pipe),
//! killed by pid and cleaned up on drop, restartable on the same work dir
//! and port to test recovery.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the master may take to print its listening line.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// What the master prints on stdout once it serves.
pub const LISTENING: &str = "corral master listening on http://";

static STARTS: AtomicU64 = AtomicU64::new(0);

/// A running master (or one killed by the test, until restarted).
#[derive(Debug)]
pub struct MasterProcess {
    /// `master` or `agent`: the subcommand, and the word in the listening line.
    kind: &'static str,
    child: Option<Child>,
    bin: PathBuf,
    root: PathBuf,
    extra_args: Vec<String>,
    addr: SocketAddr,
    drains: Vec<JoinHandle<()>>,
}

impl MasterProcess {
    /// Starts `corral master --ip 127.0.0.1 --port 0 --work-dir <fresh>
    /// <extra_args>` and waits for its listening line; panics with its log
    /// if it does not come within [`START_TIMEOUT`].
    pub fn start(extra_args: &[&str]) -> MasterProcess {
        MasterProcess::start_with(&crate::oci::corral_bin(), extra_args)
    }

    /// [`MasterProcess::start`] with another binary in place of `corral`
    /// (the harness' own tests use a script).
    pub fn start_with(bin: &Path, extra_args: &[&str]) -> MasterProcess {
        MasterProcess::start_daemon("master", bin, extra_args)
    }

    /// `corral KIND --ip 127.0.0.1 --port 0 --work-dir <fresh> <extra_args>`,
    /// waiting for `corral KIND listening on http://...`.
    pub fn start_daemon(kind: &'static str, bin: &Path, extra_args: &[&str]) -> MasterProcess {
        MasterProcess::start_daemon_in(&std::env::temp_dir(), kind, bin, extra_args)
    }

    /// [`MasterProcess::start_daemon`] with its folder (work dir and log)
    /// made under `parent` instead of the temp dir.
    pub fn start_daemon_in(
        parent: &Path,
        kind: &'static str,
        bin: &Path,
        extra_args: &[&str],
    ) -> MasterProcess {
        let n = STARTS.fetch_add(1, Ordering::Relaxed);
        let root = parent.join(format!("corral-{kind}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("work")).unwrap();
        let mut master = MasterProcess {
            kind,
            child: None,
            bin: bin.to_owned(),
            root,
            extra_args: extra_args.iter().map(|a| a.to_string()).collect(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            drains: Vec::new(),
        };
        if let Err(e) = master.spawn(0) {
            panic!("{e}");
        }
        master
    }

    fn spawn(&mut self, port: u16) -> Result<(), String> {
        let log = Arc::new(Mutex::new(
            File::options()
                .create(true)
                .append(true)
                .open(self.log_path())
                .unwrap(),
        ));
        let mut child = Command::new(&self.bin)
            .args([
                self.kind,
                "--ip",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--work-dir",
            ])
            .arg(self.work_dir())
            .args(&self.extra_args)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        self.drains
            .push(drain_for(self.kind, stdout, log.clone(), Some(tx)));
        self.drains.push(drain_for(self.kind, stderr, log, None));
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    let Some(addr) = parse_listening_of(self.kind, &line) else {
                        self.kill();
                        return Err(self.failure(&format!("printed a bad listening line '{line}'")));
                    };
                    self.addr = addr;
                    return Ok(());
                }
                Err(e) => {
                    if let Some(status) = self
                        .child
                        .as_mut()
                        .and_then(|c| c.try_wait().ok().flatten())
                    {
                        self.reap();
                        return Err(self.failure(&format!("exited with {status} before listening")));
                    }
                    if Instant::now() >= deadline {
                        self.kill();
                        return Err(self
                            .failure(&format!("printed no listening line in {START_TIMEOUT:?}")));
                    }
                    if e == mpsc::RecvTimeoutError::Disconnected {
                        // stdout closed: wait for the exit status.
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }
    }

    fn failure(&self, what: &str) -> String {
        format!(
            "corral {} {what}; its output:\n{}",
            self.kind,
            self.stderr_log()
        )
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT` (as pymesos wants it).
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its `--work-dir`.
    pub fn work_dir(&self) -> PathBuf {
        self.root.join("work")
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn log_path(&self) -> PathBuf {
        self.root.join(format!("{}.log", self.kind))
    }

    /// Everything it printed (stdout and stderr, every run), for assertion
    /// messages.
    pub fn stderr_log(&self) -> String {
        let mut text = String::new();
        let _ = File::open(self.log_path()).and_then(|mut f| f.read_to_string(&mut text));
        text
    }

    /// Kills it with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
        }
        self.reap();
    }

    /// Sends SIGTERM and waits up to `grace` for it to exit (then SIGKILL).
    /// Returns whether it exited by itself.
    pub fn terminate(&mut self, grace: Duration) -> bool {
        let Some(pid) = self.pid() else { return true };
        let pid = libc::pid_t::try_from(pid).unwrap();
        // SAFETY: kill(2) on our own child's pid, which is not reaped yet
        // (so it cannot be reused); no memory is involved.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self
                .child
                .as_mut()
                .is_some_and(|c| c.try_wait().ok().flatten().is_some())
            {
                self.reap();
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        false
    }

    fn reap(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        // The pipes close when the process is gone; a drain still reading
        // after 2 s (a grandchild holding them) is left behind, not waited for.
        let deadline = Instant::now() + Duration::from_secs(2);
        for drain in self.drains.drain(..) {
            while !drain.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if drain.is_finished() {
                let _ = drain.join();
            }
        }
    }

    /// Kills it and starts it again on the same work dir, on the same port
    /// if it can be bound again (else on a new one: check [`Self::url`]).
    pub fn restart(&mut self) {
        self.kill();
        let port = self.addr.port();
        let _ = writeln!(self.log_file(), "==== restart on port {port}");
        if let Err(first) = self.spawn(port) {
            let _ = writeln!(
                self.log_file(),
                "==== port {port} failed; restart on a new port"
            );
            self.spawn(0)
                .unwrap_or_else(|e| panic!("restart failed on port {port}: {first}\nthen: {e}"));
        }
    }

    fn log_file(&self) -> File {
        File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap()
    }

    /// Whether the process is alive.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for MasterProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- corral {} output ----\n{}",
                self.kind,
                self.stderr_log()
            );
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Copies `from` line by line into `log`; the first master listening
/// line also goes to `listening`.
#[cfg(test)]
fn drain(
    from: impl Read + Send + 'static,
    log: Arc<Mutex<File>>,
    listening: Option<mpsc::Sender<String>>,
) -> JoinHandle<()> {
    drain_for("master", from, log, listening)
}

/// Copies `from` line by line into `log`; the first listening line of a
/// `kind` daemon also goes to `listening`.
fn drain_for(
    kind: &'static str,
    from: impl Read + Send + 'static,
    log: Arc<Mutex<File>>,
    mut listening: Option<mpsc::Sender<String>>,
) -> JoinHandle<()> {
    let prefix = format!("corral {kind} listening on http://");
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let _ = log
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .write_all(&line);
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            if text.starts_with(&prefix)
                && let Some(tx) = listening.take()
            {
                let _ = tx.send(text);
            }
            line.clear();
        }
    })
}

/// The address in `corral master listening on http://IP:PORT`.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    parse_listening_of("master", line)
}

/// The address in `corral KIND listening on http://IP:PORT`.
pub fn parse_listening_of(kind: &str, line: &str) -> Option<SocketAddr> {
    line.strip_prefix(&format!("corral {kind} listening on http://"))?
        .trim()
        .trim_end_matches('/')
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for `corral`: logs its arguments, prints the listening
    /// line with the port it was given (5 for 0), then sleeps.
    fn fake_master(dir: &Path, script: &str) -> PathBuf {
        let bin = dir.join("fake-corral");
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(&bin, format!("#!/bin/sh\n{script}\n")).unwrap();
        let mut perms = std::fs::metadata(&bin).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&bin, perms).unwrap();
        bin
    }

    #[test]
    fn start_kill_restart_and_cleanup() {
        let dir = std::env::temp_dir().join(format!("corral-fake-master-{}", std::process::id()));
        let args = dir.join("args");
        let script = format!(
            "echo \"$@\" >> {}\necho booting >&2\nport=$5; [ \"$port\" = 0 ] && port=5\n\
             echo \"corral master listening on http://127.0.0.1:$port\"\nexec sleep 30",
            args.display()
        );
        let bin = fake_master(&dir, &script);
        let mut m = MasterProcess::start_with(&bin, &["--flag", "x"]);
        assert_eq!(m.url(), "http://127.0.0.1:5");
        assert!(m.is_running());
        let root = m.root.clone();
        let work = m.work_dir().display().to_string();
        m.restart();
        assert_eq!(m.host_port(), "127.0.0.1:5");
        let log = m.stderr_log();
        assert!(
            log.contains("booting") && log.contains("==== restart on port 5"),
            "{log}"
        );
        assert!(m.terminate(Duration::from_secs(5)));
        assert!(!m.is_running());
        drop(m);
        assert!(!root.exists(), "the work dir is removed on drop");
        let seen = std::fs::read_to_string(&args).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let expected = format!(
            "master --ip 127.0.0.1 --port 0 --work-dir {work} --flag x\n\
             master --ip 127.0.0.1 --port 5 --work-dir {work} --flag x\n"
        );
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_master_that_dies_early_fails_with_its_output() {
        let dir = std::env::temp_dir().join(format!("corral-dead-master-{}", std::process::id()));
        let bin = fake_master(&dir, "echo 'error: --work-dir is not writable' >&2; exit 3");
        let err = std::panic::catch_unwind(|| MasterProcess::start_with(&bin, &[])).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(
            msg.contains("exited with exit status: 3 before listening"),
            "{msg}"
        );
        assert!(msg.contains("error: --work-dir is not writable"), "{msg}");
    }

    #[test]
    fn the_listening_line_gives_the_address() {
        let line = "corral master listening on http://127.0.0.1:40123";
        assert_eq!(
            parse_listening(line),
            Some(SocketAddr::from(([127, 0, 0, 1], 40123)))
        );
        assert_eq!(
            parse_listening("corral master listening on http://nowhere"),
            None
        );
        assert_eq!(parse_listening("listening on 127.0.0.1:1"), None);
    }

    #[test]
    fn drain_keeps_every_line_and_reports_the_listening_one() {
        let path = std::env::temp_dir().join(format!("corral-drain-{}", std::process::id()));
        let log = Arc::new(Mutex::new(File::create(&path).unwrap()));
        let (tx, rx) = mpsc::channel();
        let input: &[u8] = b"starting\ncorral master listening on http://127.0.0.1:5\nlater\n";
        drain(input, log, Some(tx)).join().unwrap();
        assert_eq!(
            rx.recv().unwrap(),
            "corral master listening on http://127.0.0.1:5"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(text.as_bytes(), input);
    }
}
