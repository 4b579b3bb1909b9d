//! `mesos.v1.executor.Event`: what the agent streams to a subscribed
//! executor. `type` names the event; the payload is in the sub-object named
//! after the lower-cased type. The constructors set both.

use serde::{Deserialize, Serialize};

use super::call::Message;
use crate::ids::{ContainerId, TaskId};
use crate::json::{self, Bytes, enums::proto_enum};
use crate::v1::{AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskGroupInfo, TaskInfo};

proto_enum! {
    /// `Event.Type`.
    pub enum EventType {
        Unknown = 0 => "UNKNOWN",
        Subscribed = 1 => "SUBSCRIBED",
        Launch = 2 => "LAUNCH",
        LaunchGroup = 8 => "LAUNCH_GROUP",
        Kill = 3 => "KILL",
        Acknowledged = 4 => "ACKNOWLEDGED",
        Message = 5 => "MESSAGE",
        Error = 6 => "ERROR",
        Shutdown = 7 => "SHUTDOWN",
        Heartbeat = 9 => "HEARTBEAT",
    }
}

/// `Event.Subscribed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    /// The executor, as the framework launched it.
    pub executor_info: ExecutorInfo,
    /// Its framework.
    pub framework_info: FrameworkInfo,
    /// The agent it runs on.
    pub agent_info: AgentInfo,
    /// Its container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
}

/// `Event.Launch`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    /// The task to run.
    pub task: TaskInfo,
}

/// `Event.LaunchGroup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchGroup {
    /// The tasks to run together.
    pub task_group: TaskGroupInfo,
}

/// `Event.Kill`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    /// The task.
    pub task_id: TaskId,
    /// The grace period to use, overriding the task's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// `Event.Acknowledged`: the agent holds the update with this uuid (the
/// executor stops resending it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    /// The task.
    pub task_id: TaskId,
    /// The update's uuid.
    pub uuid: Bytes,
}

/// `Event.Error`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    /// What went wrong.
    pub message: String,
}

/// `Event`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event; unset when missing or unknown.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<EventType>,
    /// SUBSCRIBED payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<Box<Subscribed>>,
    /// ACKNOWLEDGED payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledged>,
    /// LAUNCH payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Box<Launch>>,
    /// LAUNCH_GROUP payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_group: Option<LaunchGroup>,
    /// KILL payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    /// MESSAGE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// ERROR payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

impl Event {
    fn of(t: EventType) -> Self {
        Event {
            r#type: Some(t),
            ..Event::default()
        }
    }

    /// HEARTBEAT.
    pub fn heartbeat() -> Self {
        Event::of(EventType::Heartbeat)
    }

    /// SHUTDOWN.
    pub fn shutdown() -> Self {
        Event::of(EventType::Shutdown)
    }

    /// SUBSCRIBED.
    pub fn subscribed(s: Subscribed) -> Self {
        Event {
            subscribed: Some(Box::new(s)),
            ..Event::of(EventType::Subscribed)
        }
    }

    /// LAUNCH.
    pub fn launch(task: TaskInfo) -> Self {
        Event {
            launch: Some(Box::new(Launch { task })),
            ..Event::of(EventType::Launch)
        }
    }

    /// LAUNCH_GROUP.
    pub fn launch_group(task_group: TaskGroupInfo) -> Self {
        Event {
            launch_group: Some(LaunchGroup { task_group }),
            ..Event::of(EventType::LaunchGroup)
        }
    }

    /// KILL.
    pub fn kill(task_id: TaskId, kill_policy: Option<KillPolicy>) -> Self {
        Event {
            kill: Some(Kill {
                task_id,
                kill_policy,
            }),
            ..Event::of(EventType::Kill)
        }
    }

    /// ACKNOWLEDGED.
    pub fn acknowledged(task_id: TaskId, uuid: Bytes) -> Self {
        Event {
            acknowledged: Some(Acknowledged { task_id, uuid }),
            ..Event::of(EventType::Acknowledged)
        }
    }

    /// MESSAGE.
    pub fn message(data: Bytes) -> Self {
        Event {
            message: Some(Message { data }),
            ..Event::of(EventType::Message)
        }
    }

    /// ERROR.
    pub fn error(message: impl Into<String>) -> Self {
        Event {
            error: Some(Error {
                message: message.into(),
            }),
            ..Event::of(EventType::Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constructors_set_type_and_payload() {
        let cases = [
            (Event::heartbeat(), json!({"type": "HEARTBEAT"})),
            (Event::shutdown(), json!({"type": "SHUTDOWN"})),
            (
                Event::kill(TaskId::new("t"), None),
                json!({"type": "KILL", "kill": {"task_id": {"value": "t"}}}),
            ),
            (
                Event::acknowledged(TaskId::new("t"), Bytes(vec![1, 2, 3])),
                json!({"type": "ACKNOWLEDGED",
                       "acknowledged": {"task_id": {"value": "t"}, "uuid": "AQID"}}),
            ),
            (
                Event::message(Bytes::from("hi")),
                json!({"type": "MESSAGE", "message": {"data": "aGk="}}),
            ),
            (
                Event::error("no"),
                json!({"type": "ERROR", "error": {"message": "no"}}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(serde_json::to_value(&event).unwrap(), expected);
            assert_eq!(serde_json::from_value::<Event>(expected).unwrap(), event);
        }
    }

    #[test]
    fn every_type_with_a_payload_carries_it() {
        let events = [
            Event::subscribed(Subscribed {
                executor_info: ExecutorInfo::default(),
                framework_info: FrameworkInfo::default(),
                agent_info: AgentInfo::default(),
                container_id: Some(ContainerId::new("c")),
            }),
            Event::launch(TaskInfo::default()),
            Event::launch_group(TaskGroupInfo::default()),
            Event::kill(TaskId::default(), None),
            Event::acknowledged(TaskId::default(), Bytes::default()),
            Event::message(Bytes::default()),
            Event::error(""),
            Event::shutdown(),
            Event::heartbeat(),
        ];
        for t in EventType::ALL.iter().filter(|t| **t != EventType::Unknown) {
            let event = events.iter().find(|e| e.r#type == Some(*t)).unwrap();
            let value = serde_json::to_value(event).unwrap();
            let field = t.name().to_ascii_lowercase();
            let bare = matches!(t, EventType::Heartbeat | EventType::Shutdown);
            assert!(bare || value.get(&field).is_some(), "{t}: {value}");
        }
    }
}
