//! Executors in the master, over real HTTP with a simulated agent: an
//! executor's resources are charged once however many tasks it runs, stay
//! charged while it runs without tasks, and come back when the agent
//! reports it exited; a task naming a running executor with another
//! ExecutorInfo is refused. Host tests: no root, no VM.

use corral_api::agent_link::AgentCall;
use corral_api::scheduler::{Event, EventType};
use corral_api::v1::{
    CommandInfo, ExecutorInfo, Offer, OfferOperation, Reason, TaskGroupInfo, TaskInfo, TaskState,
    scalar_sum,
};
use corral_api::{ExecutorId, OfferId};
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{Scheduler, framework, task_for};
use corral_tests::simagent::{Behaviour, SimAgent, SimOptions};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

/// A framework and the offers it holds (never declined, so their sum is
/// what the agent has free for it).
struct Held {
    s: Scheduler,
    offers: Vec<Offer>,
}

impl Held {
    fn cpus(&self) -> f64 {
        self.offers
            .iter()
            .map(|o| scalar_sum(&o.resources, "cpus"))
            .sum()
    }

    /// Reads events until the held offers add up to `cpus`; panics with
    /// what they add up to if they never do.
    fn until_cpus(&mut self, cpus: f64) {
        let deadline = Instant::now() + T;
        while (self.cpus() - cpus).abs() > 1e-9 {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(e) = self.s.next_event(left) else {
                panic!("the offers hold {} cpus, not {cpus}", self.cpus());
            };
            self.keep(&e);
        }
    }

    fn keep(&mut self, e: &Event) {
        self.offers
            .extend(e.offers.clone().map(|o| o.offers).unwrap_or_default());
    }

    /// Events up to the first `pred` accepts, offers kept.
    fn until(&mut self, pred: impl Fn(&Event) -> bool) -> Event {
        let events = self.s.events_until(pred, T);
        for e in &events {
            self.keep(e);
        }
        events
            .last()
            .cloned()
            .expect("events_until returns the match")
    }

    fn update(&mut self, id: &str, state: TaskState) -> corral_api::v1::TaskStatus {
        let e = self.until(|e| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == id && u.status.state == state)
        });
        e.update.unwrap().status
    }

    /// Task "a" on a new executor "e1", running; 4 - 1 (executor) - 0.5
    /// (a) cpus left.
    fn start_a(&mut self) -> ExecutorInfo {
        let (ids, offer) = self.take();
        let e = executor(&offer, "e1");
        self.s
            .accept_launch(ids, vec![task(&offer, &e, "a")], Some(0.0));
        self.update("a", TaskState::Running);
        self.until_cpus(2.5);
        e
    }

    /// Every held offer, for one ACCEPT.
    fn take(&mut self) -> (Vec<OfferId>, Offer) {
        let offers = std::mem::take(&mut self.offers);
        let first = offers.first().cloned().expect("an offer is held");
        (offers.into_iter().map(|o| o.id).collect(), first)
    }
}

/// GET_EXECUTORS: the executor ids the master lists, with their agents.
fn listed(m: &MasterProcess) -> Vec<(String, String)> {
    let body = br#"{"type":"GET_EXECUTORS"}"#;
    let (status, _, text) = corral_tests::scheduler::raw_post(
        &m.url(),
        "/api/v1",
        &[("Content-Type", "application/json")],
        body,
    );
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["get_executors"]["executors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let id = e["executor_info"]["executor_id"]["value"].as_str().unwrap();
            let agent = e["agent_id"]["value"].as_str().unwrap();
            (id.to_string(), agent.to_string())
        })
        .collect()
}

fn setup(name: &str) -> (MasterProcess, SimAgent, Held) {
    let m = MasterProcess::start(&["--allocation-interval", "50ms"]);
    let agent = SimAgent::start(
        &m.url(),
        SimOptions {
            behaviour: Behaviour::RunUntilKilled,
            ..SimOptions::default()
        },
    );
    let mut s = Scheduler::subscribe(&m.url(), framework(name));
    s.set_auto_acknowledge(true);
    let mut held = Held {
        s,
        offers: Vec::new(),
    };
    held.until_cpus(4.0);
    (m, agent, held)
}

/// Executor `id` with 1 cpu and 128 MB of its own.
fn executor(offer: &Offer, id: &str) -> ExecutorInfo {
    ExecutorInfo {
        executor_id: ExecutorId::new(id),
        command: Some(CommandInfo::shell("./my-executor")),
        resources: task_for(offer, "x", "true", 1.0, 128.0).resources,
        ..ExecutorInfo::default()
    }
}

/// Task `id` on `e`, 0.5 cpus and 64 MB.
fn task(offer: &Offer, e: &ExecutorInfo, id: &str) -> TaskInfo {
    TaskInfo {
        command: None,
        executor: Some(e.clone()),
        ..task_for(offer, id, "true", 0.5, 64.0)
    }
}

#[test]
fn an_executor_is_charged_once_and_given_back_when_it_exits() {
    let (m, agent, mut h) = setup("executor-charge");
    let e = h.start_a();
    let agent_id = agent.agent_id().as_str().to_string();
    assert_eq!(listed(&m), [("e1".to_string(), agent_id)]);
    let (ids, offer) = h.take();
    h.s.accept_launch(ids, vec![task(&offer, &e, "b")], Some(0.0));
    h.update("b", TaskState::Running);
    // Not 1.0: the running executor is not charged again.
    h.until_cpus(2.0);
    h.s.kill("a", None);
    h.s.kill("b", None);
    h.update("a", TaskState::Killed);
    h.update("b", TaskState::Killed);
    // The executor still runs (no tasks): it keeps its cpu.
    h.until_cpus(3.0);
    agent.send_call(&AgentCall::ExecutorExited {
        framework_id: h.s.framework_id(),
        executor_id: ExecutorId::new("e1"),
        status: 0,
    });
    let failure = h.until(|e| e.r#type == Some(EventType::Failure));
    let f = failure.failure.unwrap();
    assert_eq!(f.executor_id, Some(ExecutorId::new("e1")));
    h.until_cpus(4.0);
    assert!(listed(&m).is_empty(), "{:?}", listed(&m));
}

#[test]
fn a_task_group_charges_its_executor_once_and_a_second_group_not_again() {
    let (_m, _agent, mut h) = setup("executor-group");
    let (ids, offer) = h.take();
    let e = executor(&offer, "g");
    let group = |offer: &Offer, ids: [&str; 2]| {
        let tasks = ids.iter().map(|id| task(offer, &e, id)).collect();
        OfferOperation::launch_group(e.clone(), TaskGroupInfo { tasks })
    };
    h.s.accept(ids, vec![group(&offer, ["g1", "g2"])], Some(0.0));
    h.update("g2", TaskState::Running);
    h.until_cpus(2.0);
    let (ids, offer) = h.take();
    h.s.accept(ids, vec![group(&offer, ["g3", "g4"])], Some(0.0));
    h.update("g4", TaskState::Running);
    h.until_cpus(1.0);
}

#[test]
fn a_task_naming_a_running_executor_with_another_executor_info_is_refused() {
    let (_m, _agent, mut h) = setup("executor-mismatch");
    let e = h.start_a();
    let (ids, offer) = h.take();
    let mut other = e.clone();
    other.command = Some(CommandInfo::shell("./another-executor"));
    h.s.accept_launch(ids, vec![task(&offer, &other, "b")], Some(0.0));
    let error = h.update("b", TaskState::Error);
    assert_eq!(error.reason, Some(Reason::TaskInvalid));
    let message = error.message.unwrap_or_default();
    assert!(message.contains("executor 'e1' differs"), "{message}");
    // Nothing was charged for it.
    h.until_cpus(2.5);
}

#[test]
fn after_a_master_restart_the_agent_reports_its_executors_and_they_are_charged_again() {
    let (mut m, agent, mut h) = setup("executor-restart");
    let mut info = h.s.info();
    let e = h.start_a();
    agent.wait_for("updates acknowledged", T, |a| a.pending_updates() == 0);
    // Task changes reach the registry by group commit (docs/master.md).
    std::thread::sleep(Duration::from_millis(300));
    m.kill();
    m.restart();
    info.id = Some(h.s.framework_id());
    info.failover_timeout = 300.0;
    let mut s = Scheduler::resubscribe(&m.url(), info);
    s.set_auto_acknowledge(true);
    let mut h = Held {
        s,
        offers: Vec::new(),
    };
    agent.wait_for("a second subscription", T, |a| a.subscriptions() >= 2);
    // Recovered from the registry: the task; reported by the agent: its
    // executor. Both charged again.
    h.until_cpus(2.5);
    let (ids, offer) = h.take();
    h.s.accept_launch(ids, vec![task(&offer, &e, "b")], Some(0.0));
    h.update("b", TaskState::Running);
    h.until_cpus(2.0);
}
