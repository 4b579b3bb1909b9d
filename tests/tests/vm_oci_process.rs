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

/// (nice, rt_priority, policy) from a /proc/PID/stat line.
fn sched_fields(stat: &str) -> (i64, i64, i64) {
    // Fields after the command's closing parenthesis start at field 3.
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let field = |n: usize| rest[n - 3].parse::<i64>().unwrap();
    (field(19), field(40), field(41))
}

#[test]
fn scheduler_and_io_priority_are_the_specs() {
    vm::require();
    let oci = Oci::new("sched");
    let mut b = TestBundle::busybox("sched", &["sh", "-c", "cat /proc/self/stat; ionice"]);
    b.edit(|s| {
        s["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 7});
        s["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 6});
    });
    let (code, out, err) = run(&oci, &b, "s1");
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    // SCHED_BATCH is policy 3.
    assert_eq!(sched_fields(lines.next().unwrap()), (7, 0, 3), "{out}");
    assert_eq!(lines.next(), Some("best-effort: prio 6"), "{out}");

    b.edit(|s| {
        s["process"]["scheduler"] = json!({"policy": "SCHED_FIFO", "priority": 10});
        s["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE"});
    });
    let (code, out, err) = run(&oci, &b, "s2");
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    // SCHED_FIFO is policy 1; real-time tasks show nice 0.
    assert_eq!(sched_fields(lines.next().unwrap()), (0, 10, 1), "{out}");
    // busybox's ionice prints no level for the idle class.
    assert_eq!(lines.next(), Some("idle"), "{out}");
}

#[test]
fn a_deadline_task_runs_under_sched_deadline() {
    vm::require();
    let oci = Oci::new("deadline");
    // A deadline task cannot fork: the init is cat itself.
    let mut b = TestBundle::busybox("deadline", &["cat", "/proc/self/sched"]);
    b.edit(|s| {
        s["process"]["scheduler"] = json!({
            "policy": "SCHED_DEADLINE", "runtime": 10_000_000u64,
            "deadline": 30_000_000u64, "period": 30_000_000u64
        })
    });
    let (code, out, err) = run(&oci, &b, "d1");
    assert_eq!(code, 0, "{err}");
    let value = |key: &str| {
        out.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("{key} missing from:\n{out}"))
    };
    assert_eq!(value("policy"), "6");
    // /proc/PID/sched shows what is left of the runtime in this period
    // (the spec's runtime bounds it) and the absolute deadline.
    let left: i64 = value("dl.runtime").parse().unwrap();
    assert!(left <= 10_000_000, "{out}");
}

#[test]
fn a_scheduler_the_kernel_refuses_fails_create_and_leaves_nothing() {
    vm::require();
    let oci = Oci::new("badsched");
    let mut b = TestBundle::busybox("badsched", &["true"]);
    // Valid to the spec, but below the kernel's minimum runtime (1us).
    b.edit(|s| {
        s["process"]["scheduler"] =
            json!({"policy": "SCHED_DEADLINE", "runtime": 100, "deadline": 200})
    });
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "b1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("process.scheduler"), "{err}");
    assert!(err.contains("Invalid argument"), "{err}");
    nothing_left(&oci, "b1");
}

/// The first number of /proc/uptime.
fn uptime(text: &str) -> f64 {
    text.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn a_time_namespace_shifts_the_containers_clocks_by_the_offsets() {
    vm::require();
    let oci = Oci::new("timens");
    let mut b = TestBundle::busybox(
        "timens",
        &["sh", "-c", "cat /proc/uptime /proc/self/timens_offsets"],
    );
    b.edit(|s| {
        s["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "time"}));
        s["linux"]["timeOffsets"] = json!({
            "monotonic": {"secs": 1_000_000, "nanosecs": 0},
            "boottime": {"secs": 2_000_000, "nanosecs": 0}
        });
    });
    let host = uptime(&std::fs::read_to_string("/proc/uptime").unwrap());
    let (code, out, err) = run(&oci, &b, "t1");
    let after = uptime(&std::fs::read_to_string("/proc/uptime").unwrap());
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    let inside = uptime(lines.next().unwrap());
    // /proc/uptime is the boot time clock: shifted by its offset, and the
    // container read it between the host's two readings.
    assert!(
        inside >= host + 2_000_000.0 && inside <= after + 2_000_000.0,
        "host {host}..{after}, container {inside}"
    );
    let offsets: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        offsets,
        [["monotonic", "1000000", "0"], ["boottime", "2000000", "0"]],
        "{out}"
    );
}

#[test]
fn time_offsets_without_a_time_namespace_are_refused() {
    vm::require();
    let oci = Oci::new("notimens");
    let mut b = TestBundle::busybox("notimens", &["true"]);
    b.edit(|s| s["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 5}}));
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "t2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("linux.timeOffsets"), "{err}");
    nothing_left(&oci, "t2");
}

#[test]
fn the_memory_policy_is_the_containers() {
    vm::require();
    let oci = Oci::new("mempol");
    let mut b = TestBundle::busybox("mempol", &["cat", "/proc/self/numa_maps"]);
    for (mode, shown) in [("MPOL_INTERLEAVE", "interleave:0"), ("MPOL_BIND", "bind:0")] {
        b.edit(|s| s["linux"]["memoryPolicy"] = json!({"mode": mode, "nodes": "0"}));
        let id = format!("m-{shown}").replace(':', "");
        let (code, out, err) = run(&oci, &b, &id);
        assert_eq!(code, 0, "{err}");
        // Mappings without a policy of their own show the process's.
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().nth(1) == Some(shown)),
            "{mode}: {out}"
        );
    }
}

#[test]
fn a_memory_policy_on_a_missing_node_fails_create_and_leaves_nothing() {
    vm::require();
    let oci = Oci::new("badmempol");
    let mut b = TestBundle::busybox("badmempol", &["true"]);
    // The VM has one NUMA node.
    b.edit(|s| s["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "7"}));
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "m2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("linux.memoryPolicy"), "{err}");
    nothing_left(&oci, "m2");
}

#[test]
fn exec_cpu_affinity_puts_an_execd_process_on_its_cpus() {
    vm::require();
    let oci = Oci::new("affinity");
    let b = TestBundle::busybox("affinity", &["sleep", "600"]);
    oci.ok(&[
        "run",
        "--detach",
        "--bundle",
        b.dir().to_str().unwrap(),
        "aff",
    ]);
    let file = b.dir().join("exec-process.json");
    let exec = |affinity: serde_json::Value| {
        let process = json!({
            "args": ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
            "execCPUAffinity": affinity,
        });
        std::fs::write(&file, process.to_string()).unwrap();
        oci.run(&["exec", "--process", file.to_str().unwrap(), "aff"])
    };
    let allowed = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            corral_tests::oci::describe(&out)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.trim()
            .trim_start_matches("Cpus_allowed_list:")
            .trim()
            .to_string()
    };
    // The VM has 2 CPUs.
    assert_eq!(allowed(exec(json!({"final": "1"}))), "1");
    assert_eq!(allowed(exec(json!({"initial": "0", "final": "1"}))), "1");
    // initial alone: the runtime clones from CPU 0; where the process ends
    // up is the kernel's call (the spec's words): here, the cgroup's CPUs.
    assert_eq!(allowed(exec(json!({"initial": "0"}))), "0-1");
    // The init is not affected, and the runtime's own CPUs are restored.
    let init = oci.pid("aff");
    let status = std::fs::read_to_string(format!("/proc/{init}/status")).unwrap();
    assert!(status.contains("Cpus_allowed_list:\t0-1"), "{status}");
    // A CPU the machine does not have fails the exec, naming the field.
    let out = exec(json!({"final": "7"}));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("process.execCPUAffinity.final"), "{err}");
    let out = exec(json!({"initial": "7"}));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("process.execCPUAffinity.initial"), "{err}");
    oci.ok(&["delete", "--force", "aff"]);
}
