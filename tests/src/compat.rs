//! The pymesos compatibility check from Rust: where `tests/compat/setup`
//! put the venv, and running `tests/compat/pymesos_launch.py` (one `echo hi`
//! task through the unmodified third-party client) against a master with a
//! hard deadline, its output parsed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where `tests/compat/setup` caches the venv: `$CORRAL_COMPAT_CACHE`,
/// default `/var/cache/corral-compat`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("CORRAL_COMPAT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/corral-compat"))
}

/// A file of `tests/compat/`.
pub fn compat_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("compat")
        .join(name)
}

/// The venv's python under `cache`, if setup completed there.
pub fn python_in(cache: &Path) -> Result<PathBuf, String> {
    let venv = cache.join("pymesos-venv");
    let python = venv.join("bin/python");
    if python.exists() && venv.join(".corral-pins").exists() {
        Ok(python)
    } else {
        Err(format!(
            "no pymesos venv at {}: run tests/compat/setup (as root, or with \
             CORRAL_COMPAT_CACHE set to a writable folder)",
            venv.display()
        ))
    }
}

/// The python of the pymesos venv; panics saying to run
/// `tests/compat/setup` when it is missing.
pub fn pymesos_python() -> PathBuf {
    python_in(&cache_dir()).unwrap_or_else(|e| panic!("{e}"))
}

/// The shell command that runs `tests/compat/pymesos_executor.py` (a
/// pymesos executor) with the venv's python, for an `ExecutorInfo`.
///
/// The script runs from a copy beside the venv: executors see the host's
/// folders but get their own /tmp, and the repository may live under /tmp
/// (a clean clone in CI does). Copied once per test process.
pub fn pymesos_executor_command() -> String {
    static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let script = COPY.get_or_init(|| {
        let src = compat_file("pymesos_executor.py");
        let dest = cache_dir().join(format!("pymesos_executor-{}.py", std::process::id()));
        let tmp = dest.with_extension("py.tmp");
        std::fs::copy(&src, &tmp)
            .unwrap_or_else(|e| panic!("copying {} to {}: {e}", src.display(), tmp.display()));
        std::fs::rename(&tmp, &dest).unwrap();
        dest
    });
    format!("exec {} {}", pymesos_python().display(), script.display())
}

/// What one run of `pymesos_launch.py` did.
#[derive(Debug, Clone)]
pub struct PymesosRun {
    /// Exit code (0 finished, 1 failed or ERROR, 2 timeout, 3 driver died);
    /// `None` when it was killed at the hard deadline.
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr (pymesos' own log lines, update reasons).
    pub stderr: String,
}

impl PymesosRun {
    /// `(task_id, state)` of every `STATUS` line, in order.
    pub fn statuses(&self) -> Vec<(String, String)> {
        parse_statuses(&self.stdout)
    }

    /// The framework id of the `SUBSCRIBED` line.
    pub fn framework_id(&self) -> Option<String> {
        let line = self.stdout.lines().find(|l| l.starts_with("SUBSCRIBED "))?;
        Some(line["SUBSCRIBED ".len()..].trim().to_owned())
    }
}

impl std::fmt::Display for PymesosRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `(task_id, state)` of every `STATUS <task_id> <state>` line.
pub fn parse_statuses(stdout: &str) -> Vec<(String, String)> {
    let statuses = stdout.lines().filter_map(|l| l.strip_prefix("STATUS "));
    let pairs = statuses.filter_map(|rest| rest.split_once(' '));
    pairs
        .map(|(task, state)| (task.to_owned(), state.trim().to_owned()))
        .collect()
}

/// Runs `pymesos_launch.py HOST:PORT TIMEOUT` with the venv's python. The
/// script gives up after `timeout` itself; the process is killed (by pid)
/// 30 s after that if it is still there.
pub fn run_pymesos_launch(master_host_port: &str, timeout: Duration) -> PymesosRun {
    let script = compat_file("pymesos_launch.py");
    run_script(
        &pymesos_python(),
        &script,
        master_host_port,
        timeout,
        Duration::from_secs(30),
    )
}

/// Runs `python script master timeout`, killed `grace` after `timeout`.
fn run_script(
    python: &Path,
    script: &Path,
    master: &str,
    timeout: Duration,
    grace: Duration,
) -> PymesosRun {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("corral-pymesos-{}-{n}", std::process::id()));
    let (out_path, err_path) = (base.with_extension("out"), base.with_extension("err"));
    let mut child = Command::new(python)
        .arg(script)
        .arg(master)
        .arg(timeout.as_secs_f64().to_string())
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let deadline = Instant::now() + timeout + grace;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    let run = PymesosRun {
        code,
        stdout: read(&out_path),
        stderr: read(&err_path),
    };
    let _ = std::fs::remove_file(out_path);
    let _ = std::fs::remove_file(err_path);
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_parsed() {
        let out = "SUBSCRIBED fw-1\nLAUNCHED t on h\nSTATUS t TASK_STARTING\n\
                   STATUS t TASK_FINISHED\nnoise\n";
        let run = PymesosRun {
            code: Some(0),
            stdout: out.into(),
            stderr: String::new(),
        };
        let expected = [("t", "TASK_STARTING"), ("t", "TASK_FINISHED")];
        let expected: Vec<_> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(run.statuses(), expected);
        assert_eq!(run.framework_id().as_deref(), Some("fw-1"));
    }

    #[test]
    fn a_missing_venv_says_to_run_setup() {
        let err = python_in(Path::new("/nonexistent/corral-compat")).unwrap_err();
        assert!(err.contains("run tests/compat/setup"), "{err}");
    }

    #[test]
    fn the_script_is_run_with_its_arguments_and_a_hard_deadline() {
        // /bin/sh stands in for python: the "script" echoes its arguments.
        let dir = std::env::temp_dir().join(format!("corral-compat-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("echo.sh");
        std::fs::write(&script, "echo \"STATUS $1 $2\"; echo oops >&2; exit 1\n").unwrap();
        let sh = Path::new("/bin/sh");
        let run = run_script(
            sh,
            &script,
            "127.0.0.1:9",
            Duration::from_secs(5),
            Duration::ZERO,
        );
        assert_eq!(run.code, Some(1), "{run}");
        assert_eq!(run.statuses(), [("127.0.0.1:9".to_owned(), "5".to_owned())]);
        assert_eq!(run.stderr, "oops\n");
        std::fs::write(&script, "exec sleep 60\n").unwrap();
        let start = Instant::now();
        let run = run_script(sh, &script, "x", Duration::ZERO, Duration::from_millis(300));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(run.code, None);
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
