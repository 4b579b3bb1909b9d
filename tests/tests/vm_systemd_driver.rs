//! The systemd cgroup driver, in the VM booted with systemd as PID 1:
//! `corral oci --systemd-cgroup` makes each container a transient scope
//! whose properties systemd reports and the cgroup files agree with,
//! updates them live, and leaves no unit or cgroup after delete or a failed
//! create; an agent with `--cgroup-driver=systemd` runs its tasks as scopes
//! in corral.slice, gone once the task ends, and an OOM still fails the
//! task with the memory limitation.

use corral_api::v1::{Reason, TaskState, TaskStatus};
use corral_tests::bundle::TestBundle;
use corral_tests::master::MasterProcess;
use corral_tests::oci::{Oci, corral_bin};
use corral_tests::scheduler::{Scheduler, container_id, framework, task_for};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Generous: the VM is emulated.
const T: Duration = Duration::from_secs(120);

fn show(unit: &str, prop: &str) -> String {
    let out = Command::new("systemctl")
        .args(["show", "-P", prop, unit])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("reading {}/{name}: {e}", dir.display()))
        .trim()
        .to_string()
}

fn until(what: &str, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !pred() {
        assert!(Instant::now() < deadline, "{what}: not within {T:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether systemd has forgotten `unit` and its cgroup `dir` is gone.
fn gone(unit: &str, dir: &Path) -> bool {
    show(unit, "LoadState") == "not-found" && !dir.exists()
}

/// The scope of container `id` in the VM's cgroup tree.
fn scope_dir(slice_dir: &str, unit: &str) -> PathBuf {
    Path::new("/sys/fs/cgroup").join(slice_dir).join(unit)
}

#[test]
fn oci_containers_are_scopes_with_their_limits_updated_live_and_removed() {
    corral_tests::vm::require_systemd();
    let oci = Oci::new("sdscope");
    let sd = |args: &[&str]| {
        let mut all = vec!["--systemd-cgroup"];
        all.extend_from_slice(args);
        oci.ok(&all)
    };
    let id = format!("sd{}", std::process::id());
    let unit = format!("corral-{id}.scope");
    let dir = scope_dir("system.slice", &unit);
    let mut b = TestBundle::busybox("sdscope", &["sleep", "600"]);
    b.edit(|s| {
        s["linux"]["cgroupsPath"] = json!(format!("system.slice:corral:{id}"));
        s["linux"]["resources"] = json!({
            "memory": {"limit": 64 << 20},
            "pids": {"limit": 32},
            "cpu": {"shares": 512, "quota": 20000, "period": 100000},
        });
    });
    let bundle = b.dir().to_str().unwrap().to_string();
    sd(&["create", "--bundle", &bundle, &id]);
    assert_eq!(show(&unit, "ActiveState"), "active");
    assert_eq!(show(&unit, "Slice"), "system.slice");
    assert_eq!(show(&unit, "Delegate"), "yes");
    assert_eq!(show(&unit, "MemoryMax"), (64u64 << 20).to_string());
    assert_eq!(show(&unit, "TasksMax"), "32");
    assert_eq!(show(&unit, "CPUQuotaPerSecUSec"), "200ms");
    assert_eq!(show(&unit, "CPUWeight"), file(&dir, "cpu.weight"));
    assert_eq!(file(&dir, "memory.max"), (64u64 << 20).to_string());
    assert_eq!(file(&dir, "pids.max"), "32");
    assert_eq!(file(&dir, "cpu.max"), "20000 100000");
    // The container's init is in the scope itself; the holder that keeps
    // the scope alive sits in its own child cgroup.
    let pid = oci.pid(&id);
    assert_eq!(file(&dir, "cgroup.procs"), pid.to_string());
    assert_eq!(
        file(&dir.join("corral-holder"), "cgroup.procs")
            .lines()
            .count(),
        1
    );
    let state: serde_json::Value = serde_json::from_str(&sd(&["state", &id])).unwrap();
    assert_eq!(state["status"], "created");

    sd(&["update", "--memory", "134217728", "--pids-limit", "64", &id]);
    sd(&["update", "--cpu-quota", "50000", &id]);
    assert_eq!(show(&unit, "MemoryMax"), (128u64 << 20).to_string());
    assert_eq!(show(&unit, "TasksMax"), "64");
    assert_eq!(show(&unit, "CPUQuotaPerSecUSec"), "500ms");
    assert_eq!(file(&dir, "memory.max"), (128u64 << 20).to_string());
    assert_eq!(file(&dir, "pids.max"), "64");
    assert_eq!(file(&dir, "cpu.max"), "50000 100000");

    sd(&["start", &id]);
    sd(&["kill", &id, "KILL"]);
    until("the container stops", || oci.status(&id) == "stopped");
    // Its cgroup outlives the processes (the holder), as with the fs driver.
    assert!(dir.exists());
    sd(&["delete", &id]);
    until("the scope and its cgroup are gone after delete", || {
        gone(&unit, &dir)
    });
}

#[test]
fn a_default_scope_is_in_corral_slice_and_a_failed_create_leaves_no_unit() {
    corral_tests::vm::require_systemd();
    let oci = Oci::new("sdfail");
    let id = format!("sdf{}", std::process::id());
    let unit = format!("corral-{id}.scope");
    let dir = scope_dir("corral.slice", &unit);
    // memory.oom.group has no property: written to the file after the
    // scope started, and the kernel refuses 7.
    let mut b = TestBundle::busybox("sdfail", &["sleep", "600"]);
    b.edit(|s| {
        s["linux"]["resources"] = json!({"unified": {"memory.oom.group": "7"}});
    });
    let bundle = b.dir().to_str().unwrap().to_string();
    let out = oci.run(&["--systemd-cgroup", "create", "--bundle", &bundle, &id]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("memory.oom.group"), "{err}");
    until("no unit and no cgroup are left", || gone(&unit, &dir));
    assert!(!oci.root().join(&id).exists(), "no state is left");
    // The same bundle without the bad value: corral-ID.scope in corral.slice.
    b.edit(|s| {
        s["linux"]["resources"] = json!({"unified": {"memory.oom.group": "1"}});
    });
    oci.ok(&["--systemd-cgroup", "create", "--bundle", &bundle, &id]);
    assert_eq!(show(&unit, "Slice"), "corral.slice");
    assert_eq!(file(&dir, "memory.oom.group"), "1");
    oci.ok(&["--systemd-cgroup", "delete", "--force", &id]);
    until("the scope is gone after delete --force", || {
        gone(&unit, &dir)
    });
}

/// The probe (alloc) where tasks can run it, copied once per process.
fn probe() -> &'static str {
    static COPY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let src = env!("CARGO_BIN_EXE_corral-probe");
        let dest = format!("/usr/local/bin/corral-probe-{}", std::process::id());
        std::fs::copy(src, &dest).unwrap_or_else(|e| panic!("copying {src}: {e}"));
        dest
    })
}

struct Cluster {
    sched: Scheduler,
    agent: MasterProcess,
    _master: MasterProcess,
}

impl Cluster {
    fn start() -> Cluster {
        let master = MasterProcess::start(&["--allocation-interval", "200ms"]);
        let agent = MasterProcess::start_daemon_in(
            Path::new(corral_tests::agent::WORK_PARENT),
            "agent",
            &corral_bin(),
            &[
                "--master",
                &master.host_port(),
                "--cgroup-driver",
                "systemd",
                "--resources",
                "cpus:2;mem:512;disk:1024",
            ],
        );
        let mut sched = Scheduler::subscribe(&master.url(), framework("vm-systemd-driver"));
        sched.set_auto_acknowledge(true);
        Cluster {
            sched,
            agent,
            _master: master,
        }
    }

    fn launch(&mut self, id: &str, cmd: &str, cpus: f64, mem: f64) {
        let offers = self.sched.next_offers(T);
        let offer = offers
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no offer; agent log:\n{}", self.agent.stderr_log()));
        let task = task_for(&offer, id, cmd, cpus, mem);
        self.sched
            .accept_launch(vec![offer.id.clone()], vec![task], Some(0.0));
    }

    fn update(&mut self, id: &str, done: impl Fn(&TaskStatus) -> bool) -> TaskStatus {
        let wanted = |e: &corral_api::scheduler::Event| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == id && done(&u.status))
        };
        let mut events = self.sched.events_until(wanted, T);
        events
            .pop()
            .and_then(|e| e.update)
            .map(|u| u.status)
            .unwrap_or_else(|| panic!("no update of {id}; agent log:\n{}", self.agent.stderr_log()))
    }
}

#[test]
fn agent_tasks_are_scopes_in_corral_slice_gone_when_they_end_and_ooms_are_reported() {
    corral_tests::vm::require_systemd();
    let mut c = Cluster::start();
    c.launch("sleeper", "sleep 600", 0.5, 64.0);
    let running = c.update("sleeper", |s| s.state == TaskState::Running);
    let unit = format!("corral-{}.scope", container_id(&running));
    let dir = scope_dir("corral.slice", &unit);
    assert_eq!(
        show(&unit, "ActiveState"),
        "active",
        "{}",
        c.agent.stderr_log()
    );
    assert_eq!(show(&unit, "Slice"), "corral.slice");
    assert_eq!(show(&unit, "MemoryMax"), file(&dir, "memory.max"));
    assert_eq!(show(&unit, "MemoryMax"), (64u64 << 20).to_string());
    assert_eq!(show(&unit, "CPUQuotaPerSecUSec"), "500ms");
    assert_eq!(file(&dir, "cpu.max"), "50000 100000");
    assert_eq!(show(&unit, "CPUWeight"), file(&dir, "cpu.weight"));
    c.sched.kill("sleeper", None);
    let last = c.update("sleeper", |s| s.state.is_terminal());
    assert_eq!(last.state, TaskState::Killed, "{last:?}");
    until("the task's scope is gone", || gone(&unit, &dir));

    c.launch("hog", &format!("{} alloc 200", probe()), 0.5, 32.0);
    let last = c.update("hog", |s| s.state.is_terminal());
    assert_eq!(
        last.state,
        TaskState::Failed,
        "{last:?}\n{}",
        c.agent.stderr_log()
    );
    assert_eq!(
        last.reason,
        Some(Reason::ContainerLimitationMemory),
        "{last:?}"
    );
    let unit = format!("corral-{}.scope", container_id(&last));
    until("the hog's scope is gone", || {
        gone(&unit, &scope_dir("corral.slice", &unit))
    });
}
