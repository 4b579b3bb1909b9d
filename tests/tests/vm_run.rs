//! `corral dev` and `corral run` as a user runs them, in the VM: real
//! processes of the `corral` binary, the URLs read from `corral dev`'s
//! output, `corral run`'s exit status, stdout and stderr checked. Each
//! test has its own `corral dev` (free ports, its own data dir and cgroup
//! subtree, all removed on drop even when the test fails).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous: the VM is emulated.
const T: Duration = Duration::from_secs(180);

fn corral() -> PathBuf {
    corral_tests::oci::corral_bin()
}

fn signal(child: &Child, signo: i32) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) of our own child, not yet reaped.
    unsafe { libc::kill(pid, signo) };
}

/// Waits for `child` at most `timeout`; kills it after that.
fn wait(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A running `corral dev`.
struct Dev {
    child: Option<Child>,
    master: String,
    data: PathBuf,
    cgroup: PathBuf,
    stderr: PathBuf,
}

impl Dev {
    fn start(name: &str) -> Dev {
        corral_tests::vm::require();
        let tag = format!("{name}-{}", std::process::id());
        let data = std::env::temp_dir().join(format!("corral-vmrun-{tag}"));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        let stderr = std::env::temp_dir().join(format!("corral-vmrun-{tag}.stderr"));
        let root = format!("corral-test-run-{tag}");
        let mut child = Command::new(corral())
            .args(["dev", "--port", "0", "--cgroup-root", &root])
            .args(["--resources", "cpus:2;mem:512;disk:1024"])
            .arg("--data-dir")
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut dev = Dev {
            child: Some(child),
            master: String::new(),
            data,
            cgroup: Path::new("/sys/fs/cgroup").join(root),
            stderr,
        };
        let deadline = Instant::now() + T;
        let mut agent = None;
        while dev.master.is_empty() || agent.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("master: ") {
                        dev.master = url.to_string();
                    } else if let Some(url) = line.strip_prefix("agent: ") {
                        agent = Some(url.to_string());
                    }
                }
                Err(_) => panic!("corral dev printed no URLs:\n{}", dev.log()),
            }
        }
        assert!(
            dev.master.starts_with("http://127.0.0.1:"),
            "{}",
            dev.master
        );
        dev
    }

    fn log(&self) -> String {
        let mut text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        for f in ["master.log", "agent.log"] {
            let log = std::fs::read_to_string(self.data.join(f)).unwrap_or_default();
            text.push_str(&format!("\n---- {f} ----\n{log}"));
        }
        text
    }

    /// `corral run --master URL ARGS...`, started.
    fn spawn_run(&self, args: &[&str]) -> Child {
        Command::new(corral())
            .args([
                "run",
                "--master",
                &self.master,
                "--cpus",
                "0.5",
                "--mem",
                "64",
            ])
            .arg("--")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `corral run ... -- ARGS` to its end: exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut child = self.spawn_run(args);
        let out = read_all(child.stdout.take().unwrap());
        let err = read_all(child.stderr.take().unwrap());
        let status = wait(&mut child, T);
        let (out, err) = (out.join().unwrap(), err.join().unwrap());
        let status = status.unwrap_or_else(|| {
            panic!(
                "corral run {args:?} did not end in {T:?}; stderr:\n{err}\n{}",
                self.log()
            )
        });
        let code = status.code().unwrap_or_else(|| panic!("{status}"));
        (code, out, err)
    }

    /// SIGINT, as Ctrl-C; its exit status.
    fn interrupt(&mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        signal(&child, libc::SIGINT);
        wait(&mut child, T).unwrap_or_else(|| panic!("corral dev did not stop:\n{}", self.log()))
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, libc::SIGTERM);
            let _ = wait(&mut child, Duration::from_secs(60));
        }
        if std::thread::panicking() {
            eprintln!("---- corral dev ----\n{}", self.log());
        }
        // Whatever corral dev left: kill it and remove the cgroups.
        let _ = std::fs::write(self.cgroup.join("cgroup.kill"), "1");
        for dir in cgroups_under(&self.cgroup).into_iter().rev() {
            for _ in 0..200 {
                if std::fs::remove_dir(&dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = std::fs::remove_dir_all(&self.data);
        let _ = std::fs::remove_file(&self.stderr);
    }
}

fn read_all(from: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(from).read_to_string(&mut s);
        s
    })
}

/// `dir` and every folder below it, parents first.
fn cgroups_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        if !d.is_dir() {
            continue;
        }
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(e.path());
            }
        }
        out.push(d);
    }
    out
}

/// Pids whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(needle) && pid != std::process::id() {
            found.push((pid, text));
        }
    }
    found
}

/// Polls `f` until it holds, for at most `within`.
fn eventually(within: Duration, f: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !f() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// `child`'s stderr, line by line, on a channel (closed at its end).
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let reader = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Lines from `rx` until one contains `what` (included); panics after
/// [`T`]. An empty `what` reads to the end.
fn until(rx: &mpsc::Receiver<String>, what: &str) -> String {
    let deadline = Instant::now() + T;
    let mut seen = String::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if !what.is_empty() && line.contains(what) {
                    return seen;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) if what.is_empty() => return seen,
            Err(_) => panic!("no '{what}' on corral run's stderr; it said:\n{seen}"),
        }
    }
}

#[test]
fn echo_hi_prints_hi_and_exits_0() {
    let dev = Dev::start("echo");
    let (code, out, err) = dev.run(&["echo", "hi"]);
    assert_eq!((code, out.as_str()), (0, "hi\n"), "stderr:\n{err}");
    assert!(
        err.contains("TASK_RUNNING") && err.contains("TASK_FINISHED"),
        "{err}"
    );
}

#[test]
fn exit_statuses_and_both_streams_come_through() {
    let dev = Dev::start("exit");
    let (code, out, err) = dev.run(&["sh", "-c", "exit 3"]);
    assert_eq!(code, 3, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("Command exited with status 3"), "{err}");
    let (code, out, err) = dev.run(&["echo out; echo err >&2; kill -KILL $$"]);
    assert_eq!((code, out.as_str()), (137, "out\n"), "stderr:\n{err}");
    assert!(err.contains("err\n"), "{err}");
}

#[test]
fn ctrl_c_of_run_kills_the_task() {
    let dev = Dev::start("kill");
    let mut run = dev.spawn_run(&["sleep $((86400 + 2))"]);
    let stderr = stderr_lines(&mut run);
    until(&stderr, "TASK_RUNNING");
    signal(&run, libc::SIGINT);
    let status = wait(&mut run, T).expect("corral run ends after Ctrl-C");
    let tail = until(&stderr, "");
    assert_eq!(status.code(), Some(130), "stderr:\n{tail}");
    assert!(tail.contains("TASK_KILLED"), "{tail}");
    let gone = || processes_with("sleep 86402").is_empty();
    assert!(eventually(Duration::from_secs(5), gone), "the task is gone");
}

#[test]
fn ctrl_c_of_dev_leaves_no_process_and_no_cgroup() {
    let mut dev = Dev::start("stop");
    let mut run = dev.spawn_run(&["sleep $((86400 + 1))"]);
    let stderr = stderr_lines(&mut run);
    until(&stderr, "TASK_RUNNING");
    // The shell computes the number: only the task's own process has it.
    let runs = || processes_with("sleep 86401").len() == 1;
    assert!(eventually(T, runs), "the task runs");
    let status = dev.interrupt();
    assert!(status.success(), "corral dev: {status}\n{}", dev.log());
    assert_eq!(processes_with("sleep 86401"), [], "the task is gone");
    let data = dev.data.display().to_string();
    assert_eq!(processes_with(&data), [], "master and agent are gone");
    assert!(!dev.cgroup.exists(), "{} is removed", dev.cgroup.display());
    // The master is gone: corral run says so and ends.
    let status = wait(&mut run, T).expect("corral run ends with the master");
    assert_eq!(status.code(), Some(125));
}
