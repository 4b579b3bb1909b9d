//! Container usage on the master: a simulated agent sends usage reports on
//! its link; the master's operator API answers GET_CONTAINERS for the whole
//! cluster from the latest report of each agent, and forgets an agent's
//! report once it is unreachable. Host tests over a real `corral master`.
//! (The real agent's reports: `vm_agent.rs`.)

use corral_api::agent_link::{AgentCall, ContainerUsage};
use corral_api::v1::ResourceStatistics;
use corral_api::{ExecutorId, FrameworkId, TaskId};
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::raw_post;
use corral_tests::simagent::{SimAgent, SimOptions};
use serde_json::Value;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn containers(m: &MasterProcess) -> Vec<Value> {
    let headers = [("Content-Type", "application/json")];
    let body = br#"{"type":"GET_CONTAINERS"}"#;
    let (status, _, text) = raw_post(&m.url(), "/api/v1", &headers, body);
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["type"], "GET_CONTAINERS", "{text}");
    v["get_containers"]["containers"]
        .as_array()
        .unwrap_or_else(|| panic!("no containers list: {text}"))
        .clone()
}

fn until(m: &MasterProcess, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + T;
    loop {
        let list = containers(m);
        if pred(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "{what}; last: {list:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn usage(task: &str, user_secs: f64) -> ContainerUsage {
    ContainerUsage {
        framework_id: FrameworkId::new("fw-1"),
        executor_id: ExecutorId::new(task),
        container_id: format!("c-{task}"),
        task_ids: vec![TaskId::new(task)],
        statistics: ResourceStatistics {
            timestamp: 1.0,
            cpus_limit: Some(0.5),
            cpus_user_time_secs: Some(user_secs),
            mem_limit_bytes: Some(64 << 20),
            ..ResourceStatistics::default()
        },
    }
}

#[test]
fn the_master_serves_each_agents_latest_usage_report() {
    let m = MasterProcess::start(&[]);
    let a = SimAgent::start(&m.url(), SimOptions::default());
    assert!(containers(&m).is_empty());

    a.send_call(&AgentCall::Usage {
        containers: vec![usage("t1", 1.5), usage("t2", 0.25)],
    });
    let list = until(&m, "two containers", |l| l.len() == 2);
    let t1 = list
        .iter()
        .find(|c| c["task_ids"][0]["value"] == "t1")
        .unwrap();
    assert_eq!(t1["agent_id"]["value"], a.agent_id().as_str());
    assert_eq!(t1["framework_id"]["value"], "fw-1");
    assert_eq!(t1["executor_id"]["value"], "t1");
    assert_eq!(t1["container_id"]["value"], "c-t1");
    assert_eq!(t1["resource_statistics"]["cpus_user_time_secs"], 1.5);
    assert_eq!(t1["resource_statistics"]["mem_limit_bytes"], 64 << 20);

    // A report replaces the last one: t2 ended, t1 used more.
    a.send_call(&AgentCall::Usage {
        containers: vec![usage("t1", 3.0)],
    });
    let list = until(&m, "t1 alone, updated", |l| {
        l.len() == 1 && l[0]["resource_statistics"]["cpus_user_time_secs"] == 3.0
    });
    assert_eq!(list[0]["task_ids"][0]["value"], "t1");
    assert!(a.errors().is_empty(), "{:?}", a.errors());
}

#[test]
fn an_unreachable_agents_usage_is_forgotten() {
    let m = MasterProcess::start(&[
        "--agent-ping-timeout",
        "200ms",
        "--max-agent-ping-timeouts",
        "2",
    ]);
    let a = SimAgent::start(&m.url(), SimOptions::default());
    a.send_call(&AgentCall::Usage {
        containers: vec![usage("t1", 1.0)],
    });
    until(&m, "the report", |l| l.len() == 1);
    a.pause_heartbeats(true);
    a.disconnect();
    until(&m, "the report dropped", <[Value]>::is_empty);
}
