//! containerd 1.6 (Debian's) driving corral through its runc shim
//! (`io.containerd.runc.v2` with `--runc-binary …/corral-oci`), in the VM:
//! create, start, state, exec, pause, resume, kill and delete as the shim
//! calls runc. Each test runs its own containerd (root, state and socket
//! in a scratch folder) on a busybox image imported from an OCI archive;
//! on drop its tasks and containers are deleted, containerd is stopped and
//! the shims it started are ended.

use corral_tests::oci::{corral_bin, describe as text};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// The shim's runc root for the `default` namespace: corral's state of a
/// task lives there.
const SHIM_ROOT: &str = "/run/containerd/runc/default";

struct Containerd {
    dir: PathBuf,
    daemon: Child,
}

impl Containerd {
    fn start(name: &str) -> Containerd {
        corral_tests::vm::require();
        let dir = PathBuf::from(format!("/run/corral-ctr-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::os::unix::fs::symlink(corral_bin(), dir.join("bin/corral-oci")).unwrap();
        let config = format!(
            "version = 2\nroot = \"{0}/root\"\nstate = \"{0}/state\"\n[grpc]\n  address = \"{0}/containerd.sock\"\n",
            dir.display()
        );
        std::fs::write(dir.join("config.toml"), config).unwrap();
        let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
        let daemon = Command::new("containerd")
            .arg("--config")
            .arg(dir.join("config.toml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("containerd runs (tests/vm/setup installs it)");
        let c = Containerd { dir, daemon };
        let deadline = Instant::now() + Duration::from_secs(60);
        while c.ctr(&["version"]).status.code() != Some(0) {
            assert!(
                Instant::now() < deadline,
                "containerd never answered\n{}",
                c.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        // The image: corral's test busybox layout, as an OCI archive.
        corral_tests::image::busybox(&c.dir);
        let archive = c.dir.join("busybox.tar");
        let out = Command::new("tar")
            .arg("-C")
            .arg(c.dir.join("busybox"))
            .arg("-cf")
            .arg(&archive)
            .arg(".")
            .output()
            .unwrap();
        assert!(out.status.success(), "tar: {out:?}");
        let out = c.ctr(&[
            "images",
            "import",
            "--base-name",
            "localhost/busybox",
            archive.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "ctr import: {}", text(&out));
        c
    }

    fn ctr(&self, args: &[&str]) -> Output {
        let sock = self.dir.join("containerd.sock");
        Command::new("ctr")
            .arg("--address")
            .arg(&sock)
            .args(args)
            .output()
            .expect("ctr runs")
    }

    /// `ctr run` with corral as the runc binary: `flags` before the image,
    /// then the image, the container id and its argv.
    fn run(&self, flags: &[&str], id: &str, argv: &[&str]) -> Output {
        let runc = self.dir.join("bin/corral-oci").display().to_string();
        let mut args = vec!["run", "--runc-binary", &runc];
        args.extend_from_slice(flags);
        args.extend(["localhost/busybox:latest", id]);
        args.extend_from_slice(argv);
        self.ctr(&args)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
    }

    /// The PID and status of task `id` from `ctr task ls`.
    fn task(&self, id: &str) -> Option<(String, String)> {
        let out = self.ctr(&["task", "ls"]);
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&id)).then(|| (f[1].to_string(), f[2].to_string()))
        })
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let out = self.ctr(&["task", "ls", "-q"]);
        for id in String::from_utf8_lossy(&out.stdout).lines() {
            let _ = self.ctr(&["task", "kill", "-s", "KILL", id]);
            let _ = self.ctr(&["task", "delete", "--force", id]);
        }
        let out = self.ctr(&["containers", "ls", "-q"]);
        for id in String::from_utf8_lossy(&out.stdout).lines() {
            let _ = self.ctr(&["containers", "delete", id]);
        }
        // SAFETY: kill(2) of our own child's pid.
        unsafe { libc::kill(self.daemon.id() as i32, libc::SIGTERM) };
        let _ = self.daemon.wait();
        // The shims this containerd started (they outlive it by design).
        let address = self.dir.join("containerd.sock").display().to_string();
        for pid in pids_with_arg(&address) {
            // SAFETY: kill(2) of a shim of this test's containerd.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = Command::new("rm").arg("-rf").arg(&self.dir).status();
    }
}

/// Processes whose command line has `arg`.
fn pids_with_arg(arg: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|a| a == arg.as_bytes()) {
            out.push(pid);
        }
    }
    out
}

fn wait_gone(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!path.exists(), "{} is left", path.display());
}

#[test]
fn containerd_runs_a_task_through_corral_and_gets_its_output_and_exit_status() {
    let c = Containerd::start("run");
    let out = c.run(
        &["--rm"],
        "t1",
        &["/bin/sh", "-c", "echo hi from containerd; exit 4"],
    );
    assert_eq!(out.status.code(), Some(4), "{}\n{}", text(&out), c.log());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi from containerd\n");
    wait_gone(&Path::new(SHIM_ROOT).join("t1"));
}

#[test]
fn containerd_execs_pauses_resumes_kills_and_deletes_a_task_with_its_limits() {
    let c = Containerd::start("detached");
    let flags = ["-d", "--memory-limit", "67108864"];
    let out = c.run(&flags, "t2", &["/bin/sleep", "600"]);
    assert!(out.status.success(), "{}\n{}", text(&out), c.log());
    let state = Path::new(SHIM_ROOT).join("t2").join("state.json");
    assert!(
        state.exists(),
        "corral holds the task's state: {}",
        state.display()
    );
    let (pid, status) = c.task("t2").expect("t2 is listed");
    assert_eq!(status, "RUNNING");
    let cgroup = corral_tests::cgroup::of_pid(&pid).expect("the task's cgroup");
    let max = std::fs::read_to_string(cgroup.join("memory.max")).unwrap();
    assert_eq!(max.trim(), "67108864", "{}", cgroup.display());
    let out = c.ctr(&[
        "task",
        "exec",
        "--exec-id",
        "e1",
        "t2",
        "/bin/sh",
        "-c",
        "echo exec-ok",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "exec-ok\n");
    let out = c.ctr(&["task", "pause", "t2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(c.task("t2").unwrap().1, "PAUSED");
    let frozen = std::fs::read_to_string(cgroup.join("cgroup.freeze")).unwrap();
    assert_eq!(frozen.trim(), "1");
    let out = c.ctr(&["task", "resume", "t2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(c.task("t2").unwrap().1, "RUNNING");
    let out = c.ctr(&["task", "kill", "-s", "KILL", "t2"]);
    assert!(out.status.success(), "{}", text(&out));
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.task("t2").is_some_and(|t| t.1 != "STOPPED") {
        assert!(Instant::now() < deadline, "t2 never stopped");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = c.ctr(&["task", "delete", "t2"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = c.ctr(&["containers", "delete", "t2"]);
    assert!(out.status.success(), "{}", text(&out));
    wait_gone(&cgroup);
    wait_gone(&Path::new(SHIM_ROOT).join("t2"));
    let log = c.log();
    assert!(
        !log.contains("failed to remove runc container"),
        "the shim's delete --force of a deleted container succeeds:\n{log}"
    );
}
