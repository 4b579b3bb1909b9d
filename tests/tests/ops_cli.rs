//! The operator commands as real processes against a real `corral master`
//! with a simulated agent and a scheduler: `corral agents`, `frameworks`,
//! `tasks` (tables and `--json`), `corral kill` (the framework sees
//! TASK_KILLED; unknown and ambiguous ids refused), `corral top` (rates from
//! the agent's usage reports) and the operator API's TEARDOWN. Host tests.

use corral_api::agent_link::{AgentCall, ContainerUsage};
use corral_api::v1::{ResourceStatistics, TaskState};
use corral_api::{ExecutorId, FrameworkId, TaskId};
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{Scheduler, framework, raw_post, task_for};
use corral_tests::simagent::{Behaviour, SimAgent, SimOptions};
use serde_json::Value;
use std::process::{Command, Output};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn corral(args: &[&str]) -> Output {
    Command::new(corral_tests::oci::corral_bin())
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = corral(args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "corral {args:?}: {:?}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn json(args: &[&str]) -> Vec<Value> {
    let text = ok(args);
    serde_json::from_str::<Value>(&text)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
        .as_array()
        .unwrap()
        .clone()
}

struct Cluster {
    sched: Scheduler,
    agent: SimAgent,
    master: MasterProcess,
}

fn cluster() -> Cluster {
    let master = MasterProcess::start(&["--allocation-interval", "50ms"]);
    let agent = SimAgent::start(
        &master.url(),
        SimOptions {
            behaviour: Behaviour::RunUntilKilled,
            ..SimOptions::default()
        },
    );
    let mut sched = Scheduler::subscribe(&master.url(), framework("ops-fw"));
    sched.set_auto_acknowledge(true);
    Cluster {
        sched,
        agent,
        master,
    }
}

impl Cluster {
    fn launch(&mut self, id: &str) {
        let offer = self.sched.next_offers(T).remove(0);
        let task = task_for(&offer, id, "sleep 1000", 0.5, 64.0);
        self.sched
            .accept_launch(vec![offer.id.clone()], vec![task], None);
        self.sched.expect_update(id, TaskState::Running, T);
    }
}

#[test]
fn agents_frameworks_and_tasks_are_listed_as_tables_and_json() {
    let mut c = cluster();
    c.launch("web-1");
    let url = c.master.url();
    let m = ["--master", url.as_str()];

    let tasks = json(&["tasks", "--json", m[0], m[1]]);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["id"], "web-1");
    assert_eq!(tasks[0]["state"], "TASK_RUNNING");
    assert_eq!(tasks[0]["framework"], "ops-fw");
    assert_eq!(tasks[0]["agent"], c.agent.hostname());
    assert_eq!(tasks[0]["cpus"], 0.5);
    let table = ok(&["tasks", m[0], m[1]]);
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("ID     STATE"), "{table}");
    assert!(
        lines.next().unwrap().starts_with("web-1  TASK_RUNNING"),
        "{table}"
    );

    let agents = json(&["agents", "--json", m[0], m[1]]);
    assert_eq!(agents[0]["id"], c.agent.agent_id().as_str());
    assert_eq!(agents[0]["tasks"], 1);
    assert_eq!(agents[0]["cpus_used"], 0.5);
    assert_eq!(agents[0]["active"], true);
    let table = ok(&["agents", m[0], m[1]]);
    assert!(table.contains(c.agent.hostname()), "{table}");

    let fws = json(&["frameworks", "--json", m[0], m[1]]);
    assert_eq!(fws[0]["id"], c.sched.framework_id().as_str());
    assert_eq!(fws[0]["name"], "ops-fw");
    assert_eq!(fws[0]["tasks"], 1);
    assert!(ok(&["frameworks", m[0], m[1]]).contains("ops-fw"));
}

#[test]
fn kill_ends_the_task_through_its_framework_and_refuses_unknown_ids() {
    let mut c = cluster();
    c.launch("victim");
    let url = c.master.url();
    let out = ok(&["kill", "--master", &url, "victim"]);
    assert!(out.contains("victim"), "{out}");
    c.sched.expect_update("victim", TaskState::Killed, T);

    let out = corral(&["kill", "--master", &url, "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("404") && err.contains("no task 'nosuch'"),
        "{err}"
    );

    let out = corral(&["kill", "--master", "http://127.0.0.1:1", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:1"));
}

#[test]
fn a_task_id_used_by_two_frameworks_needs_the_framework_named() {
    let mut c = cluster();
    c.launch("same");
    let mut other = Scheduler::subscribe(&c.master.url(), framework("other-fw"));
    other.set_auto_acknowledge(true);
    let offer = other.next_offers(T).remove(0);
    let task = task_for(&offer, "same", "sleep 1000", 0.5, 64.0);
    other.accept_launch(vec![offer.id.clone()], vec![task], None);
    other.expect_update("same", TaskState::Running, T);

    let url = c.master.url();
    let out = corral(&["kill", "--master", &url, "same"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("name one with framework_id"), "{err}");
    let fw = other.framework_id();
    ok(&["kill", "--master", &url, "--framework", fw.as_str(), "same"]);
    other.expect_update("same", TaskState::Killed, T);
    // The first framework's task is untouched.
    let tasks = json(&["tasks", "--json", "--master", &url]);
    let states: Vec<_> = tasks
        .iter()
        .map(|t| (&t["framework"], &t["state"]))
        .collect();
    assert!(
        states.contains(&(&Value::from("ops-fw"), &Value::from("TASK_RUNNING"))),
        "{tasks:?}"
    );
}

#[test]
fn top_shows_cpu_and_io_rates_from_the_agents_usage_reports() {
    let c = cluster();
    // Reports as an agent would send them: every 0.1 s of report time the
    // container used 0.05 s of CPU (50%) and wrote 100 KiB.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let url = c.master.url();
    let text = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let usage = ContainerUsage {
                    framework_id: FrameworkId::new("f"),
                    executor_id: ExecutorId::new("busy"),
                    container_id: "c-busy".into(),
                    task_ids: vec![TaskId::new("busy")],
                    statistics: ResourceStatistics {
                        timestamp: i as f64 * 0.1,
                        cpus_user_time_secs: Some(i as f64 * 0.05),
                        io_write_bytes: Some(i * 102_400),
                        mem_total_bytes: Some(32 << 20),
                        cpus_limit: Some(1.0),
                        ..ResourceStatistics::default()
                    },
                };
                c.agent.send_call(&AgentCall::Usage {
                    containers: vec![usage],
                });
                std::thread::sleep(Duration::from_millis(30));
            }
        });
        let text = ok(&[
            "top",
            "--master",
            &url,
            "--interval",
            "0.5",
            "-n",
            "2",
            "--json",
        ]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        text
    });
    let frames: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(frames.len(), 2, "{text}");
    for frame in &frames {
        let row = &frame[0];
        assert_eq!(row["tasks"][0], "busy", "{text}");
        let cpu = row["cpu_percent"].as_f64().unwrap();
        assert!((cpu - 50.0).abs() < 1e-6, "{text}");
        assert!((row["io_write_bytes_per_sec"].as_f64().unwrap() - 1_024_000.0).abs() < 1e-3);
    }
    let table = ok(&["top", "--master", &url, "--interval", "0.2", "-n", "1"]);
    assert!(table.starts_with("TASK"), "{table}");
    let out = corral(&["top", "--master", &url, "--interval", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--interval"));
}

#[test]
fn teardown_through_the_operator_api_removes_the_framework() {
    let mut c = cluster();
    c.launch("doomed");
    let headers = [("Content-Type", "application/json")];
    let fw = c.sched.framework_id();
    let body = format!(r#"{{"type":"TEARDOWN","teardown":{{"framework_id":{{"value":"{fw}"}}}}}}"#);
    let (status, _, text) = raw_post(&c.master.url(), "/api/v1", &headers, body.as_bytes());
    assert_eq!(status, 200, "{text}");
    c.agent.wait_for("the framework shut down", T, |a| {
        a.task_state("doomed") == Some(TaskState::Killed)
    });
    assert!(json(&["frameworks", "--json", "--master", &c.master.url()]).is_empty());
    let (status, _, text) = raw_post(&c.master.url(), "/api/v1", &headers, body.as_bytes());
    assert_eq!(status, 404, "{text}");
    let (status, _, text) = raw_post(
        &c.master.url(),
        "/api/v1",
        &headers,
        br#"{"type":"KILL_TASK","kill_task":{}}"#,
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("kill_task.task_id"), "{text}");
}
