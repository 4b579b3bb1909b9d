//! `TaskStatus` (a task state change as executors, agents and the master
//! report it), its `Source` and `Reason`, and the `ContainerStatus` it may
//! carry.

use serde::{Deserialize, Serialize};

use super::common::{Labels, TimeInfo};
use super::container::NetworkInfo;
use super::resource::Resource;
use super::task::TaskState;
use crate::ids::{AgentId, ContainerId, ExecutorId, TaskId};
use crate::json::{self, Bytes, enums::proto_enum};

proto_enum! {
    /// `TaskStatus.Source`: who generated the update.
    pub enum Source {
        Master = 0 => "SOURCE_MASTER",
        Agent = 1 => "SOURCE_AGENT",
        Executor = 2 => "SOURCE_EXECUTOR",
    }
}

proto_enum! {
    /// `TaskStatus.Reason`: why the state changed (every value of Mesos 1.11).
    pub enum Reason {
        CommandExecutorFailed = 0 => "REASON_COMMAND_EXECUTOR_FAILED",
        ContainerLaunchFailed = 21 => "REASON_CONTAINER_LAUNCH_FAILED",
        ContainerLimitation = 19 => "REASON_CONTAINER_LIMITATION",
        ContainerLimitationDisk = 20 => "REASON_CONTAINER_LIMITATION_DISK",
        ContainerLimitationMemory = 8 => "REASON_CONTAINER_LIMITATION_MEMORY",
        ContainerPreempted = 17 => "REASON_CONTAINER_PREEMPTED",
        ContainerUpdateFailed = 22 => "REASON_CONTAINER_UPDATE_FAILED",
        MaxCompletionTimeReached = 33 => "REASON_MAX_COMPLETION_TIME_REACHED",
        ExecutorRegistrationTimeout = 23 => "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        ExecutorReregistrationTimeout = 24 => "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
        ExecutorTerminated = 1 => "REASON_EXECUTOR_TERMINATED",
        ExecutorUnregistered = 2 => "REASON_EXECUTOR_UNREGISTERED",
        FrameworkRemoved = 3 => "REASON_FRAMEWORK_REMOVED",
        GcError = 4 => "REASON_GC_ERROR",
        InvalidFrameworkid = 5 => "REASON_INVALID_FRAMEWORKID",
        InvalidOffers = 6 => "REASON_INVALID_OFFERS",
        IoSwitchboardExited = 27 => "REASON_IO_SWITCHBOARD_EXITED",
        MasterDisconnected = 7 => "REASON_MASTER_DISCONNECTED",
        Reconciliation = 9 => "REASON_RECONCILIATION",
        ResourcesUnknown = 18 => "REASON_RESOURCES_UNKNOWN",
        AgentDisconnected = 10 => "REASON_AGENT_DISCONNECTED",
        AgentDraining = 34 => "REASON_AGENT_DRAINING",
        AgentRemoved = 11 => "REASON_AGENT_REMOVED",
        AgentRemovedByOperator = 31 => "REASON_AGENT_REMOVED_BY_OPERATOR",
        AgentReregistered = 32 => "REASON_AGENT_REREGISTERED",
        AgentRestarted = 12 => "REASON_AGENT_RESTARTED",
        AgentUnknown = 13 => "REASON_AGENT_UNKNOWN",
        TaskKilledDuringLaunch = 30 => "REASON_TASK_KILLED_DURING_LAUNCH",
        TaskCheckStatusUpdated = 28 => "REASON_TASK_CHECK_STATUS_UPDATED",
        TaskHealthCheckStatusUpdated = 29 => "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        TaskGroupInvalid = 25 => "REASON_TASK_GROUP_INVALID",
        TaskGroupUnauthorized = 26 => "REASON_TASK_GROUP_UNAUTHORIZED",
        TaskInvalid = 14 => "REASON_TASK_INVALID",
        TaskUnauthorized = 15 => "REASON_TASK_UNAUTHORIZED",
        TaskUnknown = 16 => "REASON_TASK_UNKNOWN",
    }
}

/// `CgroupInfo.NetCls`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetCls {
    /// The net_cls class id.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub classid: Option<u32>,
}

/// `CgroupInfo`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupInfo {
    /// net_cls details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_cls: Option<NetCls>,
}

/// `ContainerStatus`: container details reported with a status update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerStatus {
    /// The container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
    /// Networks and addresses it got.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub network_infos: Vec<NetworkInfo>,
    /// cgroup details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_info: Option<CgroupInfo>,
    /// PID of the executor.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub executor_pid: Option<u32>,
}

/// `TaskResourceLimitation`: the resources whose limit was hit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskResourceLimitation {
    /// The resources.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

/// `TaskStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    /// The task.
    pub task_id: TaskId,
    /// Its new state.
    pub state: TaskState,
    /// Human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who generated it.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<Source>,
    /// Why.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub reason: Option<Reason>,
    /// Opaque executor data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Seconds since the epoch.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        serialize_with = "json::lenient::option_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<f64>,
    /// Set on updates that are retried until acknowledged (16 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Bytes>,
    /// Health check result.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub healthy: Option<bool>,
    /// `CheckStatusInfo`, kept as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_status: Option<serde_json::Value>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Container details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_status: Option<ContainerStatus>,
    /// When the task became unreachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable_time: Option<TimeInfo>,
    /// The limit hit, for limitation failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limitation: Option<TaskResourceLimitation>,
}

impl TaskStatus {
    /// A status of `task_id` in `state`, other fields unset.
    pub fn new(task_id: TaskId, state: TaskState) -> Self {
        TaskStatus {
            task_id,
            state,
            ..TaskStatus::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_status_round_trips() {
        let text = r#"{"task_id":{"value":"t"},"state":"TASK_FAILED","message":"OOM",
            "source":"SOURCE_AGENT","reason":"REASON_CONTAINER_LIMITATION_MEMORY",
            "agent_id":{"value":"a"},"executor_id":{"value":"e"},"timestamp":"1700000000.5",
            "uuid":"AAECAwQFBgcICQoLDA0ODw==","healthy":"false",
            "container_status":{"container_id":{"value":"c"},"executor_pid":4242,
                "cgroup_info":{"net_cls":{"classid":1}}},
            "unreachable_time":{"nanoseconds":1},
            "limitation":{"resources":[{"name":"mem","type":"SCALAR","scalar":{"value":64}}]}}"#;
        let s: TaskStatus = serde_json::from_str(text).unwrap();
        assert_eq!(s.state, TaskState::Failed);
        assert_eq!(s.source, Some(Source::Agent));
        assert_eq!(s.reason, Some(Reason::ContainerLimitationMemory));
        assert_eq!(s.timestamp, Some(1_700_000_000.5));
        assert_eq!(
            s.uuid.as_ref().map(Bytes::as_slice),
            Some(&(0u8..16).collect::<Vec<_>>()[..])
        );
        assert_eq!(s.healthy, Some(false));
        assert_eq!(
            s.container_status.as_ref().and_then(|c| c.executor_pid),
            Some(4242)
        );
        let out = serde_json::to_value(&s).unwrap();
        assert_eq!(out["timestamp"], 1_700_000_000.5);
        assert_eq!(out["uuid"], "AAECAwQFBgcICQoLDA0ODw==");
        assert_eq!(out["healthy"], false);
        assert_eq!(serde_json::from_value::<TaskStatus>(out).unwrap(), s);
    }

    #[test]
    fn unknown_reason_is_dropped_unknown_state_is_an_error() {
        let s: TaskStatus = serde_json::from_str(
            r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","reason":"REASON_FROM_THE_FUTURE"}"#,
        )
        .unwrap();
        assert_eq!(s, TaskStatus::new(TaskId::new("t"), TaskState::Running));
        assert!(
            serde_json::from_str::<TaskStatus>(
                r#"{"task_id":{"value":"t"},"state":"TASK_SLEEPING"}"#
            )
            .is_err()
        );
    }
}
