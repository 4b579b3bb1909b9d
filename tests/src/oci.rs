//! Driving the `corral oci` command line from tests, each test with its own
//! state root; on drop every container left in it is force-deleted and the
//! root removed, even when the test panicked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

static CALLS: AtomicU64 = AtomicU64::new(0);

/// The `corral` binary built next to the test executables (tests/run builds
/// it first).
pub fn corral_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("corral");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build --bins`; tests/run does)",
        bin.display()
    );
    bin
}

/// A state root for one test.
#[derive(Debug)]
pub struct Oci {
    root: PathBuf,
}

impl Oci {
    /// A fresh state root named after the test.
    pub fn new(name: &str) -> Oci {
        let root = std::env::temp_dir().join(format!("corral-oci-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        Oci { root }
    }

    /// The state root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A command `corral oci --root ROOT ARGS`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(corral_bin());
        c.arg("oci").arg("--root").arg(&self.root).args(args);
        c.stdin(Stdio::null());
        c
    }

    /// Runs `corral oci ARGS` and returns its output. Output goes through
    /// files, not pipes: a created container inherits the runtime's stdio
    /// and would hold a pipe open for its whole life.
    pub fn run(&self, args: &[&str]) -> Output {
        std::fs::create_dir_all(&self.root).unwrap();
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        let out_path = self.root.join(format!(".out-{n}"));
        let err_path = self.root.join(format!(".err-{n}"));
        let status = self
            .cmd(args)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .status()
            .expect("running corral oci");
        let output = Output {
            status,
            stdout: std::fs::read(&out_path).unwrap_or_default(),
            stderr: std::fs::read(&err_path).unwrap_or_default(),
        };
        let _ = std::fs::remove_file(out_path);
        let _ = std::fs::remove_file(err_path);
        output
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "corral oci {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The init's pid of `state ID`.
    pub fn pid(&self, id: &str) -> i32 {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["state", id])).unwrap();
        v["pid"].as_i64().unwrap() as i32
    }

    /// Waits (up to a minute) until the status of `id` is `want`.
    pub fn wait_status(&self, id: &str, want: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.status(id) != want {
            assert!(
                std::time::Instant::now() < deadline,
                "{id} never became {want}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The status field of `state ID`.
    pub fn status(&self, id: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["state", id])).unwrap();
        v["status"].as_str().unwrap().to_string()
    }
}

impl Drop for Oci {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for e in entries.flatten() {
                let id = e.file_name().to_string_lossy().into_owned();
                if id.starts_with('.') {
                    continue;
                }
                let _ = self.run(&["delete", "--force", &id]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A finished command's status, stdout and stderr, for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
