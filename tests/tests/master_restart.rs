//! A master killed with SIGKILL and started again on the same work dir
//! recovers frameworks, agents and tasks from its registry: the operator
//! API shows them before anyone reconnects, the framework fails over to the
//! new master with its id, the agent re-subscribes with its id and tasks,
//! and the task is still there to reconcile and kill. Host test.

use corral_api::v1::{FrameworkCapability, FrameworkCapabilityType, TaskState};
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{Scheduler, framework, raw_post, task_for};
use corral_tests::simagent::{Behaviour, SimAgent, SimOptions};
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn operator(m: &MasterProcess, call: &str) -> Value {
    let body = format!(r#"{{"type":"{call}"}}"#);
    let (status, _, text) = raw_post(
        &m.url(),
        "/api/v1",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{call}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{call}: {e}: {text}"))
}

#[test]
fn a_restarted_master_recovers_its_state_from_the_registry() {
    let mut m = MasterProcess::start(&["--allocation-interval", "50ms"]);
    let agent = SimAgent::start(
        &m.url(),
        SimOptions {
            behaviour: Behaviour::RunUntilKilled,
            ..SimOptions::default()
        },
    );
    let mut info = framework("restart");
    info.failover_timeout = 300.0;
    info.capabilities.push(FrameworkCapability {
        r#type: Some(FrameworkCapabilityType::PartitionAware),
    });
    let mut s = Scheduler::subscribe(&m.url(), info);
    s.set_auto_acknowledge(true);
    let offer = s.next_offers(T).remove(0);
    s.accept_launch(
        vec![offer.id.clone()],
        vec![task_for(&offer, "r1", "sleep 1000", 0.5, 64.0)],
        None,
    );
    s.expect_update("r1", TaskState::Running, T);
    agent.wait_for("updates acknowledged", T, |a| a.pending_updates() == 0);
    let framework_id = s.framework_id();
    let again = s.info();

    // Task changes reach the registry by group commit, without the master
    // waiting (docs/master.md): give the last one a moment before the crash.
    std::thread::sleep(Duration::from_millis(300));
    m.kill();
    drop(s);
    m.restart();

    let tasks = operator(&m, "GET_TASKS");
    let listed = tasks["get_tasks"]["tasks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        listed
            .iter()
            .any(|t| t["task_id"]["value"] == "r1" && t["state"] == "TASK_RUNNING"),
        "the task is recovered: {tasks}"
    );
    let fws = operator(&m, "GET_FRAMEWORKS");
    assert!(
        fws.to_string().contains(framework_id.as_str()),
        "the framework is recovered: {fws}"
    );
    let agents = operator(&m, "GET_AGENTS");
    assert!(
        agents.to_string().contains(agent.agent_id().as_str()),
        "the agent is recovered: {agents}"
    );

    let mut s2 = Scheduler::resubscribe(&m.url(), again);
    s2.set_auto_acknowledge(true);
    assert_eq!(s2.framework_id(), framework_id);
    agent.wait_for("the agent back on the new master", T, |a| {
        a.subscriptions() >= 2 && a.is_connected()
    });
    s2.reconcile(vec![]);
    let status = s2.expect_update("r1", TaskState::Running, T);
    assert_eq!(status.agent_id, Some(agent.agent_id()));
    s2.kill("r1", Some(agent.agent_id()));
    s2.expect_update("r1", TaskState::Killed, T);
}
