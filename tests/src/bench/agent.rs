//! One agent of the bench's fleet: its two connections, its update queue,
//! and what it does with each event of its stream (a launch queues
//! TASK_STARTING then TASK_RUNNING; an acknowledgement lets the next
//! update go; a heartbeat is answered) and each answer to its calls.

use std::io;
use std::time::Instant;

use corral_api::agent_link::{AGENT_ID_HEADER, AgentCall, AgentEvent, PATH, STREAM_ID_HEADER};
use corral_api::json;
use corral_api::v1::{Source, TaskState, TaskStatus};
use corral_api::{AgentId, FrameworkId, TaskId};

use super::conn::{EventStream, Pipeline};
use super::fleet::FleetStats;
use super::poll::Poller;
use super::report::unix_now;
use crate::http::{self, Target};
use crate::simagent::{UpdateQueue, random_uuid};

/// A simulated agent.
#[derive(Debug)]
pub(super) struct Agent {
    /// Its host name.
    pub name: String,
    /// Its id, once SUBSCRIBED came.
    pub id: Option<AgentId>,
    /// Its link's `Mesos-Stream-Id`.
    pub stream_id: String,
    /// The event stream.
    pub stream: EventStream,
    /// The call connection.
    pub calls: Pipeline<()>,
    /// Unacknowledged updates.
    pub queue: UpdateQueue,
    /// False once its link failed (it is left alone then).
    pub alive: bool,
}

/// POSTs `call` to the agent link with `headers`.
pub(super) fn request(target: &Target, headers: &[(&str, &str)], call: &AgentCall) -> Vec<u8> {
    let body = json::to_vec(call).unwrap_or_default();
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    http::request_bytes("POST", target, PATH, &all, &body)
}

/// The call connection is ready: flush, then check each answer is a 202.
pub(super) fn calls_ready(
    a: &mut Agent,
    write: bool,
    poller: &Poller,
    stats: &mut FleetStats,
) -> io::Result<()> {
    if write {
        a.calls.conn.flush(poller)?;
    }
    for ((), status, body) in a.calls.answers()? {
        if status != 202 && status != 200 {
            stats.refused += 1;
            let text = String::from_utf8_lossy(&body);
            stats.error(format!(
                "agent {}: a call answered {status}: {text}",
                a.name
            ));
        }
    }
    Ok(())
}

/// The event stream is readable: handle every complete event.
pub(super) fn stream_ready(
    a: &mut Agent,
    target: &Target,
    poller: &Poller,
    stats: &mut FleetStats,
) -> io::Result<()> {
    let records = a.stream.records()?;
    if a.stream_id.is_empty()
        && let Some(head) = &a.stream.head
    {
        a.stream_id = http::header(&head.headers, STREAM_ID_HEADER)
            .unwrap_or_default()
            .to_owned();
    }
    for record in records {
        let event: AgentEvent = serde_json::from_slice(&record)
            .map_err(|e| io::Error::other(format!("undecodable event: {e}")))?;
        match event {
            AgentEvent::Subscribed { agent_id, .. } => a.id = Some(agent_id),
            AgentEvent::Launch { framework, task } => {
                stats.launched += 1;
                let fid = framework.id.unwrap_or_default();
                launch(a, &fid, task.task_id);
            }
            AgentEvent::LaunchGroup {
                framework,
                task_group,
                ..
            } => {
                let fid = framework.id.unwrap_or_default();
                for t in task_group.tasks {
                    stats.launched += 1;
                    launch(a, &fid, t.task_id);
                }
            }
            AgentEvent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => {
                stats.acks += 1;
                a.queue.ack(&(framework_id, task_id), &uuid);
            }
            AgentEvent::Kill {
                framework_id,
                task_id,
                ..
            } => {
                let s = status(a, task_id.clone(), TaskState::Killed);
                a.queue.push((framework_id, task_id), s);
            }
            AgentEvent::Heartbeat => {
                let req = a.call(target, &AgentCall::Heartbeat);
                a.calls.send(&req, (), poller)?;
            }
            AgentEvent::Error { message } => {
                return Err(io::Error::other(format!("ERROR event: {message}")));
            }
            // Shutdowns, reconciliation, messages: not part of this bench.
            _ => {}
        }
    }
    Ok(())
}

fn launch(a: &mut Agent, framework: &FrameworkId, task: TaskId) {
    let key = (framework.clone(), task.clone());
    let starting = status(a, task.clone(), TaskState::Starting);
    a.queue.push(key.clone(), starting);
    let running = status(a, task, TaskState::Running);
    a.queue.push(key, running);
}

fn status(a: &Agent, task: TaskId, state: TaskState) -> TaskStatus {
    TaskStatus {
        source: Some(Source::Executor),
        agent_id: a.id.clone(),
        timestamp: Some(unix_now()),
        uuid: Some(random_uuid()),
        ..TaskStatus::new(task, state)
    }
}

impl Agent {
    /// A call on this agent's link (its stream and agent id in headers).
    fn call(&self, target: &Target, call: &AgentCall) -> Vec<u8> {
        let id = self.id.as_ref().map_or("", AgentId::as_str);
        let headers = [
            (STREAM_ID_HEADER, self.stream_id.as_str()),
            (AGENT_ID_HEADER, id),
        ];
        request(target, &headers, call)
    }
}

/// Sends the updates due now, in one write.
pub(super) fn send_due(
    a: &mut Agent,
    target: &Target,
    now: Instant,
    poller: &Poller,
    stats: &mut FleetStats,
) {
    let due = a.queue.due(now);
    if due.is_empty() {
        return;
    }
    let mut batch = Vec::new();
    for (framework_id, status) in due {
        let call = AgentCall::Update {
            framework_id,
            status: Box::new(status),
        };
        batch.extend(a.call(target, &call));
        stats.updates_sent += 1;
        a.calls.push_tag(());
    }
    if let Err(e) = a.calls.conn.send(&batch, poller) {
        stats.error(format!("agent {}: sending updates: {e}", a.name));
    }
}
