//! Process setup the runtime spec defines beyond the basics, through
//! `corral oci run` of a busybox bundle: a seccomp agent answering the
//! container's notified syscalls (SCMP_ACT_NOTIFY with listenerPath), the
//! scheduler and I/O priority, a time namespace with its offsets; and what
//! cannot be done failing create with the field named and nothing left
//! behind. Runs inside the VM only.

use corral_tests::bundle::TestBundle;
use corral_tests::oci::Oci;
use corral_tests::vm;
use oci_spec::runtime::ContainerProcessState;
use serde_json::json;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

/// Runs the bundle as container `id`; returns (exit code, stdout, stderr).
fn run(oci: &Oci, b: &TestBundle, id: &str) -> (i32, String, String) {
    let out = oci.run(&["run", "--bundle", b.dir().to_str().unwrap(), id]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that a failed create of `id` left no state and no cgroup.
fn nothing_left(oci: &Oci, id: &str) {
    assert!(!oci.root().join(id).exists(), "state of {id} left behind");
    let cgroup = Path::new("/sys/fs/cgroup/corral-oci").join(id);
    assert!(!cgroup.exists(), "cgroup {} left behind", cgroup.display());
}

/// What the test's seccomp agent saw.
struct Seen {
    state: ContainerProcessState,
    /// (syscall number, parent pid of the calling process) per notification.
    calls: Vec<(i32, i32)>,
}

/// A seccomp agent: takes one connection on `sock`, the listener fd and
/// the container process state, then answers `answers.len()` notified
/// syscalls in turn: `Err(errno)` fails the call, `Ok(v)` makes it return v
/// without running it.
fn agent(sock: UnixListener, answers: Vec<Result<i64, i32>>) -> std::thread::JoinHandle<Seen> {
    std::thread::spawn(move || {
        let (conn, _) = sock.accept().expect("accepting the runtime");
        let mut buf = [0u8; 8192];
        let (n, fd) = corral_oci::seccomp::recv_fd(conn.as_fd(), &mut buf).expect("listener fd");
        let state: ContainerProcessState =
            serde_json::from_slice(&buf[..n]).expect("container process state");
        let calls = answers.into_iter().map(|a| answer(&fd, a)).collect();
        Seen { state, calls }
    })
}

fn answer(fd: &OwnedFd, with: Result<i64, i32>) -> (i32, i32) {
    // SAFETY: seccomp_notif is plain data and must be zeroed for RECV.
    let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: fd is a seccomp listener, notif a valid out-struct.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) };
    assert_eq!(r, 0, "NOTIF_RECV: {}", std::io::Error::last_os_error());
    let ppid = std::fs::read_to_string(format!("/proc/{}/status", notif.pid))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PPid:").map(|v| v.trim().parse().unwrap()))
        })
        .unwrap_or(-1);
    let (val, error) = match with {
        Ok(v) => (v, 0),
        Err(e) => (0, -e),
    };
    let mut resp = libc::seccomp_notif_resp {
        id: notif.id,
        val,
        error,
        flags: 0,
    };
    // SAFETY: fd is a seccomp listener, resp a valid in-struct.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
    assert_eq!(r, 0, "NOTIF_SEND: {}", std::io::Error::last_os_error());
    (notif.data.nr, ppid)
}

fn agent_socket(name: &str) -> (PathBuf, UnixListener) {
    let path =
        std::env::temp_dir().join(format!("corral-agent-{name}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let l = UnixListener::bind(&path).unwrap();
    (path, l)
}

fn notify_profile(sock: &Path) -> serde_json::Value {
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": sock,
        "listenerMetadata": "tenant=a",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]
    })
}

#[test]
fn a_seccomp_agent_answers_the_containers_notified_syscalls() {
    vm::require();
    let oci = Oci::new("notify");
    let (sock, listener) = agent_socket("notify");
    // The first mkdir fails with EXDEV, the second "succeeds" without
    // making anything: both answers come from the agent, not the kernel.
    let seen = agent(listener, vec![Err(libc::EXDEV), Ok(0)]);
    let mut b = TestBundle::busybox(
        "notify",
        &[
            "sh",
            "-c",
            "mkdir /a; echo a=$?; mkdir /b && echo b=ok; test -d /b || echo no-b; echo pid=$$",
        ],
    );
    b.edit(|s| s["linux"]["seccomp"] = notify_profile(&sock));
    let (code, out, err) = run(&oci, &b, "n1");
    // Checked before joining: had the runtime not connected, the agent
    // would wait forever.
    assert_eq!(code, 0, "{err}");
    let seen = seen.join().expect("the agent");
    assert!(err.contains("Invalid cross-device link"), "{err}");
    assert_eq!(out, "a=1\nb=ok\nno-b\npid=1\n");
    let st = &seen.state;
    assert_eq!(st.fds(), &vec!["seccompFd".to_string()]);
    assert_eq!(st.metadata().as_deref(), Some("tenant=a"));
    assert_eq!(st.state().id(), "n1");
    assert_eq!(
        serde_json::to_value(st.state().status()).unwrap(),
        "creating"
    );
    assert_eq!(*st.state().pid(), Some(*st.pid()));
    let mkdirs = [libc::SYS_mkdir as i32, libc::SYS_mkdirat as i32];
    for (nr, ppid) in &seen.calls {
        assert!(mkdirs.contains(nr), "notified syscall {nr}");
        // Each mkdir ran in a child of the container's init (the shell).
        assert_eq!(*ppid, *st.pid(), "{:?}", seen.calls);
    }
    let _ = std::fs::remove_file(sock);
}

#[test]
fn a_missing_seccomp_agent_fails_create_and_leaves_nothing() {
    vm::require();
    let oci = Oci::new("noagent");
    let sock = std::env::temp_dir().join("corral-no-such-agent.sock");
    let mut b = TestBundle::busybox("noagent", &["true"]);
    b.edit(|s| s["linux"]["seccomp"] = notify_profile(&sock));
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "n2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("linux.seccomp.listenerPath"), "{err}");
    assert!(err.contains("corral-no-such-agent.sock"), "{err}");
    nothing_left(&oci, "n2");
}
