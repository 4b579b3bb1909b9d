//! The master over real HTTP: a `corral master` process, a scheduler client
//! speaking Mesos' v1 scheduler API and simulated agents on corral's agent
//! link. Offers, launch, status updates with acknowledgements, decline
//! filters, suppress/revive, offer timeouts, kill, reconciliation,
//! framework failover and agent loss. Host tests: no root, no VM.

use corral_api::scheduler::EventType;
use corral_api::v1::{FrameworkCapability, FrameworkCapabilityType, TaskState};
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::Scheduler;
use corral_tests::scheduler::{framework, task_for};
use corral_tests::simagent::{Behaviour, SimAgent, SimOptions};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn master(extra: &[&str]) -> MasterProcess {
    let mut args = vec!["--allocation-interval", "50ms"];
    args.extend_from_slice(extra);
    MasterProcess::start(&args)
}

/// A scheduler that acknowledges every update as it reads it.
fn subscribe(url: &str, info: corral_api::v1::FrameworkInfo) -> Scheduler {
    let mut s = Scheduler::subscribe(url, info);
    s.set_auto_acknowledge(true);
    s
}

/// An agent whose tasks run until killed.
fn running_agent(m: &MasterProcess, auto_reconnect: bool) -> SimAgent {
    SimAgent::start(
        &m.url(),
        SimOptions {
            behaviour: Behaviour::RunUntilKilled,
            auto_reconnect,
            ..SimOptions::default()
        },
    )
}

/// Launches task `id` (`sleep 1000`, 0.5 cpus, 64 MB) on the next offer and
/// waits until it runs.
fn launch_running(s: &mut Scheduler, id: &str) {
    let offer = s.next_offers(T).remove(0);
    s.accept_launch(
        vec![offer.id.clone()],
        vec![task_for(&offer, id, "sleep 1000", 0.5, 64.0)],
        None,
    );
    s.expect_update(id, TaskState::Running, T);
}

/// The events matching `pred` that arrive within `window` (to assert that
/// none does).
fn within(
    s: &mut Scheduler,
    window: Duration,
    pred: impl Fn(&corral_api::scheduler::Event) -> bool,
) -> Vec<corral_api::scheduler::Event> {
    let deadline = std::time::Instant::now() + window;
    let mut out = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match s.next_event(left) {
            Some(e) if pred(&e) => out.push(e),
            Some(_) => {}
            None => break,
        }
    }
    out
}

fn partition_aware(name: &str) -> corral_api::v1::FrameworkInfo {
    let mut f = framework(name);
    f.capabilities.push(FrameworkCapability {
        r#type: Some(FrameworkCapabilityType::PartitionAware),
    });
    f
}

#[test]
fn a_launched_task_reports_starting_running_finished_each_acknowledged() {
    let m = master(&[]);
    let agent = SimAgent::start(&m.url(), SimOptions::default());
    let mut s = subscribe(&m.url(), framework("launch"));
    let hello = s.subscribed().subscribed.clone().unwrap();
    assert_eq!(hello.heartbeat_interval_seconds, Some(15.0));
    let offers = s.next_offers(T);
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert_eq!(offers[0].agent_id, agent.agent_id());
    let task = task_for(&offers[0], "t1", "echo hi", 1.0, 128.0);
    s.accept_launch(vec![offers[0].id.clone()], vec![task], None);
    for state in [TaskState::Starting, TaskState::Running, TaskState::Finished] {
        let status = s.expect_update("t1", state, T);
        assert!(status.uuid.is_some(), "agent updates carry a uuid");
        assert_eq!(status.agent_id, Some(agent.agent_id()));
    }
    agent.wait_for("three acknowledgements", T, |a| a.acked().len() == 3);
    assert_eq!(agent.launched().len(), 1);
    // TASK_FINISHED exactly once: nothing more for t1 after the ack.
    let more = within(&mut s, Duration::from_millis(700), |e| e.update.is_some());
    assert!(more.is_empty(), "{more:?}");
}

#[test]
fn declined_offers_stay_away_for_the_filter_and_revive_brings_them_back() {
    let m = master(&[]);
    let _agent = SimAgent::start(&m.url(), SimOptions::default());
    let mut s = subscribe(&m.url(), framework("decline"));
    let offers = s.next_offers(T);
    s.decline(offers.iter().map(|o| o.id.clone()).collect(), Some(60.0));
    let quiet = within(&mut s, Duration::from_millis(800), |e| e.offers.is_some());
    assert!(quiet.is_empty(), "filtered for 60 s: {quiet:?}");
    s.revive(&[]);
    let again = s.next_offers(T);
    assert_eq!(again.len(), 1);
    // A short filter lapses by itself.
    s.decline(vec![again[0].id.clone()], Some(0.5));
    let back = s.next_offers(T);
    assert_eq!(back[0].agent_id, again[0].agent_id);
}

#[test]
fn suppress_stops_offers_until_revive() {
    let m = master(&[]);
    let _agent = SimAgent::start(&m.url(), SimOptions::default());
    let mut s = subscribe(&m.url(), framework("suppress"));
    let offers = s.next_offers(T);
    s.suppress(&[]);
    s.decline(vec![offers[0].id.clone()], Some(0.0));
    let quiet = within(&mut s, Duration::from_millis(800), |e| e.offers.is_some());
    assert!(quiet.is_empty(), "suppressed: {quiet:?}");
    s.revive(&[]);
    assert_eq!(s.next_offers(T).len(), 1);
}

#[test]
fn unused_offers_are_rescinded_after_the_offer_timeout() {
    let m = master(&["--offer-timeout", "300ms"]);
    let _agent = SimAgent::start(&m.url(), SimOptions::default());
    let mut s = subscribe(&m.url(), framework("timeout"));
    let offer = s.next_offers(T).remove(0);
    let rescind = s.expect(EventType::Rescind, T);
    assert_eq!(rescind.rescind.unwrap().offer_id, offer.id);
    // The resources come back in a new offer.
    assert_eq!(s.next_offers(T)[0].agent_id, offer.agent_id);
}

#[test]
fn kill_ends_a_running_task_killed_and_reconcile_reports_the_truth() {
    let m = master(&[]);
    let agent = running_agent(&m, true);
    let mut s = subscribe(&m.url(), partition_aware("kill"));
    launch_running(&mut s, "k1");
    // Explicit reconciliation: known and unknown tasks.
    s.reconcile(vec![
        ("k1".into(), None),
        ("ghost".into(), Some(agent.agent_id())),
    ]);
    let running = s.expect_update("k1", TaskState::Running, T);
    assert_eq!(running.reason, Some(corral_api::v1::Reason::Reconciliation));
    assert!(running.uuid.is_none(), "reconciliation updates need no ack");
    s.expect_update("ghost", TaskState::Unknown, T);
    // Implicit reconciliation: every task of the framework.
    s.reconcile(vec![]);
    s.expect_update("k1", TaskState::Running, T);
    s.kill("k1", Some(agent.agent_id()));
    s.expect_update("k1", TaskState::Killed, T);
    // Killing what does not exist is answered, not ignored.
    s.kill("nope", None);
    s.expect_update("nope", TaskState::Unknown, T);
}

#[test]
fn invalid_tasks_fail_with_task_error_and_bad_offers_with_task_dropped() {
    let m = master(&[]);
    let _agent = SimAgent::start(&m.url(), SimOptions::default());
    let mut s = subscribe(&m.url(), partition_aware("invalid"));
    let offer = s.next_offers(T).remove(0);
    let greedy = task_for(&offer, "big", "true", 4.0, 4096.0);
    let mut too_big = greedy.clone();
    too_big.task_id = "too-big".into();
    // Two tasks that each fit but not together: the second is refused.
    s.accept_launch(vec![offer.id.clone()], vec![greedy, too_big], None);
    let err = s.expect_update("too-big", TaskState::Error, T);
    assert_eq!(err.reason, Some(corral_api::v1::Reason::TaskInvalid));
    assert!(
        err.message.unwrap().contains("more than"),
        "names the problem"
    );
    s.expect_update("big", TaskState::Running, T);
    // The same offer again is gone: the task is dropped.
    let again = task_for(&offer, "late", "true", 0.1, 10.0);
    s.accept_launch(vec![offer.id.clone()], vec![again], None);
    let dropped = s.expect_update("late", TaskState::Dropped, T);
    assert_eq!(dropped.reason, Some(corral_api::v1::Reason::InvalidOffers));
}

#[test]
fn a_framework_fails_over_within_its_timeout_and_keeps_its_tasks() {
    let m = master(&[]);
    let agent = running_agent(&m, true);
    let mut info = partition_aware("failover");
    info.failover_timeout = 60.0;
    let mut s = subscribe(&m.url(), info);
    launch_running(&mut s, "f1");
    let id = s.framework_id();
    let mut again = s.info();
    s.close();
    std::thread::sleep(Duration::from_millis(300));
    again.id = Some(id.clone());
    let mut s2 = {
        let mut s = Scheduler::resubscribe(&m.url(), again);
        s.set_auto_acknowledge(true);
        s
    };
    assert_eq!(s2.framework_id(), id, "same framework after failover");
    s2.reconcile(vec![]);
    s2.expect_update("f1", TaskState::Running, T);
    assert_eq!(
        agent.task_state("f1"),
        Some(TaskState::Running),
        "not killed"
    );
}

#[test]
fn a_framework_past_its_failover_timeout_has_its_tasks_killed() {
    let m = master(&[]);
    let agent = running_agent(&m, true);
    let mut info = framework("expire");
    info.failover_timeout = 0.3;
    let mut s = subscribe(&m.url(), info);
    launch_running(&mut s, "e1");
    s.close();
    agent.wait_for("the task killed", T, |a| {
        a.task_state("e1") == Some(TaskState::Killed)
    });
}

#[test]
fn a_silent_agent_becomes_unreachable_and_is_reconciled_when_it_returns() {
    let m = master(&[
        "--agent-ping-timeout",
        "200ms",
        "--max-agent-ping-timeouts",
        "2",
    ]);
    let agent = running_agent(&m, false);
    let mut s = subscribe(&m.url(), partition_aware("partition"));
    launch_running(&mut s, "p1");
    agent.wait_for("updates acknowledged", T, |a| a.pending_updates() == 0);
    agent.pause_heartbeats(true);
    agent.disconnect();
    let lost = s.expect_update("p1", TaskState::Unreachable, T);
    assert!(lost.unreachable_time.is_some());
    agent.pause_heartbeats(false);
    agent.reconnect();
    let back = s.expect_update("p1", TaskState::Running, T);
    assert_eq!(back.reason, Some(corral_api::v1::Reason::AgentReregistered));
}

#[test]
fn framework_messages_reach_the_agent_and_unknown_agents_are_refused() {
    use corral_api::agent_link::AgentEvent;
    use corral_api::scheduler::Call;
    let m = master(&[]);
    let agent = SimAgent::start(&m.url(), SimOptions::default());
    let s = subscribe(&m.url(), framework("message"));
    let data = corral_api::Bytes(b"hello executor".to_vec());
    let call = |agent_id| {
        Call::message(
            s.framework_id(),
            agent_id,
            corral_api::ExecutorId::new("e1"),
            data.clone(),
        )
    };
    let (status, body) = s.call(call(agent.agent_id()));
    assert_eq!(status, 202, "{body}");
    agent.wait_for("the message", T, |a| {
        a.events().iter().any(|e| {
            matches!(e, AgentEvent::FrameworkMessage { data: d, executor_id, .. }
                if d.0 == b"hello executor" && executor_id.as_str() == "e1")
        })
    });
    let (status, body) = s.call(call(corral_api::AgentId::new("nowhere")));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("nowhere"), "{body}");
}

#[test]
fn tasks_reported_lost_are_killed_when_their_agent_returns() {
    let m = master(&[
        "--agent-ping-timeout",
        "200ms",
        "--max-agent-ping-timeouts",
        "2",
    ]);
    let agent = running_agent(&m, false);
    // Not partition-aware: an unreachable agent's tasks are TASK_LOST.
    let mut s = subscribe(&m.url(), framework("lost"));
    launch_running(&mut s, "l1");
    agent.wait_for("updates acknowledged", T, |a| a.pending_updates() == 0);
    agent.pause_heartbeats(true);
    agent.disconnect();
    s.expect_update("l1", TaskState::Lost, T);
    agent.pause_heartbeats(false);
    agent.reconnect();
    agent.wait_for("the lost task killed", T, |a| {
        a.task_state("l1") == Some(TaskState::Killed)
    });
    // Its resources are offered again in full.
    let again = s.next_offers(T);
    let cpus: f64 = again[0]
        .resources
        .iter()
        .filter(|r| r.name == "cpus")
        .filter_map(|r| r.scalar.map(|s| s.value))
        .sum();
    assert_eq!(cpus, 4.0, "{again:?}");
}
