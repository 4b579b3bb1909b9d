//! The agent end to end in the VM: a real master, a real agent running
//! command tasks as OCI containers under cgroup v2, a Mesos v1 scheduler
//! client. Each test has its own master, agent, work dir and cgroup
//! subtree (all removed on drop, even on failure).

use corral_api::scheduler::{Event, EventType};
use corral_api::v1::{Offer, Reason, TaskState, TaskStatus};
use corral_tests::agent::AgentProcess;
use corral_tests::http::Client;
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{Scheduler, container_id, framework, task_for};
use std::time::Duration;

/// The probe program (alloc, forks, spin), run inside tasks.
const PROBE: &str = env!("CARGO_BIN_EXE_corral-probe");

/// The probe where tasks can run it: tasks see the host's folders but get
/// their own /tmp, and the build may live under /tmp; so a copy in
/// /usr/local/bin (the VM's throw-away overlay), made once per process.
fn probe() -> &'static str {
    static COPY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let dest = format!("/usr/local/bin/corral-probe-{}", std::process::id());
        let tmp = format!("{dest}.tmp");
        std::fs::copy(PROBE, &tmp).unwrap_or_else(|e| panic!("copying {PROBE} to {tmp}: {e}"));
        std::fs::rename(&tmp, &dest).unwrap();
        dest
    })
}

/// Generous: the VM is emulated.
const T: Duration = Duration::from_secs(120);

struct Cluster {
    // Drop order: the scheduler, then the agent (its tasks), then the master.
    sched: Scheduler,
    /// Offers that came while waiting for something else.
    offers: Vec<Offer>,
    agent: AgentProcess,
    master: MasterProcess,
}

fn cluster(agent_args: &[&str]) -> Cluster {
    corral_tests::vm::require();
    let master = MasterProcess::start(&["--allocation-interval", "200ms"]);
    let mut args = vec!["--resources", "cpus:2;mem:512;disk:1024"];
    args.extend_from_slice(agent_args);
    let agent = AgentProcess::start(&master.host_port(), &args);
    let mut sched = Scheduler::subscribe(&master.url(), framework("vm-agent"));
    sched.set_auto_acknowledge(true);
    Cluster {
        sched,
        offers: Vec::new(),
        agent,
        master,
    }
}

impl Cluster {
    fn offer(&mut self) -> Offer {
        if let Some(o) = self.offers.pop() {
            return o;
        }
        let offers = self.sched.next_offers(T);
        offers
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no offer; agent log:\n{}", self.agent.log()))
    }

    /// Waits for an update of `id` in `state`, keeping offers that come
    /// meanwhile.
    fn update(&mut self, id: &str, state: TaskState) -> TaskStatus {
        let wanted = |e: &Event| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == id && u.status.state == state)
        };
        let mut events = self.sched.events_until(wanted, T);
        let last = events
            .pop()
            .and_then(|e| e.update)
            .expect("the awaited update");
        for e in events {
            self.offers
                .extend(e.offers.map(|o| o.offers).unwrap_or_default());
        }
        last.status
    }

    /// Launches `cmd` as task `id` on the next offer.
    fn launch(&mut self, id: &str, cmd: &str, cpus: f64, mem: f64) {
        let offer = self.offer();
        let task = task_for(&offer, id, cmd, cpus, mem);
        self.sched
            .accept_launch(vec![offer.id.clone()], vec![task], Some(0.0));
    }

    /// The task's updates up to its first terminal one.
    fn until_terminal(&mut self, id: &str) -> Vec<TaskStatus> {
        let done = |e: &Event| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == id && u.status.state.is_terminal())
        };
        let events = self.sched.events_until(done, T);
        events
            .into_iter()
            .filter(|e| e.r#type == Some(EventType::Update))
            .filter_map(|e| e.update.map(|u| u.status))
            .filter(|s| s.task_id.as_str() == id)
            .collect()
    }

    /// The task's terminal update, which must be in `state`.
    fn ends(&mut self, id: &str, state: TaskState) -> TaskStatus {
        let updates = self.until_terminal(id);
        let last = updates.last().cloned().expect("a terminal update");
        assert_eq!(last.state, state, "{updates:?}\n{}", self.agent.log());
        last
    }

    /// The cgroup of the container that `s` reports on.
    fn cgroup_of(&self, s: &TaskStatus) -> std::path::PathBuf {
        self.agent.cgroup().join("containers").join(container_id(s))
    }

    fn sandbox_file(&self, s: &TaskStatus, file: &str) -> String {
        let cid = container_id(s);
        let path = self.agent.sandbox(&cid).join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }
}

fn states(updates: &[TaskStatus]) -> Vec<TaskState> {
    updates.iter().map(|s| s.state).collect()
}

#[test]
fn echo_hi_starts_runs_finishes_and_leaves_hi_in_the_sandbox() {
    let mut c = cluster(&[]);
    c.launch("echo", "echo hi", 0.5, 64.0);
    let updates = c.until_terminal("echo");
    assert_eq!(
        states(&updates),
        [TaskState::Starting, TaskState::Running, TaskState::Finished],
        "agent log:\n{}",
        c.agent.log()
    );
    assert_eq!(c.sandbox_file(&updates[2], "stdout"), "hi\n");
    let cgroup = c.cgroup_of(&updates[2]);
    assert!(
        !cgroup.exists(),
        "{} is removed once the task ends",
        cgroup.display()
    );
}

#[test]
fn a_non_zero_exit_fails_the_task_with_its_status() {
    let mut c = cluster(&[]);
    c.launch("three", "echo oops >&2; exit 3", 0.5, 64.0);
    let updates = c.until_terminal("three");
    let last = updates.last().unwrap();
    assert_eq!(last.state, TaskState::Failed, "{last:?}");
    assert_eq!(
        last.message.as_deref(),
        Some("Command exited with status 3")
    );
    assert_eq!(c.sandbox_file(last, "stderr"), "oops\n");
}

#[test]
fn a_memory_hog_over_its_mem_fails_with_the_memory_limitation() {
    let mut c = cluster(&[]);
    c.launch("hog", &format!("{} alloc 200", probe()), 0.5, 32.0);
    let updates = c.until_terminal("hog");
    let last = updates.last().unwrap();
    assert_eq!(last.state, TaskState::Failed, "{last:?}\n{}", c.agent.log());
    assert_eq!(
        last.reason,
        Some(Reason::ContainerLimitationMemory),
        "{last:?}"
    );
    let message = last.message.clone().unwrap_or_default();
    assert!(message.contains("32.0 MiB"), "{message}");
    let limited = last
        .limitation
        .as_ref()
        .map(|l| l.resources[0].scalar_value());
    assert_eq!(limited, Some(Some(32.0)));
}

#[test]
fn a_task_sees_only_its_own_processes_its_sandbox_writable_and_not_the_agents_files() {
    let mut c = cluster(&[]);
    c.launch("sleeper", "sleep 600", 0.5, 64.0);
    let running = c.update("sleeper", TaskState::Running);
    let work = c.agent.work_dir();
    let script = format!(
        "echo procs=$(cat /proc/[0-9]*/comm | tr '\\n' ' '); \
         touch /etc/corral-escape 2>/dev/null && echo etc=writable || echo etc=readonly; \
         touch /mnt/mesos/sandbox/mine && echo sandbox=writable; \
         test -d {work} && echo workdir=present; \
         ls -A {work} 2>/dev/null | wc -l | sed 's/^/workdir_entries=/'; \
         echo pwd=$(pwd)",
        work = work.display()
    );
    c.launch("looker", &script, 0.5, 64.0);
    let updates = c.until_terminal("looker");
    let last = updates.last().unwrap();
    assert_eq!(last.state, TaskState::Finished, "{last:?}");
    let out = c.sandbox_file(last, "stdout");
    // The executor (pid 1), the shells, cat: never the sleeper.
    let procs = out.lines().find(|l| l.starts_with("procs=")).unwrap_or("");
    assert!(procs.contains("executor") && procs.contains("sh"), "{out}");
    assert!(!procs.contains("sleep"), "{out}");
    assert!(out.contains("etc=readonly"), "{out}");
    assert!(!std::path::Path::new("/etc/corral-escape").exists());
    assert!(out.contains("sandbox=writable"), "{out}");
    // The work dir is outside /tmp (which tasks get afresh), so the task
    // finds the folder at its host path, and finds it empty: masked. On
    // the host it is not empty (the looker's own sandbox is in it).
    assert!(work.starts_with(corral_tests::agent::WORK_PARENT));
    assert!(std::fs::read_dir(&work).unwrap().count() > 0);
    assert!(out.contains("workdir=present"), "{out}");
    assert!(out.contains("workdir_entries=0"), "{out}");
    assert!(out.contains("pwd=/mnt/mesos/sandbox"), "{out}");
    assert!(c.agent.sandbox(&container_id(last)).join("mine").exists());
    // The sleeper is still there, and untouched.
    assert!(c.cgroup_of(&running).exists());
}

#[test]
fn a_fork_bomb_stops_at_pids_max_and_a_kill_ends_the_task() {
    let mut c = cluster(&["--default-pids-max", "32"]);
    c.launch(
        "bomb",
        &format!("{} forks 200; sleep 600", probe()),
        0.5,
        64.0,
    );
    let running = c.update("bomb", TaskState::Running);
    let cgroup = c.cgroup_of(&running);
    let events = cgroup.join("pids.events");
    let deadline = std::time::Instant::now() + T;
    let hit = loop {
        let text = std::fs::read_to_string(&events).unwrap_or_default();
        let max: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("max "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if max > 0 || std::time::Instant::now() > deadline {
            break max;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(hit > 0, "pids.max was never hit: {events:?}");
    let current: u64 = std::fs::read_to_string(cgroup.join("pids.current"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(current <= 32, "pids.current {current}");
    c.sched.kill("bomb", None);
    let updates = c.until_terminal("bomb");
    assert_eq!(
        updates.last().unwrap().state,
        TaskState::Killed,
        "{updates:?}"
    );
    assert!(!cgroup.exists());
}

#[test]
fn a_cpu_hog_is_held_to_its_cpus() {
    let mut c = cluster(&[]);
    c.launch("spin", &format!("{} spin 6", probe()), 0.25, 64.0);
    let running = c.update("spin", TaskState::Running);
    let cgroup = c.cgroup_of(&running);
    let stat = |key: &str| -> u64 {
        let text = std::fs::read_to_string(cgroup.join("cpu.stat")).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(
        std::fs::read_to_string(cgroup.join("cpu.max"))
            .unwrap()
            .trim(),
        "25000 100000"
    );
    std::thread::sleep(Duration::from_secs(4));
    let (usage, periods, throttled) = (
        stat("usage_usec "),
        stat("nr_periods "),
        stat("nr_throttled "),
    );
    assert!(throttled > 0, "never throttled: {periods} periods");
    // Held near a quarter of one CPU: usage per period at most the quota
    // and a margin (both counted by the kernel, no wall clock involved).
    assert!(
        usage <= periods * 25_000 * 13 / 10,
        "usage {usage} us over {periods} periods"
    );
    let updates = c.until_terminal("spin");
    assert_eq!(updates.last().unwrap().state, TaskState::Finished);
}

fn cgroup_populated(dir: &std::path::Path) -> bool {
    std::fs::read_to_string(dir.join("cgroup.events")).is_ok_and(|t| t.contains("populated 1"))
}

#[test]
fn a_task_survives_an_agent_crash_and_its_end_is_reported_exactly_once() {
    let mut c = cluster(&[]);
    c.launch("long", "sleep 10; echo done", 0.5, 64.0);
    let running = c.update("long", TaskState::Running);
    let cgroup = c.cgroup_of(&running);
    c.agent.kill();
    assert!(cgroup_populated(&cgroup), "the task died with the agent");
    std::thread::sleep(Duration::from_secs(1));
    c.agent.restart();
    let last = c.ends("long", TaskState::Finished);
    assert_eq!(c.sandbox_file(&last, "stdout"), "done\n");
    // Past the agent's first resend (10 s): nothing more about the task.
    let more = |e: &Event| {
        e.update
            .as_ref()
            .is_some_and(|u| u.status.task_id.as_str() == "long")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while let Some(e) = c
        .sched
        .next_event(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        assert!(!more(&e), "a second update of the task: {e:?}");
    }
}

#[test]
fn a_task_that_ends_while_the_agent_is_down_gets_its_true_status() {
    let mut c = cluster(&[]);
    c.launch("brief", "sleep 3; exit 5", 0.5, 64.0);
    let running = c.update("brief", TaskState::Running);
    let cgroup = c.cgroup_of(&running);
    c.agent.kill();
    let deadline = std::time::Instant::now() + T;
    while cgroup_populated(&cgroup) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!cgroup_populated(&cgroup), "the task never ended");
    c.agent.restart();
    let last = c.ends("brief", TaskState::Failed);
    assert_eq!(
        last.message.as_deref(),
        Some("Command exited with status 5")
    );
    assert!(!cgroup.exists(), "the recovered container is removed");
}

#[test]
fn the_agent_reports_usage_of_running_containers() {
    let mut c = cluster(&["--usage-report-interval", "1secs"]);
    c.launch("idle", "sleep 600", 0.5, 64.0);
    let running = c.update("idle", TaskState::Running);
    let mut http = Client::new(&c.agent.url());
    let mut get = |path: &str| {
        let r = http.get(path).unwrap();
        (r.status, r.text())
    };
    // RUNNING says the executor runs; it forks the command right after.
    let deadline = std::time::Instant::now() + T;
    let (body, stats) = loop {
        let (status, body) = get("/monitor/statistics");
        assert_eq!(status, 200, "{body}");
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
        let procs = stats[0]["statistics"]["processes"].as_u64().unwrap_or(0);
        if procs >= 2 || std::time::Instant::now() > deadline {
            break (body, stats);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let entry = &stats[0];
    assert_eq!(entry["executor_id"], "idle", "{body}");
    assert_eq!(entry["container_id"], container_id(&running).as_str());
    let s = &entry["statistics"];
    assert_eq!(s["mem_limit_bytes"], 64 << 20, "{body}");
    assert_eq!(s["cpus_limit"], 0.5);
    assert!(s["processes"].as_u64().unwrap() >= 2, "{body}");
    assert!(s["psi"]["memory"]["some_avg10"].is_number(), "{body}");
    let (status, body) = get("/state");
    assert_eq!(status, 200);
    assert!(
        body.contains("\"cgroup_controllers\"") && body.contains("\"memory\""),
        "{body}"
    );
    let post = |body: &str| {
        let r = Client::new(&c.agent.url())
            .post(
                "/api/v1",
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
            .unwrap();
        (r.status, r.text())
    };
    let (status, body) = post(r#"{"type":"GET_CONTAINERS"}"#);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"resource_statistics\""), "{body}");
    let (status, body) = post("{oops");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("failed to parse"), "{body}");

    // The same usage reaches the master, which serves it cluster-wide.
    let deadline = std::time::Instant::now() + T;
    let (body, master_view) = loop {
        let r = Client::new(&c.master.url())
            .post(
                "/api/v1",
                &[("Content-Type", "application/json")],
                br#"{"type":"GET_CONTAINERS"}"#,
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let body = r.text();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let first = v["get_containers"]["containers"][0].clone();
        if first["resource_statistics"]["processes"].as_u64() >= Some(2)
            || std::time::Instant::now() > deadline
        {
            break (body, first);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        master_view["container_id"]["value"],
        container_id(&running).as_str(),
        "{body}"
    );
    assert_eq!(master_view["task_ids"][0]["value"], "idle", "{body}");
    assert_eq!(
        master_view["agent_id"]["value"],
        running.agent_id.as_ref().unwrap().as_str(),
        "{body}"
    );
    let s = &master_view["resource_statistics"];
    assert_eq!(s["mem_limit_bytes"], 64 << 20, "{body}");
    assert!(s["processes"].as_u64().unwrap() >= 2, "{body}");
    assert!(s["cpus_user_time_secs"].is_number(), "{body}");
}

#[test]
fn a_task_over_its_disk_quota_fails_with_the_disk_limitation() {
    let mut c = cluster(&["--container-disk-watch-interval", "300ms"]);
    let offer = c.offer();
    let mut task = task_for(
        &offer,
        "filler",
        "dd if=/dev/zero of=big bs=1M count=8; sleep 600",
        0.5,
        64.0,
    );
    task.resources
        .push(corral_tests::scheduler::disk_from(&offer, 2.0));
    c.sched
        .accept_launch(vec![offer.id.clone()], vec![task], Some(0.0));
    let last = c.ends("filler", TaskState::Failed);
    assert_eq!(
        last.reason,
        Some(Reason::ContainerLimitationDisk),
        "{last:?}"
    );
    let message = last.message.clone().unwrap_or_default();
    assert!(message.contains("exceeds quota (2.0 MiB)"), "{message}");
}

/// A task with `volumes` (ContainerInfo type MESOS, no image).
fn launch_with_volumes(c: &mut Cluster, id: &str, cmd: &str, volumes: serde_json::Value) {
    let offer = c.offer();
    let mut task = task_for(&offer, id, cmd, 0.5, 64.0);
    task.container = Some(
        corral_api::json::from_value(serde_json::json!({"type": "MESOS", "volumes": volumes}))
            .unwrap(),
    );
    c.sched
        .accept_launch(vec![offer.id.clone()], vec![task], Some(0.0));
}

#[test]
fn host_path_and_sandbox_path_volumes_are_bound_with_their_modes() {
    let mut c = cluster(&[]);
    // On the VM's overlay root, under /var/tmp: not the tasks' own /tmp.
    let dir = std::path::PathBuf::from(format!("/var/tmp/corral-volumes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ro")).unwrap();
    std::fs::create_dir_all(dir.join("rw")).unwrap();
    std::fs::write(dir.join("ro/greeting"), "from the host\n").unwrap();
    let host = |sub: &str| dir.join(sub).display().to_string();
    let script = "cat /data/greeting; \
        touch /data/x 2>/dev/null && echo ro-written || echo ro-refused; \
        echo out > cache/out && echo rw-written; \
        mkdir -p shared && echo mine > shared/f; cat /again/f";
    launch_with_volumes(
        &mut c,
        "vols",
        script,
        serde_json::json!([
            {"mode": "RO", "container_path": "/data",
             "source": {"type": "HOST_PATH", "host_path": {"path": host("ro")}}},
            {"mode": "RW", "container_path": "cache",
             "source": {"type": "HOST_PATH", "host_path": {"path": host("rw")}}},
            {"mode": "RO", "container_path": "/again",
             "source": {"type": "SANDBOX_PATH", "sandbox_path": {"type": "SELF", "path": "shared"}}},
        ]),
    );
    let done = c.ends("vols", TaskState::Finished);
    let out = c.sandbox_file(&done, "stdout");
    let written = std::fs::read_to_string(dir.join("rw/out")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(written, "out\n", "the RW volume's write reached the host");
    assert_eq!(
        out,
        "from the host\nro-refused\nrw-written\nmine\n",
        "stderr: {}",
        c.sandbox_file(&done, "stderr")
    );
}

#[test]
fn a_volume_corral_cannot_mount_fails_the_task_naming_it() {
    let mut c = cluster(&[]);
    launch_with_volumes(
        &mut c,
        "docker-vol",
        "true",
        serde_json::json!([
            {"mode": "RW", "container_path": "/d",
             "source": {"type": "DOCKER_VOLUME", "docker_volume": {"name": "v"}}},
        ]),
    );
    let last = c.ends("docker-vol", TaskState::Failed);
    assert_eq!(last.reason, Some(Reason::ContainerLaunchFailed), "{last:?}");
    let message = last.message.unwrap_or_default();
    assert!(
        message.contains("volumes[0]: DOCKER_VOLUME volumes are not supported"),
        "{message}"
    );
}
