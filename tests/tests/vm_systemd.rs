//! The master and the agent as systemd services, in the VM booted with
//! systemd as PID 1: the units `corral install-units` writes start, and
//! report active only once READY (the agent: only once the master accepted
//! it); STATUS= lines and the journal carry their state; a task started
//! with `corral run` keeps running through `systemctl restart corral-agent`
//! and finishes; a hung agent (SIGSTOP) is killed by the watchdog and
//! restarted. One test: the units are machine-wide.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: the VM is emulated.
const T: Duration = Duration::from_secs(180);
const MASTER_PORT: &str = "15050";
const CGROUP_ROOT: &str = "corral-systemd-test";

fn systemctl(args: &[&str]) -> (bool, String) {
    let out = Command::new("systemctl").args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn show(unit: &str, prop: &str) -> String {
    let (_, text) = systemctl(&["show", "-P", prop, unit]);
    text.trim().to_string()
}

fn journal(unit: &str) -> String {
    let out = Command::new("journalctl")
        .args(["--no-pager", "-o", "cat", "-u", unit])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn until(what: &str, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !pred() {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {T:?}\nagent:\n{}\nmaster:\n{}",
            journal("corral-agent"),
            journal("corral-master")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Stops both units and removes every task and cgroup they left, even when
/// the test fails.
struct Units;

impl Drop for Units {
    fn drop(&mut self) {
        let _ = systemctl(&["stop", "corral-agent", "corral-master"]);
        let root = Path::new("/sys/fs/cgroup").join(CGROUP_ROOT);
        if root.exists() {
            let _ = std::fs::write(root.join("cgroup.kill"), "1");
            corral_tests::cgroup::remove_tree(&root);
        }
    }
}

#[test]
fn the_units_start_report_ready_survive_restarts_and_the_watchdog() {
    corral_tests::vm::require_systemd();
    let corral = corral_tests::oci::corral_bin();
    let units = Units;
    let out = Command::new(&corral)
        .args(["install-units", "--bin"])
        .arg(&corral)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::write(
        "/etc/default/corral-master",
        format!(
            "CORRAL_MASTER_ARGS=\"--ip 127.0.0.1 --port {MASTER_PORT} --allocation-interval 200ms\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        "/etc/default/corral-agent",
        format!(
            "CORRAL_MASTER=127.0.0.1:{MASTER_PORT}\n\
             CORRAL_AGENT_ARGS=\"--ip 127.0.0.1 --port 15051 --cgroup-root {CGROUP_ROOT} \
             --resources cpus:2;mem:512;disk:1024\"\n"
        ),
    )
    .unwrap();
    // The watchdog, quicker than shipped, for the hang below.
    let dropin = Path::new("/etc/systemd/system/corral-agent.service.d");
    std::fs::create_dir_all(dropin).unwrap();
    std::fs::write(
        dropin.join("test.conf"),
        "[Service]\nWatchdogSec=6s\nTimeoutAbortSec=2s\n",
    )
    .unwrap();
    assert!(systemctl(&["daemon-reload"]).0);

    // The agent first, with no master: it runs but is not READY, so the
    // unit stays "activating".
    let (ok, text) = systemctl(&["start", "--no-block", "corral-agent"]);
    assert!(ok, "{text}");
    until("the agent runs", || show("corral-agent", "MainPID") != "0");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(show("corral-agent", "ActiveState"), "activating");
    // `systemctl start` of the master returns once it is READY.
    let (ok, text) = systemctl(&["start", "corral-master"]);
    assert!(ok, "{text}\n{}", journal("corral-master"));
    assert_eq!(show("corral-master", "ActiveState"), "active");
    assert!(
        show("corral-master", "StatusText").starts_with("serving on 127.0.0.1:"),
        "{}",
        show("corral-master", "StatusText")
    );
    until("the agent is READY once the master accepted it", || {
        show("corral-agent", "ActiveState") == "active"
    });
    let status = show("corral-agent", "StatusText");
    assert!(status.starts_with("registered as "), "{status}");
    // Its output is in the journal.
    assert!(journal("corral-agent").contains("corral agent listening on"));
    // The agent kept the cgroup systemd gave it; its tasks go elsewhere.
    let agent_pid = show("corral-agent", "MainPID");
    let cgroup = std::fs::read_to_string(format!("/proc/{agent_pid}/cgroup")).unwrap();
    assert_eq!(cgroup.trim(), "0::/system.slice/corral-agent.service");

    // A task through `corral run`, across a restart of the agent.
    let run = Command::new(&corral)
        .args(["run", "--master", &format!("127.0.0.1:{MASTER_PORT}"), "--"])
        .args(["sh", "-c", "sleep 25; echo survived"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let tasks = Path::new("/sys/fs/cgroup")
        .join(CGROUP_ROOT)
        .join("containers");
    until("the task runs", || {
        std::fs::read_dir(&tasks).is_ok_and(|d| d.count() > 0)
    });
    let (ok, text) = systemctl(&["restart", "corral-agent"]);
    assert!(ok, "{text}\n{}", journal("corral-agent"));
    assert_ne!(show("corral-agent", "MainPID"), agent_pid);
    assert_eq!(show("corral-agent", "ActiveState"), "active");
    let out = run.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        journal("corral-agent")
    );
    assert!(stdout.contains("survived"), "{stdout}");

    // A hung agent: no WATCHDOG=1, so systemd kills and restarts it.
    let hung = show("corral-agent", "MainPID");
    let restarts: u32 = show("corral-agent", "NRestarts").parse().unwrap();
    // SAFETY: kill(2) with a valid signal; the pid is the agent's.
    let r = unsafe { libc::kill(hung.parse().unwrap(), libc::SIGSTOP) };
    assert_eq!(r, 0);
    until("the watchdog restarts the agent", || {
        let pid = show("corral-agent", "MainPID");
        pid != hung && pid != "0" && show("corral-agent", "ActiveState") == "active"
    });
    let now: u32 = show("corral-agent", "NRestarts").parse().unwrap();
    assert!(now > restarts, "NRestarts {restarts} -> {now}");
    assert!(
        !Path::new(&format!("/proc/{hung}")).exists(),
        "the hung agent is gone"
    );
    // systemd's own account of it, in the journal.
    assert!(
        journal("corral-agent").contains("Watchdog timeout"),
        "{}",
        journal("corral-agent")
    );
    drop(units);
}
