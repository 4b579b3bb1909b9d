//! The command-line runtimes (crun, runc, `corral oci`) driven through the
//! same `create`, `start`, `delete` verbs and flags.

use super::inproc::{exited_zero, wait_child};
use super::{Options, Sample, Subject, WORK};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A runc-style command line driven through `create`, `start`, `delete`.
#[derive(Debug)]
pub(crate) struct Cli {
    pub(crate) program: PathBuf,
    /// Arguments before the global flags (`oci` for corral).
    prefix: Vec<String>,
    root: PathBuf,
    /// Where the runtime's (and its containers') stderr goes.
    log: File,
    log_path: PathBuf,
}

pub(crate) fn cli(
    work: &Path,
    s: Subject,
    program: PathBuf,
    prefix: &[&str],
) -> Result<(Subject, Cli), String> {
    let name = s.names().0;
    let log_path = work.join(format!("{name}.log"));
    let log =
        File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let prefix = prefix.iter().map(|s| s.to_string()).collect();
    let root = work.join(format!("root-{name}"));
    Ok((
        s,
        Cli {
            program,
            prefix,
            root,
            log,
            log_path,
        },
    ))
}

pub(crate) fn find_in_path(name: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} is not installed: apt-get install {name}"))
}

pub(crate) fn corral_path(opts: &Options) -> Result<PathBuf, String> {
    fs::canonicalize(&opts.corral).map_err(|e| {
        format!(
            "{}: {e}: build it with `cargo build --release --bin corral`",
            opts.corral.display()
        )
    })
}

pub(crate) fn become_subreaper() -> Result<(), String> {
    // SAFETY: plain prctl with integer arguments.
    let ret = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if ret != 0 {
        return Err(format!(
            "prctl(PR_SET_CHILD_SUBREAPER): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

impl Cli {
    /// `PROGRAM [oci] ARGS`.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.prefix).args(args);
        c
    }

    /// `PROGRAM [oci] --root ROOT ARGS`, stdin and stdout /dev/null, stderr
    /// to the log file (a created init inherits them: never a pipe).
    fn call(&self, args: &[&str]) -> Result<(), String> {
        let log = self
            .log
            .try_clone()
            .map_err(|e| format!("dup of log: {e}"))?;
        let status = self
            .command(&["--root", &self.root.to_string_lossy()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .status()
            .map_err(|e| format!("running {}: {e}", self.program.display()))?;
        if status.success() {
            return Ok(());
        }
        let log = fs::read_to_string(&self.log_path).unwrap_or_default();
        let tail = log.get(log.len().saturating_sub(2000)..).unwrap_or(&log);
        Err(format!(
            "{} {} {args:?} failed ({status}); its stderr:\n{tail}",
            self.program.display(),
            self.prefix.join(" ")
        ))
    }

    /// create (with --pid-file), start, wait for the init, delete.
    pub(crate) fn lifecycle(&self, bundle: &Path, id: &str) -> Result<Sample, String> {
        let pid_file = Path::new(WORK).join("pids").join(id);
        let (b, p) = (bundle.to_string_lossy(), pid_file.to_string_lossy());
        let t0 = Instant::now();
        self.call(&["create", "--bundle", &b, "--pid-file", &p, id])?;
        let pid = read_pid(&pid_file);
        let t1 = Instant::now();
        let pid = pid.inspect_err(|_| self.cleanup(id))?;
        self.call(&["start", id])
            .inspect_err(|_| self.cleanup(id))?;
        let t2 = Instant::now();
        let code = wait_child(pid).inspect_err(|_| self.cleanup(id))?;
        let t3 = Instant::now();
        self.call(&["delete", id])?;
        let t4 = Instant::now();
        let _ = fs::remove_file(&pid_file);
        exited_zero(id, code)?;
        Ok(vec![t1 - t0, t2 - t1, t3 - t2, t4 - t3])
    }

    pub(crate) fn cleanup(&self, id: &str) {
        let _ = self.call(&["delete", "--force", id]);
    }
}

pub(crate) fn read_pid(file: &Path) -> Result<i32, String> {
    let text = fs::read_to_string(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{}: not a pid: {text:?}", file.display()))
}
