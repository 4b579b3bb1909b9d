//! Custom executors end to end in the VM: a real master, a real agent, a
//! Mesos v1 scheduler client, and an unmodified pymesos 0.3.15 executor
//! (`tests/compat/pymesos_executor.py`, MesosExecutorDriver speaking the
//! agent's `/api/v1/executor`) in its own container. Each test has its own
//! master, agent, work dir and cgroup subtree (removed on drop).

use corral_api::scheduler::{Call, Event, EventType};
use corral_api::v1::{
    CommandInfo, ExecutorInfo, ExecutorType, Offer, OfferOperation, Reason, Resource, Source,
    TaskGroupInfo, TaskInfo, TaskState,
};
use corral_api::{Bytes, ExecutorId, TaskId};
use corral_tests::agent::AgentProcess;
use corral_tests::compat::pymesos_executor_command;
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{Scheduler, container_id, framework, task_for};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Generous: the VM is emulated.
const T: Duration = Duration::from_secs(180);

struct Cluster {
    sched: Scheduler,
    offers: Vec<Offer>,
    agent: AgentProcess,
    _master: MasterProcess,
}

fn cluster(agent_args: &[&str], checkpoint: bool) -> Cluster {
    corral_tests::vm::require();
    let master = MasterProcess::start(&["--allocation-interval", "200ms"]);
    let mut args = vec!["--resources", "cpus:4;mem:1024;disk:1024"];
    // Python starts slowly in the emulated VM.
    if !agent_args.contains(&"--executor-registration-timeout") {
        args.extend(["--executor-registration-timeout", "10mins"]);
    }
    args.extend_from_slice(agent_args);
    let agent = AgentProcess::start(&master.host_port(), &args);
    let mut info = framework("vm-executor");
    info.checkpoint = checkpoint;
    let mut sched = Scheduler::subscribe(&master.url(), info);
    sched.set_auto_acknowledge(true);
    Cluster {
        sched,
        offers: Vec::new(),
        agent,
        _master: master,
    }
}

/// The executor `id` running `command`, with 1 cpu (python starts slowly
/// in the emulated VM, and cpu.max holds it to its share) and 64 MiB of
/// its own (entries copied from `offer`).
fn executor(offer: &Offer, id: &str, command: &str) -> ExecutorInfo {
    ExecutorInfo {
        executor_id: ExecutorId::new(id),
        name: Some(format!("executor {id}")),
        command: Some(CommandInfo::shell(command)),
        resources: task_for(offer, "x", "true", 1.0, 64.0).resources,
        ..ExecutorInfo::default()
    }
}

/// Task `id` on `executor`, with 0.1 cpus and 32 MiB; `what` is its data
/// (see pymesos_executor.py).
fn task(offer: &Offer, executor: &ExecutorInfo, id: &str, what: &str) -> TaskInfo {
    let mut t = task_for(offer, id, "true", 0.1, 32.0);
    t.command = None;
    t.executor = Some(executor.clone());
    t.data = Some(Bytes::from(what));
    t
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

    /// Launches tasks `(id, what)` on the pymesos executor `eid` (one
    /// ACCEPT on the next offer).
    fn launch(&mut self, eid: &str, tasks: &[(&str, &str)]) -> ExecutorInfo {
        let offer = self.offer();
        let e = executor(&offer, eid, &pymesos_executor_command());
        let tasks = tasks
            .iter()
            .map(|(id, what)| task(&offer, &e, id, what))
            .collect();
        self.sched
            .accept_launch(vec![offer.id.clone()], tasks, Some(0.0));
        e
    }

    /// Events up to the one `pred` accepts, offers kept.
    fn until(&mut self, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
        let events = self.sched.events_until(pred, T);
        for e in &events {
            self.offers
                .extend(e.offers.clone().map(|o| o.offers).unwrap_or_default());
        }
        events
    }

    fn update(&mut self, id: &str, state: TaskState) -> corral_api::v1::TaskStatus {
        let wanted = |e: &Event| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == id && u.status.state == state)
        };
        let e = self.until(wanted).pop().unwrap();
        e.update.unwrap().status
    }

    /// The task's terminal update.
    fn terminal(&mut self, id: &str) -> corral_api::v1::TaskStatus {
        let done = |e: &Event| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == id && u.status.state.is_terminal())
        };
        let e = self.until(done).pop().unwrap();
        e.update.unwrap().status
    }

    fn message(&self, eid: &str, text: &str) {
        let agent = self.agent_id();
        let call = Call::message(
            self.sched.framework_id(),
            agent,
            ExecutorId::new(eid),
            Bytes::from(text),
        );
        let (status, body) = self.sched.call(call);
        assert_eq!(status, 202, "{body}");
    }

    fn agent_id(&self) -> corral_api::AgentId {
        let state: serde_json::Value = serde_json::from_str(
            &corral_tests::http::Client::new(&self.agent.url())
                .get("/state")
                .unwrap()
                .text(),
        )
        .unwrap();
        corral_api::AgentId::new(state["id"]["value"].as_str().expect("the agent has an id"))
    }

    fn stdout_path(&self, container: &str) -> PathBuf {
        self.agent.sandbox(container).join("stdout")
    }

    /// Waits until the executor's stdout has `line`.
    fn executor_says(&self, container: &str, line: &str) -> String {
        let path = self.stdout_path(container);
        let deadline = Instant::now() + T;
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.lines().any(|l| l == line) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "the executor never said {line:?}; it said:\n{text}\nagent:\n{}",
                self.agent.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn cgroup_file(&self, container: &str, file: &str) -> String {
        let p = self
            .agent
            .cgroup()
            .join("containers")
            .join(container)
            .join(file);
        std::fs::read_to_string(&p)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Waits until the container's `file` reads `want`.
    fn cgroup_becomes(&self, container: &str, file: &str, want: &str) {
        let deadline = Instant::now() + T;
        loop {
            let got = self.cgroup_file(container, file);
            if got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{file} stayed {got:?}, not {want:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn a_pymesos_executor_runs_a_task_messages_flow_and_updates_are_acknowledged() {
    let mut c = cluster(&[], false);
    c.launch("e1", &[("t1", "wait")]);
    let running = c.update("t1", TaskState::Running);
    assert_eq!(running.source, Some(Source::Executor), "{running:?}");
    assert_eq!(running.executor_id, Some(ExecutorId::new("e1")));
    let cid = container_id(&running);
    let out = c.executor_says(&cid, "ACKNOWLEDGED t1");
    assert!(out.starts_with("REGISTERED e1\nLAUNCH t1 wait\n"), "{out}");
    // Framework → executor → framework.
    c.message("e1", "finish t1");
    let reply = c
        .until(|e| e.r#type == Some(EventType::Message))
        .pop()
        .unwrap();
    let m = reply.message.unwrap();
    assert_eq!(m.data, Bytes::from("finishing t1"));
    assert_eq!(m.executor_id, ExecutorId::new("e1"));
    let last = c.terminal("t1");
    assert_eq!(last.state, TaskState::Finished, "{last:?}");
    c.executor_says(&cid, "MESSAGE finish t1");
}

#[test]
fn two_tasks_on_one_executor_share_its_container_and_its_limits_follow_them() {
    let mut c = cluster(&[], false);
    let e = c.launch("shared", &[("a", "wait")]);
    let a = c.update("a", TaskState::Running);
    let cid = container_id(&a);
    // The executor's 64 MiB and a's 32.
    c.cgroup_becomes(&cid, "memory.max", &(96u64 << 20).to_string());
    let offer = c.offer();
    let b = task(&offer, &e, "b", "wait");
    c.sched
        .accept_launch(vec![offer.id.clone()], vec![b], Some(0.0));
    let b = c.update("b", TaskState::Running);
    assert_eq!(container_id(&b), cid, "both tasks run in one container");
    c.cgroup_becomes(&cid, "memory.max", &(128u64 << 20).to_string());
    // 1.2 cpus: 120 ms per 100 ms.
    c.cgroup_becomes(&cid, "cpu.max", "120000 100000");
    c.message("shared", "finish a");
    assert_eq!(c.terminal("a").state, TaskState::Finished);
    c.cgroup_becomes(&cid, "memory.max", &(96u64 << 20).to_string());
    c.cgroup_becomes(&cid, "cpu.max", "110000 100000");
    let out = c.executor_says(&cid, "LAUNCH b wait");
    assert_eq!(out.matches("REGISTERED").count(), 1, "one executor: {out}");
}

#[test]
fn an_executor_that_exits_with_a_running_task_fails_it() {
    let mut c = cluster(&[], false);
    c.launch("quitter", &[("q", "exit 3")]);
    // The task's end and the executor's FAILURE, in either order.
    let ended = |e: &Event| {
        e.update
            .as_ref()
            .is_some_and(|u| u.status.task_id.as_str() == "q" && u.status.state.is_terminal())
    };
    let is_failure = |e: &Event| e.r#type == Some(EventType::Failure);
    let mut events = c.until(|e| ended(e) || is_failure(e));
    let first_ended = events.last().is_some_and(ended);
    events.extend(c.until(|e| match first_ended {
        true => is_failure(e),
        false => ended(e),
    }));
    let last = events
        .iter()
        .find(|e| ended(e))
        .and_then(|e| e.update.as_ref())
        .map(|u| u.status.clone())
        .expect("the task's terminal update");
    let failure = events
        .iter()
        .find(|e| is_failure(e))
        .cloned()
        .expect("FAILURE");
    assert_eq!(last.state, TaskState::Failed, "{last:?}\n{}", c.agent.log());
    assert_eq!(last.reason, Some(Reason::ExecutorTerminated), "{last:?}");
    assert_eq!(last.source, Some(Source::Agent));
    let message = last.message.clone().unwrap_or_default();
    assert!(message.contains("exited with status 3"), "{message}");
    let f = failure.failure.unwrap();
    assert_eq!(f.executor_id, Some(ExecutorId::new("quitter")));
    assert_eq!(f.status, Some(3 << 8));
    let cid = container_id(&last);
    let cgroup = c.agent.cgroup().join("containers").join(&cid);
    let deadline = Instant::now() + T;
    while cgroup.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!cgroup.exists(), "the executor's container is removed");
}

#[test]
fn a_kill_reaches_the_executor_as_a_kill_event() {
    let mut c = cluster(&[], false);
    c.launch("k", &[("victim", "wait")]);
    let running = c.update("victim", TaskState::Running);
    c.sched.kill("victim", None);
    let last = c.terminal("victim");
    assert_eq!(last.state, TaskState::Killed, "{last:?}");
    // Sent by the executor itself, on the KILL event.
    assert_eq!(last.source, Some(Source::Executor), "{last:?}");
    c.executor_says(&container_id(&running), "KILL victim");
}

#[test]
fn an_executor_the_agent_cannot_start_fails_its_task_and_is_reported_exited() {
    let mut c = cluster(&[], false);
    let offer = c.offer();
    let mut e = executor(&offer, "nocmd", "unused");
    e.command = None;
    let t = task(&offer, &e, "n", "wait");
    c.sched
        .accept_launch(vec![offer.id.clone()], vec![t], Some(0.0));
    // The task's end and the executor's FAILURE, in either order.
    let (mut last, mut failure) = (None, None);
    while last.is_none() || failure.is_none() {
        let e = c
            .until(|e| {
                e.r#type == Some(EventType::Failure)
                    || e.update.as_ref().is_some_and(|u| {
                        u.status.task_id.as_str() == "n" && u.status.state.is_terminal()
                    })
            })
            .pop()
            .unwrap();
        match e.failure {
            Some(f) => failure = Some(f),
            None => last = e.update.map(|u| u.status),
        }
    }
    let last = last.unwrap();
    assert_eq!(last.state, TaskState::Failed, "{last:?}");
    assert_eq!(last.reason, Some(Reason::ContainerLaunchFailed), "{last:?}");
    let message = last.message.clone().unwrap_or_default();
    assert!(message.contains("has no command"), "{message}");
    // The agent's EXECUTOR_EXITED (status -1, no exit status) reaches the
    // scheduler as FAILURE; the master frees the executor's share on it
    // (master_executors.rs).
    let failure = failure.unwrap();
    assert_eq!(failure.executor_id, Some(ExecutorId::new("nocmd")));
    assert_eq!(failure.status, Some(-1));
}

#[test]
fn an_executor_that_never_subscribes_times_out_and_its_tasks_fail() {
    let mut c = cluster(&["--executor-registration-timeout", "3secs"], false);
    let offer = c.offer();
    let e = executor(&offer, "mute", "sleep 1000");
    let t = task(&offer, &e, "m", "wait");
    c.sched
        .accept_launch(vec![offer.id.clone()], vec![t], Some(0.0));
    let last = c.terminal("m");
    assert_eq!(last.state, TaskState::Failed, "{last:?}");
    assert_eq!(
        last.reason,
        Some(Reason::ExecutorRegistrationTimeout),
        "{last:?}"
    );
    assert_eq!(
        last.message.as_deref(),
        Some("Executor did not register within 3secs")
    );
    let cgroup = c
        .agent
        .cgroup()
        .join("containers")
        .join(container_id(&last));
    let deadline = Instant::now() + T;
    while cgroup.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!cgroup.exists(), "the executor's container is destroyed");
}

#[test]
fn shutdown_sends_shutdown_and_its_running_tasks_are_killed() {
    let mut c = cluster(&[], false);
    c.launch("down", &[("d", "wait")]);
    let running = c.update("d", TaskState::Running);
    let agent = c.agent_id();
    let call = Call::shutdown(c.sched.framework_id(), ExecutorId::new("down"), agent);
    let (status, body) = c.sched.call(call);
    assert_eq!(status, 202, "{body}");
    let last = c.terminal("d");
    assert_eq!(last.state, TaskState::Killed, "{last:?}");
    c.executor_says(&container_id(&running), "SHUTDOWN");
}

#[test]
fn an_executor_survives_an_agent_crash_subscribes_again_and_its_task_ends_once() {
    // pymesos backs off up to 15 s between attempts.
    let mut c = cluster(&["--executor-reregistration-timeout", "2mins"], true);
    c.launch("phoenix", &[("p", "wait")]);
    let running = c.update("p", TaskState::Running);
    let cid = container_id(&running);
    c.executor_says(&cid, "ACKNOWLEDGED p");
    c.agent.kill();
    c.executor_says(&cid, "DISCONNECTED");
    c.agent.restart();
    c.executor_says(&cid, "REREGISTERED");
    // The master drops messages for an agent it does not see connected
    // yet (best effort, as Mesos): resend until the executor has it.
    loop {
        c.message("phoenix", "finish p");
        let text = std::fs::read_to_string(c.stdout_path(&cid)).unwrap_or_default();
        if text.lines().any(|l| l == "MESSAGE finish p") {
            break;
        }
        let got = c.sched.next_event(Duration::from_secs(5));
        if let Some(u) = got.as_ref().and_then(|e| e.update.as_ref()) {
            // RUNNING again, the same update, when the framework's
            // acknowledgement had not reached the agent before it died
            // (updates are at least once).
            if u.status.state == TaskState::Running {
                assert_eq!(u.status.uuid, running.uuid, "{u:?}");
                continue;
            }
            assert_eq!(u.status.state, TaskState::Finished, "{u:?}");
            return finished_once(&mut c);
        }
    }
    let last = c.terminal("p");
    assert_eq!(last.state, TaskState::Finished, "{last:?}");
    finished_once(&mut c);
}

/// Past the agent's first resend (10 s): nothing more about task p.
fn finished_once(c: &mut Cluster) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while let Some(e) = c
        .sched
        .next_event(deadline.saturating_duration_since(Instant::now()))
    {
        let again = e
            .update
            .as_ref()
            .is_some_and(|u| u.status.task_id == TaskId::new("p"));
        assert!(!again, "a second update of the task: {e:?}");
    }
}

/// LAUNCH_GROUP of `(id, command)` tasks on the DEFAULT executor `eid`.
fn launch_group(c: &mut Cluster, eid: &str, tasks: &[(&str, &str)]) {
    launch_group_with_disk(c, eid, tasks, None);
}

/// `resources` plus `mib` of the offer's disk.
fn with_disk(offer: &Offer, mut resources: Vec<Resource>, mib: f64) -> Vec<Resource> {
    resources.push(corral_tests::scheduler::disk_from(offer, mib));
    resources
}

/// As [`launch_group`]; with `disk`, the executor and each task hold that
/// many MiB of disk.
fn launch_group_with_disk(c: &mut Cluster, eid: &str, tasks: &[(&str, &str)], disk: Option<f64>) {
    // An offer with room for all of them (a small one may come back from
    // an earlier group's ended tasks).
    let n = tasks.len() as f64 + 1.0;
    let offer = loop {
        let o = c.offer();
        let sum = |name| corral_api::v1::scalar_sum(&o.resources, name);
        if sum("cpus") >= 0.1 * n && sum("mem") >= 32.0 * n {
            break o;
        }
    };
    let resources = |id, cmd| {
        let r = task_for(&offer, id, cmd, 0.1, 32.0).resources;
        match disk {
            Some(mib) => with_disk(&offer, r, mib),
            None => r,
        }
    };
    let e = ExecutorInfo {
        r#type: Some(ExecutorType::Default),
        executor_id: ExecutorId::new(eid),
        resources: resources("x", "true"),
        ..ExecutorInfo::default()
    };
    let tasks = tasks
        .iter()
        .map(|(id, cmd)| TaskInfo {
            resources: resources(id, cmd),
            ..task_for(&offer, id, cmd, 0.1, 32.0)
        })
        .collect();
    let op = OfferOperation::launch_group(e, TaskGroupInfo { tasks });
    c.sched.accept(vec![offer.id.clone()], vec![op], Some(0.0));
}

#[test]
fn the_default_executor_runs_a_task_group_and_a_failure_kills_the_rest() {
    let mut c = cluster(&[], false);
    launch_group(&mut c, "g1", &[("a", "echo a"), ("b", "echo b")]);
    for id in ["a", "b"] {
        let last = c.terminal(id);
        assert_eq!(
            last.state,
            TaskState::Finished,
            "{last:?}\n{}",
            c.agent.log()
        );
        assert_eq!(last.source, Some(Source::Executor));
        let out = c
            .agent
            .sandbox(&container_id(&last))
            .join("tasks")
            .join(id)
            .join("stdout");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("{id}\n"));
    }
    launch_group(&mut c, "g2", &[("bad", "exit 4"), ("long", "sleep 1000")]);
    let bad = c.terminal("bad");
    assert_eq!(bad.state, TaskState::Failed, "{bad:?}");
    assert_eq!(bad.message.as_deref(), Some("Command exited with status 4"));
    let long = c.terminal("long");
    assert_eq!(long.state, TaskState::Killed, "{long:?}");
    assert_eq!(long.source, Some(Source::Executor));
    // All ended: the executor exits and its container goes.
    let cgroup = c
        .agent
        .cgroup()
        .join("containers")
        .join(container_id(&long));
    let deadline = Instant::now() + T;
    while cgroup.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !cgroup.exists(),
        "the default executor exited\n{}",
        c.agent.log()
    );
}

#[test]
fn an_executor_over_its_disk_quota_fails_all_its_tasks_with_the_disk_limitation() {
    let mut c = cluster(&["--container-disk-watch-interval", "300ms"], false);
    // Quota: 2 MiB for the executor and each of its two tasks; one task
    // writes 8 MiB in the executor's sandbox.
    let fill = "dd if=/dev/zero of=big bs=1M count=8; sleep 1000";
    launch_group_with_disk(
        &mut c,
        "du",
        &[("fill", fill), ("idle", "sleep 1000")],
        Some(2.0),
    );
    // Both end, in either order.
    let mut ended = std::collections::BTreeMap::new();
    while ended.len() < 2 {
        let e = c.until(|e| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.state.is_terminal())
        });
        let s = e
            .last()
            .and_then(|e| e.update.as_ref())
            .unwrap()
            .status
            .clone();
        ended.insert(s.task_id.as_str().to_string(), s);
    }
    for id in ["fill", "idle"] {
        let last = ended[id].clone();
        assert_eq!(last.state, TaskState::Failed, "{last:?}\n{}", c.agent.log());
        assert_eq!(
            last.reason,
            Some(Reason::ContainerLimitationDisk),
            "{last:?}"
        );
        assert_eq!(last.source, Some(Source::Agent));
        let message = last.message.clone().unwrap_or_default();
        assert!(message.contains("exceeds quota (6.0 MiB)"), "{message}");
    }
}

#[test]
fn the_executor_api_refuses_malformed_calls_and_strangers() {
    let mut c = cluster(&[], false);
    c.launch("e1", &[("t1", "wait")]);
    let running = c.update("t1", TaskState::Running);
    let fw = c.sched.framework_id();
    let mut http = corral_tests::http::Client::new(&c.agent.url());
    let json = [("Content-Type", "application/json")];
    let mut post = |headers: &[(&str, &str)], body: &str| {
        let r = http
            .post("/api/v1/executor", headers, body.as_bytes())
            .unwrap();
        (r.status, r.text())
    };
    let (status, text) = post(&json, "{not json");
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("failed to parse the call"), "{text}");
    let (status, text) = post(&[("Content-Type", "text/plain")], "{}");
    assert_eq!(status, 415, "{text}");
    let (status, text) = post(
        &json,
        &format!(r#"{{"type":"SUBSCRIBE","framework_id":{{"value":"{fw}"}},"subscribe":{{}}}}"#),
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("'executor_id'"), "{text}");
    let update = format!(
        r#"{{"type":"UPDATE","executor_id":{{"value":"e1"}},"framework_id":{{"value":"{fw}"}},
            "update":{{"status":{{"task_id":{{"value":"t1"}},"state":"TASK_STAGING",
            "source":"SOURCE_EXECUTOR","uuid":"AAECAwQFBgcICQoLDA0ODw=="}}}}}}"#
    );
    let (status, text) = post(&json, &update);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("TASK_STAGING"), "{text}");
    let stranger = format!(
        r#"{{"type":"MESSAGE","executor_id":{{"value":"nobody"}},"framework_id":{{"value":"{fw}"}},"message":{{"data":"aGk="}}}}"#
    );
    let (status, text) = post(&json, &stranger);
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("'nobody'") && text.contains("not running"),
        "{text}"
    );
    let other_fw = r#"{"type":"MESSAGE","executor_id":{"value":"e1"},"framework_id":{"value":"other"},"message":{"data":"aGk="}}"#;
    let (status, text) = post(&json, other_fw);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("framework 'other'"), "{text}");
    // The real executor was left alone: its task still finishes.
    c.message("e1", "finish t1");
    assert_eq!(c.terminal("t1").state, TaskState::Finished);
    c.executor_says(&container_id(&running), "MESSAGE finish t1");
}
