//! Host tests of `tests/vm/run` itself: the command runs as root in the VM in
//! the caller's directory, its exit status comes back, guest writes stay in
//! the guest except in the shared folder, and a hang ends in a timeout.

use std::path::PathBuf;
use std::process::Command;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vm/run")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("corral-platform-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn runs_the_command_as_root_and_returns_its_status() {
    let share = scratch("share");
    let mark = scratch("mark").join("guest-wrote-this");
    let inner = format!(
        "cat /sys/fs/cgroup/cgroup.controllers; id -u; pwd; \
         unshare --user --map-root-user true && echo userns-ok; \
         touch {mark}; echo from-guest > {share}/out; exit 7",
        mark = mark.display(),
        share = share.display()
    );
    let out = Command::new(script())
        .args(["--share", share.to_str().unwrap(), "--", "sh", "-c", &inner])
        .current_dir(&share)
        .output()
        .expect("running tests/vm/run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    for c in ["cpu", "io", "memory", "pids"] {
        assert!(
            lines[0].split_whitespace().any(|x| x == c),
            "{c} not in {stdout}"
        );
    }
    assert_eq!(lines[1], "0", "{stdout}");
    assert_eq!(lines[2], share.to_str().unwrap(), "{stdout}");
    assert!(stdout.contains("userns-ok"), "{stdout}");
    assert!(
        !mark.exists(),
        "a guest write reached the host at {}",
        mark.display()
    );
    let shared = std::fs::read_to_string(share.join("out")).expect("shared folder not written");
    assert_eq!(shared, "from-guest\n");
    let _ = std::fs::remove_dir_all(&share);
    let _ = std::fs::remove_dir_all(mark.parent().unwrap());
}

#[test]
fn a_hang_past_the_timeout_fails_with_a_message() {
    let out = Command::new(script())
        .args(["--timeout", "4", "--", "sleep", "1000"])
        .output()
        .expect("running tests/vm/run");
    assert_eq!(out.status.code(), Some(124), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("timed out after 4s"), "{stderr}");
}

#[test]
fn bad_arguments_are_refused() {
    let out = Command::new(script())
        .args(["--mem", "lots", "--", "true"])
        .output()
        .expect("running tests/vm/run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a number: lots"));
}
