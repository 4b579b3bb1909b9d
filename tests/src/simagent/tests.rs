use std::io::Write;
use std::net::TcpStream;
use std::sync::mpsc;

use corral_api::agent_link::{AGENT_ID_HEADER, STREAM_ID_HEADER, TaskRef};
use corral_api::recordio;
use corral_api::v1::{CommandInfo, FrameworkInfo};
use corral_api::{AgentId, json};

use super::*;
use crate::http::testserver::{Request, chunk, respond, serve};

fn fw(id: &str) -> FrameworkInfo {
    FrameworkInfo {
        id: Some(FrameworkId::new(id)),
        ..FrameworkInfo::new("u", id)
    }
}

fn task(id: &str, cmd: &str) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId::new(id),
        agent_id: AgentId::new("a1"),
        command: Some(CommandInfo::shell(cmd)),
        ..TaskInfo::default()
    }
}

fn launch(f: &str, id: &str, cmd: &str) -> AgentEvent {
    AgentEvent::Launch {
        framework: Box::new(fw(f)),
        task: Box::new(task(id, cmd)),
    }
}

fn sent_states(calls: &[AgentCall]) -> Vec<String> {
    let state = |c: &AgentCall| match c {
        AgentCall::Update { status, .. } => format!("{} {}", status.task_id, status.state),
        other => format!("{other:?}"),
    };
    calls.iter().map(state).collect()
}

fn ack(brain: &mut Brain, f: &str, status: &AgentCall, now: Instant) {
    let AgentCall::Update { status, .. } = status else {
        panic!("{status:?}")
    };
    let event = AgentEvent::Acknowledge {
        framework_id: FrameworkId::new(f),
        task_id: status.task_id.clone(),
        uuid: status.uuid.clone().unwrap(),
    };
    brain.handle(event, now);
}

#[test]
fn behaviours_report_their_updates_in_order() {
    let mut b = Brain::new(Behaviour::RunUntilKilled, Backoff::default());
    b.agent_id = Some(AgentId::new("a1"));
    let t0 = Instant::now();
    b.handle(launch("f", "run", "x"), t0);
    b.handle(launch("f", "fin", "sim:finish 1"), t0);
    b.handle(launch("f", "bad", "sim:fail"), t0);
    b.handle(launch("f", "mute", "sim:never"), t0);
    let first = b.tick(t0);
    assert_eq!(
        sent_states(&first),
        [
            "bad TASK_STARTING",
            "fin TASK_STARTING",
            "run TASK_STARTING"
        ]
    );
    let AgentCall::Update { status, .. } = &first[0] else {
        unreachable!()
    };
    assert_eq!(status.source, Some(corral_api::v1::Source::Executor));
    assert_eq!(status.agent_id, Some(AgentId::new("a1")));
    assert_eq!(status.uuid.as_ref().map(Bytes::len), Some(16));
    assert!(status.timestamp.is_some());
    for call in &first {
        ack(&mut b, "f", call, t0);
    }
    let second = b.tick(t0);
    assert_eq!(
        sent_states(&second),
        ["bad TASK_FAILED", "fin TASK_RUNNING", "run TASK_RUNNING"]
    );
    for call in &second {
        ack(&mut b, "f", call, t0);
    }
    b.handle(
        AgentEvent::Kill {
            framework_id: FrameworkId::new("f"),
            task_id: TaskId::new("mute"),
            kill_policy: None,
        },
        t0,
    );
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(
        sent_states(&b.tick(t1)),
        ["fin TASK_FINISHED", "mute TASK_KILLED"]
    );
    assert_eq!(b.queue.len(), 2);
    assert_eq!(b.acked.len(), 6);
}

#[test]
fn shutdown_reconcile_and_subscribe_name_the_right_tasks() {
    let mut b = Brain::new(Behaviour::RunUntilKilled, Backoff::default());
    let t0 = Instant::now();
    b.handle(launch("f1", "a", "x"), t0);
    b.handle(launch("f2", "b", "x"), t0);
    b.handle(
        AgentEvent::ShutdownFramework {
            framework_id: FrameworkId::new("f1"),
        },
        t0,
    );
    assert_eq!(
        b.tasks[&(FrameworkId::new("f1"), TaskId::new("a"))].state,
        TaskState::Killed
    );
    assert_eq!(
        b.tasks[&(FrameworkId::new("f2"), TaskId::new("b"))].state,
        TaskState::Running
    );
    let refs = vec![
        TaskRef {
            framework_id: FrameworkId::new("f2"),
            task_id: TaskId::new("b"),
        },
        TaskRef {
            framework_id: FrameworkId::new("f2"),
            task_id: TaskId::new("ghost"),
        },
    ];
    b.handle(AgentEvent::Reconcile { tasks: refs }, t0);
    let pending = b
        .queue
        .pending(&(FrameworkId::new("f2"), TaskId::new("ghost")));
    assert_eq!(pending[0].state, TaskState::Dropped);
    b.agent_id = Some(AgentId::new("a9"));
    let AgentCall::Subscribe {
        agent_info,
        tasks,
        frameworks,
        ..
    } = b.subscribe_call(AgentInfo::default())
    else {
        unreachable!()
    };
    assert_eq!(agent_info.id, Some(AgentId::new("a9")));
    let named: Vec<_> = tasks
        .iter()
        .map(|t| (t.task_id.to_string(), t.state, t.status_update_state))
        .collect();
    // "a" is killed but its updates are unacknowledged, so it is still named.
    assert_eq!(
        named,
        [
            ("a".into(), TaskState::Killed, Some(TaskState::Starting)),
            ("b".into(), TaskState::Running, Some(TaskState::Starting)),
        ]
    );
    assert_eq!(frameworks.len(), 2);
    assert_eq!(tasks[1].statuses.len(), 1, "the latest status");
    assert_eq!(tasks[1].statuses[0].state, TaskState::Running);
    b.paused = true;
    assert!(b.handle(AgentEvent::Heartbeat, t0).is_empty());
    b.paused = false;
    assert_eq!(b.handle(AgentEvent::Heartbeat, t0), [AgentCall::Heartbeat]);
    assert_eq!(b.heartbeats, 2);
}

#[test]
fn commands_choose_behaviours() {
    let of = |cmd: &str| Behaviour::from_command(&task("t", cmd));
    assert_eq!(
        of("sim:finish 0.5"),
        Some(Behaviour::Finish {
            after: Duration::from_millis(500)
        })
    );
    assert_eq!(of("sim:fail"), Some(Behaviour::Fail));
    assert_eq!(of("sim:run"), Some(Behaviour::RunUntilKilled));
    assert_eq!(of("sim:never"), Some(Behaviour::Never));
    assert_eq!(of("echo hi"), None);
    assert_eq!(of("sim:finish soon"), None);
}

fn event_record(e: &AgentEvent) -> Vec<u8> {
    recordio::encode(&json::to_vec(e).unwrap())
}

/// A fake master: the first link gets SUBSCRIBED, a HEARTBEAT and a LAUNCH,
/// then acknowledges every update except the first TASK_RUNNING (to see a
/// resend) and closes the stream after TASK_FINISHED; later links get
/// SUBSCRIBED and are held open.
#[test]
fn a_sim_agent_over_a_real_socket() {
    let (tx, rx) = mpsc::channel::<AgentCall>();
    let (tx, rx) = (Mutex::new(tx), Mutex::new(rx));
    let subscribes = Mutex::new(0);
    let server = serve(move |req: &Request, socket: &mut TcpStream| {
        let call: AgentCall = json::from_slice(&req.body).unwrap();
        if !matches!(call, AgentCall::Subscribe { .. }) {
            respond(socket, 202, "", b"");
            tx.lock().unwrap().send(call).unwrap();
            return true;
        }
        let n = {
            let mut n = subscribes.lock().unwrap();
            *n += 1;
            *n
        };
        let head =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nMesos-Stream-Id: link-1\r\n\r\n";
        socket.write_all(head.as_bytes()).unwrap();
        let subscribed = AgentEvent::Subscribed {
            agent_id: AgentId::new("a1"),
            heartbeat_interval_seconds: 0.2,
        };
        chunk(
            socket,
            &[
                event_record(&subscribed),
                event_record(&AgentEvent::Heartbeat),
            ]
            .concat(),
        );
        if n > 1 {
            while chunk(socket, &event_record(&AgentEvent::Heartbeat)) {
                std::thread::sleep(Duration::from_millis(200));
            }
            return false;
        }
        chunk(socket, &event_record(&launch("f", "t1", "sim:finish 0.3")));
        let rx = rx.lock().unwrap();
        let mut skipped = false;
        while let Ok(call) = rx.recv_timeout(Duration::from_secs(10)) {
            let AgentCall::Update { status, .. } = call else {
                continue;
            };
            if status.state == TaskState::Running && !skipped {
                skipped = true;
                continue;
            }
            let ack = AgentEvent::Acknowledge {
                framework_id: FrameworkId::new("f"),
                task_id: status.task_id.clone(),
                uuid: status.uuid.clone().unwrap(),
            };
            chunk(socket, &event_record(&ack));
            if status.state == TaskState::Finished {
                break;
            }
        }
        chunk(socket, b"");
        false
    });
    let agent = SimAgent::start(&server.url, SimOptions::default());
    assert_eq!(agent.agent_id(), AgentId::new("a1"));
    agent.wait_for("a second subscription", Duration::from_secs(10), |a| {
        a.subscriptions() == 2
    });
    // Resends may repeat any update (a slow machine); the order may not.
    let sent = agent.sent_updates();
    let mut states: Vec<TaskState> = sent.iter().map(|s| s.state).collect();
    states.dedup();
    let expected = [TaskState::Starting, TaskState::Running, TaskState::Finished];
    assert_eq!(states, expected);
    let running: Vec<_> = sent
        .iter()
        .filter(|s| s.state == TaskState::Running)
        .collect();
    assert!(running.len() >= 2, "the unacknowledged RUNNING is resent");
    assert!(
        running.iter().all(|s| s.uuid == running[0].uuid),
        "a resend keeps its uuid"
    );
    let mut acked: Vec<Bytes> = agent.acked().into_iter().map(|(_, uuid)| uuid).collect();
    acked.dedup();
    assert_eq!(acked.len(), 3);
    assert_eq!(agent.pending_updates(), 0);
    assert!(agent.heartbeats().1 >= 1, "{:?}", agent.heartbeats());
    assert_eq!(agent.launched()[0].task_id, TaskId::new("t1"));
    assert!(
        agent
            .errors()
            .iter()
            .any(|e| e.contains("the master closed the stream")),
        "{:?}",
        agent.errors()
    );
    agent.disconnect();
    assert!(!agent.is_connected());

    let requests = server.requests.lock().unwrap();
    let update = requests
        .iter()
        .find(|r| r.body.starts_with(br#"{"type":"UPDATE""#))
        .unwrap();
    assert_eq!(update.header(STREAM_ID_HEADER), Some("link-1"));
    assert_eq!(update.header(AGENT_ID_HEADER), Some("a1"));
    let AgentCall::Update { framework_id, .. } = json::from_slice(&update.body).unwrap() else {
        unreachable!()
    };
    assert_eq!(framework_id, FrameworkId::new("f"));
    let subscribes: Vec<AgentCall> = requests
        .iter()
        .filter(|r| r.body.starts_with(br#"{"type":"SUBSCRIBE""#))
        .map(|r| json::from_slice(&r.body).unwrap())
        .collect();
    let AgentCall::Subscribe {
        agent_info, tasks, ..
    } = &subscribes[1]
    else {
        unreachable!()
    };
    assert_eq!(agent_info.id, Some(AgentId::new("a1")));
    assert!(
        tasks.is_empty(),
        "a finished, acknowledged task is not reported: {tasks:?}"
    );
    let AgentCall::Subscribe { agent_info, .. } = &subscribes[0] else {
        unreachable!()
    };
    assert_eq!(agent_info.id, None);
    assert_eq!(agent_info.resources, default_resources());
}

/// The first link gets SUBSCRIBED, then an ERROR once the test says so;
/// later links get SUBSCRIBED and are held open.
#[test]
fn a_hung_agent_stays_down_until_it_resumes_then_reconnects() {
    let (go, wait) = mpsc::channel::<()>();
    let wait = Mutex::new(wait);
    let server = serve(move |req: &Request, socket: &mut TcpStream| {
        if !req.body.starts_with(br#"{"type":"SUBSCRIBE""#) {
            respond(socket, 202, "", b"");
            return true;
        }
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nMesos-Stream-Id: l\r\n\r\n";
        socket.write_all(head.as_bytes()).unwrap();
        let subscribed = AgentEvent::Subscribed {
            agent_id: AgentId::new("a1"),
            heartbeat_interval_seconds: 0.0,
        };
        chunk(socket, &event_record(&subscribed));
        let first = wait
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(10))
            .is_ok();
        let message = "marked unreachable".to_owned();
        if first {
            chunk(socket, &event_record(&AgentEvent::Error { message }));
            chunk(socket, b"");
            return false;
        }
        while chunk(socket, &event_record(&AgentEvent::Heartbeat)) {
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    });
    let agent = SimAgent::start(&server.url, SimOptions::default());
    agent.pause_heartbeats(true);
    go.send(()).unwrap();
    agent.wait_for("the ERROR", Duration::from_secs(10), |a| !a.is_connected());
    assert_eq!(agent.refused().as_deref(), Some("marked unreachable"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(agent.subscriptions(), 1, "a hung agent does not reconnect");
    drop(go);
    agent.pause_heartbeats(false);
    agent.wait_for("a new link", Duration::from_secs(10), |a| {
        a.subscriptions() == 2
    });
    agent.wait_for("heartbeats answered", Duration::from_secs(10), |a| {
        a.heartbeats().1 > 0
    });
}
