//! podman 4 (Debian's, with conmon) driving corral as its OCI runtime
//! (`podman --runtime …/corral-oci`), in the VM: create, start, state,
//! kill, delete, exec, pause and resume through conmon, as podman calls
//! runc. Each test has its own podman root, run root and image (a busybox
//! root imported as a tarball; vfs storage works on the VM's overlay root),
//! all removed on drop with every container left in them.

use corral_tests::oci::{corral_bin, describe as text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One podman setup: its folders under the VM's /run, `corral-oci` linked
/// there, a busybox image `localhost/bb:1`.
struct Podman {
    dir: PathBuf,
}

impl Podman {
    fn new(name: &str) -> Podman {
        corral_tests::vm::require();
        let dir = PathBuf::from(format!("/run/corral-podman-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["bin", "tmp", "image/bin"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::os::unix::fs::symlink(corral_bin(), dir.join("bin/corral-oci")).unwrap();
        std::fs::copy("/bin/busybox", dir.join("image/bin/busybox")).unwrap();
        for cmd in ["sh", "echo", "cat", "sleep", "id", "hostname", "ls"] {
            std::os::unix::fs::symlink("busybox", dir.join("image/bin").join(cmd)).unwrap();
        }
        let p = Podman { dir };
        let tar = p.dir.join("image.tar");
        let out = Command::new("tar")
            .arg("-C")
            .arg(p.dir.join("image"))
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .output()
            .unwrap();
        assert!(out.status.success(), "tar: {out:?}");
        let out = p.podman(&["import", tar.to_str().unwrap(), "localhost/bb:1"]);
        assert!(out.status.success(), "podman import: {}", text(&out));
        p
    }

    fn podman(&self, args: &[&str]) -> Output {
        let d = |s: &str| self.dir.join(s).display().to_string();
        Command::new("podman")
            .env("TMPDIR", d("tmp"))
            .args(["--root", &d("storage"), "--runroot", &d("run")])
            .args(["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"])
            .args([
                "--events-backend",
                "file",
                "--runtime",
                &d("bin/corral-oci"),
            ])
            .args(args)
            .output()
            .expect("podman runs (tests/vm/setup installs it)")
    }

    /// `podman run --rm --network none localhost/bb:1 ARGV` with `extra`
    /// flags before the image; its output and the container's id.
    fn run_argv(&self, extra: &[&str], argv: &[&str]) -> (Output, String) {
        let n = CIDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cidfile = self.dir.join(format!("cid-{n}"));
        let cid_arg = cidfile.display().to_string();
        let mut args = vec!["run", "--rm", "--network", "none", "--cidfile", &cid_arg];
        args.extend_from_slice(extra);
        args.push("localhost/bb:1");
        args.extend_from_slice(argv);
        let out = self.podman(&args);
        let id = std::fs::read_to_string(&cidfile).unwrap_or_default();
        (out, id.trim().to_string())
    }

    fn run(&self, extra: &[&str], script: &str) -> (Output, String) {
        self.run_argv(extra, &["/bin/sh", "-c", script])
    }
}

static CIDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// podman gives corral no `--root` of its own: the default state root.
const CORRAL_ROOT: &str = "/run/corral-oci";

/// Asserts that corral's state of container `id` is gone (podman's
/// cleanup runs from conmon once the container exits: allow it a while).
fn assert_no_state(id: &str) {
    assert!(!id.is_empty(), "podman wrote no container id");
    let dir = Path::new(CORRAL_ROOT).join(id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while dir.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        !dir.exists(),
        "corral's state of {id} is left: {}",
        dir.display()
    );
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.podman(&["rm", "--force", "--all", "--time", "0"]);
        let _ = self.podman(&["rmi", "--all", "--force"]);
        // vfs layers may hold read-only folders.
        let _ = Command::new("rm").arg("-rf").arg(&self.dir).status();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn podman_runs_a_container_with_its_limits_and_its_exit_status() {
    let p = Podman::new("run");
    let (out, id) = p.run(&[], "echo hi from podman; id -u; hostname");
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines[0], "hi from podman", "{}", text(&out));
    assert_eq!(lines[1], "0");
    assert_no_state(&id);
    let (out, id) = p.run(
        &["--memory", "64m", "--pids-limit", "50", "--cpus", "0.5"],
        "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max; exit 3",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let limits: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(limits[0], "67108864", "{}", text(&out));
    assert_eq!(limits[1], "50");
    assert_eq!(limits[2], "50000 100000");
    assert_no_state(&id);
}

#[test]
fn podman_execs_pauses_resumes_stops_and_removes_a_detached_container() {
    let p = Podman::new("detached");
    let detached = [
        "run",
        "-d",
        "--name",
        "long",
        "--network",
        "none",
        "localhost/bb:1",
        "/bin/sleep",
        "600",
    ];
    let out = p.podman(&detached);
    assert!(out.status.success(), "{}", text(&out));
    let long = stdout(&out).trim().to_string();
    let state = Path::new(CORRAL_ROOT).join(&long).join("state.json");
    assert!(
        state.exists(),
        "corral holds its state: {}",
        state.display()
    );
    let out = p.podman(&[
        "exec",
        "long",
        "/bin/sh",
        "-c",
        "echo exec-ok; cat /proc/1/comm",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stdout(&out), "exec-ok\nsleep\n", "{}", text(&out));
    let out = p.podman(&["inspect", "--format", "{{.State.Pid}}", "long"]);
    let pid = stdout(&out).trim().to_string();
    let cgroup =
        corral_tests::cgroup::of_pid(&pid).unwrap_or_else(|| panic!("no cgroup for pid {pid:?}"));
    assert!(cgroup.join("cgroup.procs").exists(), "{}", cgroup.display());
    let out = p.podman(&["pause", "long"]);
    assert!(out.status.success(), "{}", text(&out));
    let frozen = std::fs::read_to_string(cgroup.join("cgroup.freeze")).unwrap();
    assert_eq!(frozen.trim(), "1", "paused through the freezer");
    let out = p.podman(&["inspect", "--format", "{{.State.Status}}", "long"]);
    assert_eq!(stdout(&out).trim(), "paused", "{}", text(&out));
    let out = p.podman(&["unpause", "long"]);
    assert!(out.status.success(), "{}", text(&out));
    let frozen = std::fs::read_to_string(cgroup.join("cgroup.freeze")).unwrap();
    assert_eq!(frozen.trim(), "0");
    // sleep as PID 1 has no SIGTERM handler: podman kills it after 1 s.
    let out = p.podman(&["stop", "--time", "1", "long"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = p.podman(&["inspect", "--format", "{{.State.Status}}", "long"]);
    assert_eq!(stdout(&out).trim(), "exited", "{}", text(&out));
    let out = p.podman(&["rm", "long"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!cgroup.exists(), "{} is removed", cgroup.display());
    assert_no_state(&long);
}

#[test]
fn a_container_podman_cannot_start_reports_corral_s_error_and_leaves_nothing() {
    let p = Podman::new("bad");
    let (out, id) = p.run(&[], "exec /no/such/program");
    assert_eq!(out.status.code(), Some(127), "{}", text(&out));
    assert_no_state(&id);
    let (out, id) = p.run_argv(&[], &["/no/such/program"]);
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("executing the process \"/no/such/program\""),
        "{}",
        text(&out)
    );
    assert_no_state(&id);
}
