//! Dynamic reservations over real HTTP: a `corral master` process, Mesos
//! v1 schedulers and a simulated agent. RESERVE from an offer, the
//! reservation offered back (principal and labels kept) to its role only,
//! tasks launched on it (in the same ACCEPT too), UNRESERVE, the operator
//! API's view, invalid operations dropped with OPERATION_ERROR, and the
//! reservation surviving a master SIGKILL. Host tests: no root, no VM.

use corral_api::scheduler::Event;
use corral_api::v1::{
    Offer, OfferOperation, OperationState, OperationStatus, ReservationType, Resource, TaskState,
};
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{
    Scheduler, framework_in, raw_post, reserve_op, reserved, task_for, task_on_reserved,
    unreserve_op,
};
use corral_tests::simagent::{Behaviour, SimAgent, SimOptions};
use serde_json::Value;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn master() -> MasterProcess {
    MasterProcess::start(&["--allocation-interval", "50ms"])
}

fn subscribe(url: &str, info: corral_api::v1::FrameworkInfo) -> Scheduler {
    let mut s = Scheduler::subscribe(url, info);
    s.set_auto_acknowledge(true);
    s
}

fn running_agent(m: &MasterProcess) -> SimAgent {
    SimAgent::start(
        &m.url(),
        SimOptions {
            behaviour: Behaviour::RunUntilKilled,
            ..SimOptions::default()
        },
    )
}

/// The sum of the `name` scalars of `list`, reserved or unreserved ones.
fn scalar(list: &[Resource], name: &str, reserved: bool) -> f64 {
    list.iter()
        .filter(|r| r.name == name && r.reservations.is_empty() != reserved)
        .filter_map(Resource::scalar_value)
        .sum()
}

/// Offers until one satisfies `pred`; the others are declined without a
/// filter.
fn offer_where(s: &mut Scheduler, what: &str, pred: impl Fn(&Offer) -> bool) -> Offer {
    let deadline = Instant::now() + T;
    while Instant::now() < deadline {
        for o in s.next_offers(T) {
            if pred(&o) {
                return o;
            }
            s.decline(vec![o.id.clone()], Some(0.0));
        }
    }
    panic!("no offer with {what} within {T:?}");
}

/// The UPDATE_OPERATION_STATUS of operation `id`.
fn operation_status(s: &mut Scheduler, id: &str) -> OperationStatus {
    let is = |e: &Event| {
        e.update_operation_status
            .as_ref()
            .is_some_and(|u| u.status.operation_id.as_ref().map(|i| i.as_str()) == Some(id))
    };
    let event = s.events_until(is, T).pop().unwrap();
    event.update_operation_status.unwrap().status
}

fn operator(m: &MasterProcess, call: &str) -> Value {
    let body = format!(r#"{{"type":"{call}"}}"#);
    let headers = [("Content-Type", "application/json")];
    let (status, _, text) = raw_post(&m.url(), "/api/v1", &headers, body.as_bytes());
    assert_eq!(status, 200, "{call}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{call}: {e}: {text}"))
}

/// The one agent of GET_AGENTS: (reserved_resources, total_resources).
fn agent_resources(m: &MasterProcess) -> (Vec<Resource>, Vec<Resource>) {
    let agents = operator(m, "GET_AGENTS");
    let a = &agents["get_agents"]["agents"][0];
    let list =
        |key: &str| -> Vec<Resource> { serde_json::from_value(a[key].clone()).unwrap_or_default() };
    (list("reserved_resources"), list("total_resources"))
}

#[test]
fn a_reservation_is_offered_to_its_role_only_with_its_identity_and_runs_tasks() {
    let m = master();
    let agent = running_agent(&m);
    let mut eng = subscribe(&m.url(), framework_in("eng", &["eng"], Some("alice")));
    let offer = eng.next_offers(T).remove(0);
    let ask = reserved((2.0, 1024.0), "eng", "eng", Some("alice"), Some("batch"));
    let reserve = reserve_op(ask, Some("r1"));
    eng.accept(vec![offer.id.clone()], vec![reserve], Some(0.0));
    assert_eq!(
        operation_status(&mut eng, "r1").state,
        OperationState::Finished
    );

    let offer = offer_where(&mut eng, "the reservation", |o| {
        scalar(&o.resources, "cpus", true) == 2.0
    });
    assert_eq!(scalar(&offer.resources, "mem", true), 1024.0);
    assert_eq!(scalar(&offer.resources, "cpus", false), 2.0);
    for r in offer
        .resources
        .iter()
        .filter(|r| !r.reservations.is_empty())
    {
        let level = &r.reservations[..];
        assert_eq!(level.len(), 1, "{r:?}");
        assert_eq!(level[0].r#type, Some(ReservationType::Dynamic));
        assert_eq!(level[0].role.as_deref(), Some("eng"));
        assert_eq!(level[0].principal.as_deref(), Some("alice"));
        let labels = level[0].labels.as_ref().unwrap();
        assert_eq!(labels.labels[0].value.as_deref(), Some("batch"));
        assert_eq!(r.allocation_role(), Some("eng"));
    }

    // eng looks away for a minute: ops is offered the unreserved part only.
    eng.decline(vec![offer.id.clone()], Some(60.0));
    let mut ops = subscribe(&m.url(), framework_in("ops", &["ops"], None));
    let deadline = Instant::now() + Duration::from_millis(800);
    let mut seen = 0;
    while Instant::now() < deadline {
        for o in ops.next_offers(T) {
            assert_eq!(scalar(&o.resources, "cpus", true), 0.0, "{o:?}");
            assert_eq!(scalar(&o.resources, "cpus", false), 2.0, "{o:?}");
            ops.decline(vec![o.id.clone()], Some(0.0));
            seen += 1;
        }
    }
    assert!(seen > 0, "ops was offered the unreserved resources");

    eng.revive(&[]);
    let offer = offer_where(&mut eng, "the reservation", |o| {
        scalar(&o.resources, "cpus", true) == 2.0
    });
    let task = task_on_reserved(&offer, "on-res", "sleep 1000", 1.0, 512.0);
    eng.accept_launch(vec![offer.id.clone()], vec![task], Some(0.0));
    eng.expect_update("on-res", TaskState::Running, T);
    let launched = agent.launched();
    let principal = launched[0].resources[0].reservations[0]
        .principal
        .as_deref();
    assert_eq!(
        principal,
        Some("alice"),
        "the agent gets the reserved resources"
    );

    let (reserved_now, total) = agent_resources(&m);
    assert_eq!(scalar(&reserved_now, "cpus", true), 2.0);
    assert_eq!(
        reserved_now[0].reservations[0].principal.as_deref(),
        Some("alice")
    );
    assert_eq!(scalar(&total, "cpus", true), 2.0);
    assert_eq!(scalar(&total, "cpus", false), 2.0);
    let state = operator(&m, "GET_STATE");
    let shown = &state["get_state"]["get_agents"]["agents"][0]["reserved_resources"];
    assert!(shown.to_string().contains("alice"), "GET_STATE: {state}");
}

#[test]
fn reserve_and_launch_in_one_accept_then_unreserve() {
    let m = master();
    let _agent = SimAgent::start(&m.url(), SimOptions::default());
    let mut eng = subscribe(&m.url(), framework_in("eng", &["eng"], None));
    let offer = eng.next_offers(T).remove(0);
    let ask = reserved((1.0, 256.0), "eng", "eng", None, None);
    let mut task = task_for(&offer, "t", "true", 1.0, 256.0);
    task.resources = ask.clone();
    let ops = vec![reserve_op(ask, None), OfferOperation::launch(vec![task])];
    eng.accept(vec![offer.id.clone()], ops, Some(0.0));
    eng.expect_update("t", TaskState::Running, T);
    eng.expect_update("t", TaskState::Finished, T);

    // The task ended: its reserved resources come back, reserved (the
    // unreserved rest sits in an offer skipped while waiting above).
    let offer = offer_where(&mut eng, "the reservation back", |o| {
        scalar(&o.resources, "cpus", true) == 1.0
    });
    assert_eq!(scalar(&offer.resources, "mem", true), 256.0);
    let back: Vec<Resource> = offer
        .resources
        .iter()
        .filter(|r| !r.reservations.is_empty())
        .cloned()
        .collect();
    let unreserve = unreserve_op(back, Some("u1"));
    eng.accept(vec![offer.id.clone()], vec![unreserve], Some(0.0));
    assert_eq!(
        operation_status(&mut eng, "u1").state,
        OperationState::Finished
    );
    let offer = offer_where(&mut eng, "them unreserved", |o| {
        scalar(&o.resources, "cpus", false) == 1.0
    });
    assert_eq!(scalar(&offer.resources, "cpus", true), 0.0);
    assert_eq!(scalar(&offer.resources, "mem", false), 256.0);
    let (reserved_now, total) = agent_resources(&m);
    assert!(reserved_now.is_empty(), "{reserved_now:?}");
    assert_eq!(scalar(&total, "cpus", false), 4.0);
    assert_eq!(scalar(&total, "cpus", true), 0.0);
}

#[test]
fn invalid_operations_are_dropped_with_operation_error_and_change_nothing() {
    let m = master();
    let _agent = running_agent(&m);
    let mut eng = subscribe(&m.url(), framework_in("eng", &["eng"], Some("alice")));
    let offer = eng.next_offers(T).remove(0);
    let mine = |cpus| reserved((cpus, 0.0), "eng", "eng", Some("alice"), None);
    let not_reserved = vec![Resource::scalar("cpus", 1.0).allocated_to("eng")];
    let other_labels = reserved((0.5, 0.0), "eng", "eng", Some("alice"), Some("x"));
    let mut wrong_task = task_for(&offer, "wrong", "sleep 1000", 0.5, 0.0);
    wrong_task.resources = other_labels.clone();
    let ops = vec![
        reserve_op(mine(8.0), Some("too-much")),
        reserve_op(
            reserved((1.0, 0.0), "eng", "ops", Some("alice"), None),
            Some("not-my-role"),
        ),
        reserve_op(
            reserved((1.0, 0.0), "eng", "eng", Some("mallory"), None),
            Some("principal"),
        ),
        unreserve_op(not_reserved, Some("not-reserved")),
        reserve_op(mine(1.0), None),
        unreserve_op(other_labels, Some("other-labels")),
        OfferOperation::launch(vec![wrong_task]),
    ];
    eng.accept(vec![offer.id.clone()], ops, Some(0.0));
    for (id, says) in [
        ("too-much", "do not contain"),
        ("not-my-role", "can only reserve for its roles"),
        ("principal", "does not match the framework's principal"),
        ("not-reserved", "not dynamically reserved"),
        ("other-labels", "no reservation for role 'eng'"),
    ] {
        let status = operation_status(&mut eng, id);
        assert_eq!(status.state, OperationState::Error, "{id}: {status:?}");
        let message = status.message.unwrap_or_default();
        assert!(message.contains(says), "{id}: {message}");
    }
    let error = eng.expect_update("wrong", TaskState::Error, T);
    assert!(
        error
            .message
            .unwrap_or_default()
            .contains("principal and labels")
    );
    // Only the valid RESERVE (without id, so unanswered) took effect.
    let offer = offer_where(&mut eng, "the one reservation", |o| {
        scalar(&o.resources, "cpus", true) > 0.0
    });
    assert_eq!(scalar(&offer.resources, "cpus", true), 1.0);
    assert_eq!(scalar(&offer.resources, "cpus", false), 3.0);
    // An offer already used: the operation is dropped too.
    eng.accept(vec![offer.id.clone()], vec![], None);
    let stale = reserve_op(mine(1.0), Some("stale"));
    eng.accept(vec![offer.id.clone()], vec![stale], None);
    let status = operation_status(&mut eng, "stale");
    assert_eq!(status.state, OperationState::Error);
    let message = status.message.unwrap_or_default();
    assert!(message.contains("no longer valid"), "{message}");
    assert!(eng.closed().is_none(), "no ERROR event ends the stream");
    let log = m.stderr_log();
    assert!(
        log.contains("dropping RESERVE operation from framework"),
        "{log}"
    );
}

#[test]
fn a_reservation_survives_a_master_sigkill() {
    let mut m = master();
    let agent = running_agent(&m);
    let mut info = framework_in("keep", &["eng"], Some("alice"));
    info.failover_timeout = 300.0;
    let mut s = subscribe(&m.url(), info);
    let offer = s.next_offers(T).remove(0);
    let ask = reserved((2.0, 512.0), "eng", "eng", Some("alice"), Some("db"));
    s.accept(
        vec![offer.id.clone()],
        vec![reserve_op(ask, Some("r"))],
        Some(0.0),
    );
    assert_eq!(
        operation_status(&mut s, "r").state,
        OperationState::Finished
    );
    // A task runs on half of it across the restart.
    let offer = offer_where(&mut s, "the reservation", |o| {
        scalar(&o.resources, "cpus", true) == 2.0
    });
    let task = task_on_reserved(&offer, "before", "sleep 1000", 1.0, 256.0);
    s.accept_launch(vec![offer.id.clone()], vec![task], Some(0.0));
    s.expect_update("before", TaskState::Running, T);
    agent.wait_for("updates acknowledged", T, |a| a.pending_updates() == 0);
    let again = s.info();
    // Reservations reach the registry by group commit, without the master
    // waiting (docs/master.md): give it a moment before the crash.
    std::thread::sleep(Duration::from_millis(300));
    m.kill();
    drop(s);
    m.restart();

    let (reserved_now, total) = agent_resources(&m);
    assert_eq!(scalar(&reserved_now, "cpus", true), 2.0, "{reserved_now:?}");
    assert_eq!(scalar(&reserved_now, "mem", true), 512.0);
    assert_eq!(scalar(&total, "cpus", false), 2.0);
    let labels = reserved_now[0].reservations[0].labels.clone().unwrap();
    assert_eq!(labels.labels[0].value.as_deref(), Some("db"));

    let mut s = Scheduler::resubscribe(&m.url(), again);
    s.set_auto_acknowledge(true);
    agent.wait_for("the agent back on the new master", T, |a| {
        a.subscriptions() >= 2 && a.is_connected()
    });
    // The running task holds half of it; the other half is offered.
    let offer = offer_where(&mut s, "the recovered reservation", |o| {
        scalar(&o.resources, "cpus", true) == 1.0
    });
    assert_eq!(scalar(&offer.resources, "mem", true), 256.0);
    let task = task_on_reserved(&offer, "after", "sleep 1000", 1.0, 256.0);
    s.accept_launch(vec![offer.id.clone()], vec![task], None);
    s.expect_update("after", TaskState::Running, T);
}
