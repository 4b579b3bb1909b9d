//! Tasks: `TaskInfo` (what a framework launches), `TaskGroupInfo`, `Task`
//! (the master's and agent's record of a launched task) and `TaskState`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::command::CommandInfo;
use super::common::{DurationInfo, KillPolicy, Labels};
use super::container::ContainerInfo;
use super::executor::{DiscoveryInfo, ExecutorInfo};
use super::resource::Resource;
use super::status::TaskStatus;
use super::value::Scalar;
use crate::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use crate::json::{self, Bytes, enums::proto_enum};

proto_enum! {
    /// `TaskState`.
    pub enum TaskState {
        /// Initial state; frameworks should not send it.
        Staging = 6 => "TASK_STAGING",
        /// The executor is launching the task.
        Starting = 0 => "TASK_STARTING",
        /// Running.
        Running = 1 => "TASK_RUNNING",
        /// Being killed by the executor.
        Killing = 8 => "TASK_KILLING",
        /// Terminal: finished successfully.
        Finished = 2 => "TASK_FINISHED",
        /// Terminal: failed.
        Failed = 3 => "TASK_FAILED",
        /// Terminal: killed.
        Killed = 4 => "TASK_KILLED",
        /// Terminal: the task description is invalid.
        Error = 7 => "TASK_ERROR",
        /// Terminal for Mesos (may be rescheduled): lost.
        Lost = 5 => "TASK_LOST",
        /// Terminal: dropped before launch.
        Dropped = 9 => "TASK_DROPPED",
        /// The agent is unreachable; the task may come back.
        Unreachable = 10 => "TASK_UNREACHABLE",
        /// Terminal: the agent is gone.
        Gone = 11 => "TASK_GONE",
        /// Terminal: an operator said the agent is gone.
        GoneByOperator = 12 => "TASK_GONE_BY_OPERATOR",
        /// Unknown to the master (reconciliation).
        Unknown = 13 => "TASK_UNKNOWN",
    }
}

impl TaskState {
    /// Whether the task has ended for good, as Mesos' `isTerminalState`
    /// (`src/common/protobuf_utils.cpp`) decides: FINISHED, FAILED, KILLED,
    /// ERROR, LOST, DROPPED, GONE and GONE_BY_OPERATOR.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Finished
                | TaskState::Failed
                | TaskState::Killed
                | TaskState::Error
                | TaskState::Lost
                | TaskState::Dropped
                | TaskState::Gone
                | TaskState::GoneByOperator
        )
    }
}

/// `TaskInfo`: a task to launch; exactly one of `executor` and `command`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Display name.
    pub name: String,
    /// Framework-chosen id.
    pub task_id: TaskId,
    /// Agent of the offer.
    pub agent_id: AgentId,
    /// Resources for the task.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
    /// A custom executor to run it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<ExecutorInfo>,
    /// A command, run by the command executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Its container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// `HealthCheck`, kept as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<serde_json::Value>,
    /// `CheckInfo`, kept as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<serde_json::Value>,
    /// Kill grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
    /// Opaque framework data for the executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Service discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    /// Kill the task (TASK_FAILED) after this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_time: Option<DurationInfo>,
    /// Limits above the resources (`cpus`, `mem`; may be infinite).
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub limits: BTreeMap<String, Scalar>,
}

/// `TaskGroupInfo`: tasks launched together in one executor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskGroupInfo {
    /// The tasks.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<TaskInfo>,
}

/// `Task`: a launched task as the master and agents track it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Display name.
    pub name: String,
    /// Framework-chosen id.
    pub task_id: TaskId,
    /// Owning framework.
    pub framework_id: FrameworkId,
    /// Executor running it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Agent running it.
    pub agent_id: AgentId,
    /// Latest state.
    pub state: TaskState,
    /// Resources.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
    /// Status history.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub statuses: Vec<TaskStatus>,
    /// State of the latest unacknowledged update.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_update_state: Option<TaskState>,
    /// UUID of the latest unacknowledged update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update_uuid: Option<Bytes>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Service discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    /// Its container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// `HealthCheck`, kept as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<serde_json::Value>,
    /// Kill grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
    /// User it runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Limits above the resources.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub limits: BTreeMap<String, Scalar>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_match_mesos() {
        let terminal: Vec<_> = TaskState::ALL.iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(
            terminal,
            [
                &TaskState::Finished,
                &TaskState::Failed,
                &TaskState::Killed,
                &TaskState::Error,
                &TaskState::Lost,
                &TaskState::Dropped,
                &TaskState::Gone,
                &TaskState::GoneByOperator,
            ]
        );
        assert!(!TaskState::Unreachable.is_terminal());
        assert!(!TaskState::Killing.is_terminal());
    }

    #[test]
    fn task_info_limits_take_infinity() {
        let t: TaskInfo = serde_json::from_str(
            r#"{"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a1"},
                "limits":{"cpus":{"value":"Infinity"},"mem":{"value":512.0}},
                "health_check":{"type":"HTTP","http":{"port":80}},"labels":null}"#,
        )
        .unwrap();
        assert_eq!(t.limits["cpus"].value, f64::INFINITY);
        assert_eq!(t.limits["mem"].value, 512.0);
        assert_eq!(t.health_check.as_ref().unwrap()["http"]["port"], 80);
        let out = serde_json::to_value(&t).unwrap();
        assert_eq!(out["limits"]["cpus"]["value"], "Infinity");
        assert_eq!(serde_json::from_value::<TaskInfo>(out).unwrap(), t);
    }

    #[test]
    fn task_info_requires_its_ids() {
        let err = serde_json::from_str::<TaskInfo>(r#"{"name":"t","task_id":{"value":"t1"}}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains("missing field `agent_id`"),
            "{err}"
        );
    }
}
