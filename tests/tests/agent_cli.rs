//! `corral agent` refuses what it cannot honour, before it touches any
//! cgroup: missing cgroup v2 controllers (with how to get them), the
//! systemd driver on a host without systemd, unknown isolators, malformed
//! flags. Run on the host
//! against a stand-in cgroup mount (a folder with a cgroup.controllers
//! file), so the outcome does not depend on how the host booted.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, controllers: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("corral-agent-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("cgroup")).unwrap();
        std::fs::write(dir.join("cgroup/cgroup.controllers"), controllers).unwrap();
        Scratch(dir)
    }

    fn mount(&self) -> PathBuf {
        self.0.join("cgroup")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the agent with a stand-in cgroup mount; (exit code, stderr).
fn agent(s: &Scratch, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(corral_tests::oci::corral_bin())
        .args([
            "agent",
            "--master",
            "127.0.0.1:1",
            "--port",
            "0",
            "--work-dir",
        ])
        .arg(s.0.join("work"))
        .arg("--cgroup-mount")
        .arg(s.mount())
        .args(["--cgroup-root", "corral"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn nothing_under(mount: &Path) -> bool {
    std::fs::read_dir(mount)
        .unwrap()
        .flatten()
        .all(|e| e.file_name() == "cgroup.controllers")
}

#[test]
fn missing_controllers_are_named_with_how_to_get_them_and_nothing_is_written() {
    let s = Scratch::new("missing", "cpuset hugetlb\n");
    let (code, err) = agent(&s, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("lacks the controllers cpu, io, memory, pids"),
        "{err}"
    );
    assert!(err.contains("systemd.unified_cgroup_hierarchy=1"), "{err}");
    assert!(err.contains("--isolation="), "{err}");
    assert!(
        nothing_under(&s.mount()),
        "the agent wrote under the cgroup mount"
    );
}

#[test]
fn a_mount_that_is_not_cgroup_v2_lacks_every_controller() {
    let s = Scratch::new("v1", "");
    std::fs::remove_file(s.mount().join("cgroup.controllers")).unwrap();
    let (code, err) = agent(&s, &["--isolation", "cgroups/memory"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("lacks the controllers memory"), "{err}");
}

#[test]
fn the_systemd_driver_without_systemd_and_unknown_isolators_are_refused() {
    // The test machines boot without systemd; the VM's systemd mode covers
    // the driver itself (vm_systemd_driver).
    assert!(
        !Path::new("/run/systemd/system").exists(),
        "this test needs a host without systemd as PID 1"
    );
    let s = Scratch::new("refusals", "cpu io memory pids\n");
    let (code, err) = agent(&s, &["--cgroup-driver", "systemd"]);
    assert_eq!(code, Some(1), "{err}");
    for part in [
        "--cgroup-driver=systemd",
        "systemd is not the service manager here",
        "/run/systemd/system",
        "--cgroup-driver=fs",
    ] {
        assert!(err.contains(part), "{part} missing from {err}");
    }
    assert!(nothing_under(&s.mount()), "the agent wrote under the mount");
    let (code, err) = agent(&s, &["--isolation", "cgroups/memory,cgroups/gpu"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("unknown isolator \"cgroups/gpu\""), "{err}");
    assert!(nothing_under(&s.mount()));
}

#[test]
fn isolation_that_needs_no_controllers_starts_and_warns_that_limits_are_not_enforced() {
    let s = Scratch::new("warn", "hugetlb\n");
    let mount = s.mount().display().to_string();
    let agent = corral_tests::master::MasterProcess::start_daemon(
        "agent",
        &corral_tests::oci::corral_bin(),
        &[
            "--master",
            "127.0.0.1:1",
            "--cgroup-mount",
            &mount,
            "--cgroup-root",
            "corral",
            "--isolation",
            "filesystem/linux,namespaces/pid,linux/seccomp",
        ],
    );
    // stderr is drained apart from the listening line on stdout.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut log = agent.stderr_log();
    while !log.contains("NOT enforced") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        log = agent.stderr_log();
    }
    assert!(
        log.contains("WARNING: controllers cpu, io, memory, pids are missing")
            && log.contains("NOT enforced"),
        "{log}"
    );
}
