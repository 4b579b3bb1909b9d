//! The OCI runtime's lifecycle through its command line, as runc's users
//! drive it: run, create/start/state/kill/delete, pause/resume, update, hooks,
//! and failures that leave nothing behind. Runs inside the VM only.

use corral_tests::bundle::TestBundle;
use corral_tests::oci::Oci;
use corral_tests::vm;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn wait_status(oci: &Oci, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while oci.status(id) != want {
        assert!(Instant::now() < deadline, "{id} never became {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn run_prints_output_returns_the_exit_code_and_cleans_up() {
    vm::require();
    let oci = Oci::new("run");
    let b = TestBundle::busybox("run", &["echo", "hi"]);
    let out = oci.run(&["run", "--bundle", b.dir().to_str().unwrap(), "c-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hi\n");
    assert!(!oci.root().join("c-run").exists(), "state left behind");
    assert!(
        !Path::new("/sys/fs/cgroup/corral-oci/c-run").exists(),
        "cgroup left behind"
    );

    let b = TestBundle::busybox("run3", &["sh", "-c", "exit 3"]);
    let out = oci.run(&["run", "--bundle", b.dir().to_str().unwrap(), "c-run3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn create_start_state_kill_delete() {
    vm::require();
    let oci = Oci::new("lifecycle");
    let b = TestBundle::busybox("lifecycle", &["sleep", "600"]);
    let pid_file = b.dir().join("pid");
    oci.ok(&[
        "create",
        "--bundle",
        b.dir().to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
        "c1",
    ]);
    let state: serde_json::Value = serde_json::from_str(&oci.ok(&["state", "c1"])).unwrap();
    assert_eq!(state["status"], "created");
    assert_eq!(state["id"], "c1");
    assert_eq!(state["ociVersion"], "1.0.2");
    let pid = state["pid"].as_i64().unwrap();
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    // Created: the init waits; the user program has not run yet.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains("sleep"),
        "exec'd before start"
    );
    let cgroup = Path::new("/sys/fs/cgroup/corral-oci/c1");
    let procs = std::fs::read_to_string(cgroup.join("cgroup.procs")).unwrap();
    assert_eq!(procs.trim(), pid.to_string(), "init is not in its cgroup");

    oci.ok(&["start", "c1"]);
    assert_eq!(oci.status("c1"), "running");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(String::from_utf8_lossy(&cmdline).starts_with("sleep"));
    let again = oci.run(&["start", "c1"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("container c1 is running"),
        "{}",
        stderr(&again)
    );

    let busy = oci.run(&["delete", "c1"]);
    assert!(!busy.status.success());
    assert!(stderr(&busy).contains("--force"), "{}", stderr(&busy));

    oci.ok(&["kill", "c1", "KILL"]);
    wait_status(&oci, "c1", "stopped");
    oci.ok(&["delete", "c1"]);
    assert!(!cgroup.exists(), "cgroup left behind");
    assert!(!oci.root().join("c1").exists());
    let gone = oci.run(&["state", "c1"]);
    assert!(
        stderr(&gone).contains("container c1 does not exist"),
        "{}",
        stderr(&gone)
    );
}

#[test]
fn pause_resume_update_and_force_delete() {
    vm::require();
    let oci = Oci::new("control");
    let mut b = TestBundle::busybox("control", &["sleep", "600"]);
    b.edit(|s| s["linux"]["resources"]["pids"] = json!({"limit": 10}));
    oci.ok(&[
        "run",
        "--detach",
        "--bundle",
        b.dir().to_str().unwrap(),
        "c2",
    ]);
    assert_eq!(oci.status("c2"), "running");
    oci.ok(&["pause", "c2"]);
    assert_eq!(oci.status("c2"), "paused");
    let cg = Path::new("/sys/fs/cgroup/corral-oci/c2");
    assert!(
        std::fs::read_to_string(cg.join("cgroup.events"))
            .unwrap()
            .contains("frozen 1")
    );
    oci.ok(&["resume", "c2"]);
    assert_eq!(oci.status("c2"), "running");

    assert_eq!(
        std::fs::read_to_string(cg.join("pids.max")).unwrap().trim(),
        "10"
    );
    oci.ok(&["update", "--pids-limit", "20", "--memory", "64m", "c2"]);
    assert_eq!(
        std::fs::read_to_string(cg.join("pids.max")).unwrap().trim(),
        "20"
    );
    assert_eq!(
        std::fs::read_to_string(cg.join("memory.max"))
            .unwrap()
            .trim(),
        (64 << 20).to_string()
    );

    let ps: Vec<i32> = serde_json::from_str(&oci.ok(&["ps", "--format", "json", "c2"])).unwrap();
    assert_eq!(ps.len(), 1);
    let ev: serde_json::Value =
        serde_json::from_str(&oci.ok(&["events", "--stats", "c2"])).unwrap();
    assert_eq!(ev["type"], "stats");
    let list = oci.ok(&["list", "--quiet"]);
    assert_eq!(list.trim(), "c2");

    oci.ok(&["delete", "--force", "c2"]);
    assert!(!cg.exists());
    assert!(
        std::fs::metadata(format!("/proc/{}", ps[0])).is_err(),
        "process survived delete --force"
    );
}

#[test]
fn hooks_run_in_order_with_the_state_on_stdin() {
    vm::require();
    let oci = Oci::new("hooks");
    let mut b = TestBundle::busybox("hooks", &["true"]);
    let log = b.dir().join("hooks.log");
    let hook_to = |name: &str, log: &str| {
        json!({"path": "/bin/sh", "args": ["sh", "-c",
            format!("read -r s; echo \"{name} $(hostname) $s\" >> {log}")]})
    };
    let host_log = log.display().to_string();
    let hook = |name: &str| hook_to(name, &host_log);
    let dir = b.dir().display().to_string();
    b.edit(|s| {
        // startContainer runs after the pivot: it reaches the log through a bind.
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/log", "type": "bind", "source": dir, "options": ["rbind", "rw"]
        }));
        s["hooks"] = json!({
            "prestart": [hook("prestart")],
            "createRuntime": [hook("createRuntime")],
            "createContainer": [hook("createContainer")],
            "startContainer": [hook_to("startContainer", "/log/hooks.log")],
            "poststart": [hook("poststart")],
            "poststop": [hook("poststop")],
        })
    });
    oci.ok(&["run", "--bundle", b.dir().to_str().unwrap(), "c3"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let fields: Vec<Vec<&str>> = text.lines().map(|l| l.splitn(3, ' ').collect()).collect();
    let names: Vec<&str> = fields.iter().map(|f| f[0]).collect();
    assert_eq!(
        names,
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ],
        "{text}"
    );
    // The in-container hooks see the container's hostname, the others the host's.
    let hosts: Vec<bool> = fields.iter().map(|f| f[1] == "corral-test").collect();
    assert_eq!(hosts, [false, false, true, true, false, false], "{text}");
    for f in &fields {
        let state: serde_json::Value = serde_json::from_str(f[2]).unwrap();
        assert_eq!(state["id"], "c3", "{text}");
    }
    // As crun and the runtime-tools suite expect (runc says "creating").
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("\"status\":\"created\""),
        "{text}"
    );
}

#[test]
fn failed_in_container_hook_names_it_and_leaves_nothing() {
    vm::require();
    let oci = Oci::new("badcchook");
    let mut b = TestBundle::busybox("badcchook", &["true"]);
    b.edit(|s| {
        s["hooks"] =
            json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 9"]}]})
    });
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "c4b"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("hooks.createContainer[0] (/bin/sh): exited with status 9"),
        "{err}"
    );
    assert_nothing_left(&oci, "c4b");
}

#[test]
fn failed_hook_fails_create_and_leaves_nothing() {
    vm::require();
    let oci = Oci::new("badhook");
    let mut b = TestBundle::busybox("badhook", &["true"]);
    b.edit(|s| s["hooks"] = json!({"createRuntime": [{"path": "/bin/false"}]}));
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "c4"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("createRuntime hook 0 (/bin/false)"),
        "{}",
        stderr(&out)
    );
    assert_nothing_left(&oci, "c4");
}

fn assert_nothing_left(oci: &Oci, id: &str) {
    assert!(
        !oci.root().join(id).exists(),
        "state folder of {id} left behind"
    );
    let cg = Path::new("/sys/fs/cgroup/corral-oci").join(id);
    assert!(!cg.exists(), "cgroup {} left behind", cg.display());
}

#[test]
fn broken_config_is_named_and_leaves_nothing() {
    vm::require();
    let oci = Oci::new("broken");
    let b = TestBundle::busybox("broken", &["true"]);
    std::fs::write(
        b.dir().join("config.json"),
        r#"{"ociVersion":"1.0.2","process":{"args":"sh"}}"#,
    )
    .unwrap();
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "c5"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("process.args"), "{}", stderr(&out));
    assert_nothing_left(&oci, "c5");
}

#[test]
fn a_failing_mount_names_it_and_leaves_nothing() {
    vm::require();
    let oci = Oci::new("badmount");
    let mut b = TestBundle::busybox("badmount", &["true"]);
    b.edit(|s| {
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/data", "type": "bind", "source": "/nonexistent/source", "options": ["rbind"]
        }))
    });
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "c6"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("mounts[7] /nonexistent/source on /data"),
        "{err}"
    );
    assert!(err.contains("No such file or directory"), "{err}");
    assert_nothing_left(&oci, "c6");
}

#[test]
fn a_missing_program_fails_start_with_its_name() {
    vm::require();
    let oci = Oci::new("noexec");
    let b = TestBundle::busybox("noexec", &["no-such-program"]);
    oci.ok(&["create", "--bundle", b.dir().to_str().unwrap(), "c7"]);
    let out = oci.run(&["start", "c7"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no-such-program"), "{}", stderr(&out));
    oci.ok(&["delete", "--force", "c7"]);
    assert_nothing_left(&oci, "c7");
}

#[test]
fn unknown_ids_and_bad_ids_are_clear_errors() {
    vm::require();
    let oci = Oci::new("ids");
    for verb in ["state", "start", "delete", "pause"] {
        let out = oci.run(&[verb, "nope"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("container nope does not exist"),
            "{verb}: {}",
            stderr(&out)
        );
    }
    let out = oci.run(&["state", "../etc"]);
    assert!(stderr(&out).contains("invalid"), "{}", stderr(&out));
}

#[test]
fn exec_joins_the_running_container() {
    vm::require();
    let oci = Oci::new("exec");
    let mut b = TestBundle::busybox("exec", &["sleep", "600"]);
    b.edit(|s| {
        s["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        s["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
        s["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
    });
    oci.ok(&[
        "run",
        "--detach",
        "--bundle",
        b.dir().to_str().unwrap(),
        "c8",
    ]);
    let out = oci.ok(&[
        "exec",
        "c8",
        "sh",
        "-c",
        "echo $$; hostname; cat /proc/1/cmdline; echo; id -u; cat /proc/self/uid_map",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_ne!(lines[0], "1", "{out}");
    assert!(
        lines[0].parse::<u32>().unwrap() < 100,
        "not in the container's pid namespace: {out}"
    );
    assert_eq!(lines[1], "corral-test");
    assert_eq!(lines[2], "sleep\x00600\x00", "{out:?}");
    assert_eq!(lines[3], "0");
    assert_eq!(
        lines[4].split_whitespace().collect::<Vec<_>>(),
        ["0", "200000", "65536"]
    );

    let code = oci.run(&["exec", "c8", "sh", "-c", "exit 4"]).status.code();
    assert_eq!(code, Some(4));
    oci.ok(&["exec", "--detach", "c8", "sleep", "60"]);
    let ps: Vec<i32> = serde_json::from_str(&oci.ok(&["ps", "--format", "json", "c8"])).unwrap();
    assert_eq!(
        ps.len(),
        2,
        "exec'd process not in the container's cgroup: {ps:?}"
    );
    let missing = oci.run(&["exec", "c8", "no-such-thing"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no-such-thing"),
        "{}",
        stderr(&missing)
    );

    oci.ok(&["kill", "c8", "KILL"]);
    wait_status(&oci, "c8", "stopped");
    let late = oci.run(&["exec", "c8", "true"]);
    assert!(
        stderr(&late).contains("container c8 is stopped"),
        "{}",
        stderr(&late)
    );
}

#[test]
fn terminal_master_goes_to_the_console_socket() {
    use std::io::Read;
    use std::os::fd::AsFd;
    vm::require();
    let oci = Oci::new("tty");
    let mut b = TestBundle::busybox("tty", &["sh", "-c", "tty; stty size; echo hi"]);
    b.edit(|s| {
        s["process"]["terminal"] = true.into();
        s["process"]["consoleSize"] = json!({"height": 30, "width": 100});
    });
    let sock = b.dir().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let mut child = oci
        .cmd(&[
            "run",
            "--console-socket",
            sock.to_str().unwrap(),
            "--bundle",
            b.dir().to_str().unwrap(),
            "c9",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (conn, _) = listener.accept().unwrap();
    let mut name = [0u8; 64];
    let (n, master) = corral_oci::seccomp::recv_fd(conn.as_fd(), &mut name).unwrap();
    assert_eq!(&name[..n], b"/dev/ptmx");
    let mut master = std::fs::File::from(master);
    let mut text = Vec::new();
    // Reading the master ends with EIO once the container side closes.
    let _ = master.read_to_end(&mut text);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{err}");
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(lines, ["/dev/pts/0", "30 100", "hi"], "{text:?}");
}
