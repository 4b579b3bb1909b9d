//! corral's own agent ↔ master link (not a Mesos API): the agent opens one
//! streaming connection to the master and everything flows over it and
//! beside it, so the master never dials agents.
//!
//! - The agent POSTs [`AgentCall::Subscribe`] to [`PATH`]; the answer is
//!   `200` with a chunked RecordIO stream of [`AgentEvent`]s, first
//!   [`AgentEvent::Subscribed`], and a `Mesos-Stream-Id` header.
//! - Every other call is a POST to the same path with the headers
//!   [`STREAM_ID_HEADER`] and [`AGENT_ID_HEADER`], answered `202`.
//! - Both sides ping: the master sends [`AgentEvent::Heartbeat`] every
//!   `heartbeat_interval_seconds`, the agent answers each with
//!   [`AgentCall::Heartbeat`]. A master that hears nothing for its ping
//!   timeout marks the agent unreachable; an agent whose stream goes quiet
//!   reconnects and subscribes again with its id and its tasks.
//!
//! Status updates carry a `uuid`; the agent resends each until the master
//! relays the framework's [`AgentEvent::Acknowledge`] for it.
//!
//! JSON as everywhere in corral (Mesos' rules for the embedded Mesos
//! messages); the envelope is internally tagged by `type`.

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use crate::json::Bytes;
use crate::v1::{
    AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, Resource, ResourceStatistics, Task,
    TaskGroupInfo, TaskInfo, TaskStatus,
};

/// Where the master serves the agent link.
pub const PATH: &str = "/api/v1/agent_link";
/// The stream the call belongs to (from the subscription's response).
pub const STREAM_ID_HEADER: &str = "Mesos-Stream-Id";
/// The calling agent's id.
pub const AGENT_ID_HEADER: &str = "Corral-Agent-Id";

/// A task the sender names by framework and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskRef {
    /// Its framework.
    pub framework_id: FrameworkId,
    /// Its id.
    pub task_id: TaskId,
}

/// One container's usage, as the agent reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerUsage {
    /// The framework it runs for.
    pub framework_id: FrameworkId,
    /// Its executor (a command task's executor id is the task's).
    pub executor_id: ExecutorId,
    /// The agent's id for the container.
    pub container_id: String,
    /// The tasks it runs.
    #[serde(default)]
    pub task_ids: Vec<TaskId>,
    /// Its usage.
    pub statistics: ResourceStatistics,
}

/// What an agent sends the master.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentCall {
    /// Opens the link. `agent_info.id` is set when the agent already has
    /// an id (a restart or a reconnect); `tasks` are those it runs.
    Subscribe {
        /// The agent: hostname, port, resources, attributes, id.
        agent_info: Box<AgentInfo>,
        /// The tasks it runs now, with their latest states.
        #[serde(default)]
        tasks: Vec<Task>,
        /// The frameworks of those tasks.
        #[serde(default)]
        frameworks: Vec<FrameworkInfo>,
        /// The executors it runs now (each with its `framework_id`), so a
        /// restarted master charges their resources again.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        executors: Vec<ExecutorInfo>,
    },
    /// A task's status changed; resent until acknowledged (same `uuid`).
    Update {
        /// The task's framework.
        framework_id: FrameworkId,
        /// With `uuid`, `agent_id` and `source` set.
        status: Box<TaskStatus>,
    },
    /// The answer to the master's heartbeat.
    Heartbeat,
    /// An executor's MESSAGE for its scheduler (a scheduler MESSAGE event).
    ExecutorMessage {
        /// Its framework.
        framework_id: FrameworkId,
        /// The executor.
        executor_id: ExecutorId,
        /// The bytes, as the executor sent them.
        data: Bytes,
    },
    /// A custom executor's container ended (a scheduler FAILURE event).
    ExecutorExited {
        /// Its framework.
        framework_id: FrameworkId,
        /// The executor.
        executor_id: ExecutorId,
        /// Its wait status.
        status: i32,
    },
    /// The agent's total resources changed.
    Resources {
        /// The new total.
        total: Vec<Resource>,
    },
    /// Every live container's usage, sent periodically; each report
    /// replaces the last.
    Usage {
        /// The containers.
        containers: Vec<ContainerUsage>,
    },
}

/// What the master streams to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentEvent {
    /// The link is open; the agent's (possibly new) id.
    Subscribed {
        /// The id to use from now on.
        agent_id: AgentId,
        /// Seconds between the master's heartbeats.
        heartbeat_interval_seconds: f64,
    },
    /// Run a task (a command task, or one with its own executor).
    Launch {
        /// Its framework.
        framework: Box<FrameworkInfo>,
        /// The task, `agent_id` set.
        task: Box<TaskInfo>,
    },
    /// Run a group of tasks under one executor.
    LaunchGroup {
        /// Its framework.
        framework: Box<FrameworkInfo>,
        /// The executor.
        executor: Box<ExecutorInfo>,
        /// The tasks.
        task_group: Box<TaskGroupInfo>,
    },
    /// Kill a task.
    Kill {
        /// Its framework.
        framework_id: FrameworkId,
        /// The task.
        task_id: TaskId,
        /// Grace period override.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kill_policy: Option<KillPolicy>,
    },
    /// Shut an executor down (its tasks with it).
    ShutdownExecutor {
        /// Its framework.
        framework_id: FrameworkId,
        /// The executor.
        executor_id: ExecutorId,
    },
    /// A framework's message for one of its executors (scheduler MESSAGE).
    FrameworkMessage {
        /// Its framework.
        framework_id: FrameworkId,
        /// The executor.
        executor_id: ExecutorId,
        /// The bytes, as the scheduler sent them.
        data: Bytes,
    },
    /// A framework is gone: kill all its tasks.
    ShutdownFramework {
        /// The framework.
        framework_id: FrameworkId,
    },
    /// The framework acknowledged the update with this uuid.
    Acknowledge {
        /// Its framework.
        framework_id: FrameworkId,
        /// The task.
        task_id: TaskId,
        /// The update's uuid.
        uuid: Bytes,
    },
    /// The tasks the master believes run here: the agent sends an update
    /// for each it does not know (TASK_DROPPED), and resends pending ones.
    Reconcile {
        /// The master's view.
        tasks: Vec<TaskRef>,
    },
    /// A ping; answer with [`AgentCall::Heartbeat`].
    Heartbeat,
    /// The master refuses or ends the link.
    Error {
        /// Why.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn agent_link_messages_are_tagged_by_type_and_round_trip() {
        let call = AgentCall::Update {
            framework_id: FrameworkId::new("f"),
            status: Box::new(TaskStatus {
                task_id: TaskId::new("t1"),
                uuid: Some(Bytes(vec![1, 2, 3])),
                ..TaskStatus::default()
            }),
        };
        let text = json::to_string(&call).unwrap();
        assert!(
            text.starts_with(r#"{"type":"UPDATE","framework_id":{"value":"f"},"status":{"#),
            "{text}"
        );
        assert!(text.contains(r#""uuid":"AQID""#), "{text}");
        assert_eq!(json::from_str::<AgentCall>(&text).unwrap(), call);

        let event: AgentEvent = json::from_str(
            r#"{"type":"KILL","framework_id":{"value":"f"},"task_id":{"value":"t"},"extra":1}"#,
        )
        .unwrap();
        assert_eq!(
            event,
            AgentEvent::Kill {
                framework_id: FrameworkId::new("f"),
                task_id: TaskId::new("t"),
                kill_policy: None
            }
        );
        let hb = json::to_string(&AgentEvent::Heartbeat).unwrap();
        assert_eq!(hb, r#"{"type":"HEARTBEAT"}"#);
        let err = json::from_str::<AgentCall>(r#"{"type":"LAUNCH"}"#).unwrap_err();
        assert!(err.to_string().contains("LAUNCH"), "{err}");
    }
}
