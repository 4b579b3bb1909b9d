//! `mesos.v1.executor.Call`: what an executor POSTs to the agent. `type`
//! names the call; the payload is in the sub-object named after the
//! lower-cased type (`update` for UPDATE).

use serde::{Deserialize, Serialize};

use crate::ids::{ExecutorId, FrameworkId};
use crate::json::{self, Bytes, enums::proto_enum};
use crate::v1::{TaskInfo, TaskStatus};

proto_enum! {
    /// `Call.Type`.
    pub enum CallType {
        Unknown = 0 => "UNKNOWN",
        Subscribe = 1 => "SUBSCRIBE",
        Update = 2 => "UPDATE",
        Message = 3 => "MESSAGE",
    }
}

/// `Call.Update`: a task's status, resent by the executor until the agent
/// acknowledges its `uuid`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The status (`uuid` and `source` SOURCE_EXECUTOR set).
    pub status: TaskStatus,
}

/// `Call.Subscribe`: what a (re)subscribing executor still holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    /// Tasks it was given and has no acknowledged update of.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unacknowledged_tasks: Vec<TaskInfo>,
    /// Updates the agent has not acknowledged.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unacknowledged_updates: Vec<Update>,
}

/// `Call.Message` and `Event.Message`: opaque bytes between an executor
/// and its scheduler.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The data.
    pub data: Bytes,
}

/// `Call`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// The calling executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Its framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// The call; unset when missing or unknown.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<CallType>,
    /// SUBSCRIBE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    /// UPDATE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    /// MESSAGE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{Source, TaskState};

    #[test]
    fn a_pymesos_update_parses() {
        // As pymesos 0.3.15's MesosExecutorDriver.sendStatusUpdate sends it.
        let text = r#"{"type": "UPDATE", "executor_id": {"value": "e1"},
            "framework_id": {"value": "f1"},
            "update": {"status": {"task_id": {"value": "t1"}, "state": "TASK_RUNNING",
                "timestamp": 1700000000, "uuid": "AAECAwQFBgcICQoLDA0ODw==",
                "source": "SOURCE_EXECUTOR"}}}"#;
        let call: Call = crate::json::from_str(text).unwrap();
        assert_eq!(call.r#type, Some(CallType::Update));
        let s = &call.update.as_ref().unwrap().status;
        assert_eq!(
            (s.state, s.source),
            (TaskState::Running, Some(Source::Executor))
        );
        assert_eq!(s.uuid.as_ref().map(|u| u.as_slice().len()), Some(16));
        let back = crate::json::to_string(&call).unwrap();
        assert_eq!(crate::json::from_str::<Call>(&back).unwrap(), call);
    }

    #[test]
    fn subscribe_with_nulls_and_unknown_keys() {
        let call: Call = crate::json::from_str(
            r#"{"type":"SUBSCRIBE","executor_id":{"value":"e"},"framework_id":{"value":"f"},
                "subscribe":{"unacknowledged_tasks":null,"unacknowledged_updates":[],"x":1}}"#,
        )
        .unwrap();
        assert_eq!(call.subscribe, Some(Subscribe::default()));
        let unknown: Call = crate::json::from_str(r#"{"type":"NOPE"}"#).unwrap();
        assert_eq!(unknown.r#type, None);
    }
}
