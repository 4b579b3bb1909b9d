//! `mesos.v1.scheduler.Event`: what the master streams to a subscribed
//! scheduler. `type` names the event; the payload is in the sub-object named
//! after the lower-cased type. The constructors set both.

use serde::{Deserialize, Serialize};

use super::call::Message;
use crate::ids::{AgentId, ExecutorId, FrameworkId, OfferId};
use crate::json::{self, Bytes, enums::proto_enum};
use crate::v1::{InverseOffer, MasterInfo, Offer, OperationStatus, TaskStatus};

proto_enum! {
    /// `Event.Type`.
    pub enum EventType {
        Unknown = 0 => "UNKNOWN",
        Subscribed = 1 => "SUBSCRIBED",
        Offers = 2 => "OFFERS",
        InverseOffers = 9 => "INVERSE_OFFERS",
        Rescind = 3 => "RESCIND",
        RescindInverseOffer = 10 => "RESCIND_INVERSE_OFFER",
        Update = 4 => "UPDATE",
        UpdateOperationStatus = 11 => "UPDATE_OPERATION_STATUS",
        Message = 5 => "MESSAGE",
        Failure = 6 => "FAILURE",
        Error = 7 => "ERROR",
        Heartbeat = 8 => "HEARTBEAT",
    }
}

/// `Event.Subscribed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    /// The framework's id (new or confirmed).
    pub framework_id: FrameworkId,
    /// Seconds between HEARTBEAT events.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        serialize_with = "json::lenient::option_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub heartbeat_interval_seconds: Option<f64>,
    /// The master.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_info: Option<MasterInfo>,
}

/// `Event.Offers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Offers {
    /// The offers.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offers: Vec<Offer>,
}

/// `Event.InverseOffers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InverseOffers {
    /// The inverse offers.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inverse_offers: Vec<InverseOffer>,
}

/// `Event.Rescind`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rescind {
    /// The offer withdrawn.
    pub offer_id: OfferId,
}

/// `Event.RescindInverseOffer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescindInverseOffer {
    /// The inverse offer withdrawn.
    pub inverse_offer_id: OfferId,
}

/// `Event.Update`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The task status.
    pub status: TaskStatus,
}

/// `Event.UpdateOperationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateOperationStatus {
    /// The operation status.
    pub status: OperationStatus,
}

/// `Event.Failure`: an agent was removed, or an executor ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The executor, when an executor ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// The executor's exit status (wait status).
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<i32>,
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
    pub subscribed: Option<Subscribed>,
    /// OFFERS payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Offers>,
    /// INVERSE_OFFERS payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse_offers: Option<InverseOffers>,
    /// RESCIND payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind: Option<Rescind>,
    /// RESCIND_INVERSE_OFFER payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind_inverse_offer: Option<RescindInverseOffer>,
    /// UPDATE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    /// UPDATE_OPERATION_STATUS payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_operation_status: Option<UpdateOperationStatus>,
    /// MESSAGE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// FAILURE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
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

    /// SUBSCRIBED.
    pub fn subscribed(
        framework_id: FrameworkId,
        heartbeat_interval_seconds: f64,
        master_info: Option<MasterInfo>,
    ) -> Self {
        Event {
            subscribed: Some(Subscribed {
                framework_id,
                heartbeat_interval_seconds: Some(heartbeat_interval_seconds),
                master_info,
            }),
            ..Event::of(EventType::Subscribed)
        }
    }

    /// OFFERS.
    pub fn offers(offers: Vec<Offer>) -> Self {
        Event {
            offers: Some(Offers { offers }),
            ..Event::of(EventType::Offers)
        }
    }

    /// INVERSE_OFFERS.
    pub fn inverse_offers(inverse_offers: Vec<InverseOffer>) -> Self {
        Event {
            inverse_offers: Some(InverseOffers { inverse_offers }),
            ..Event::of(EventType::InverseOffers)
        }
    }

    /// RESCIND.
    pub fn rescind(offer_id: OfferId) -> Self {
        Event {
            rescind: Some(Rescind { offer_id }),
            ..Event::of(EventType::Rescind)
        }
    }

    /// RESCIND_INVERSE_OFFER.
    pub fn rescind_inverse_offer(inverse_offer_id: OfferId) -> Self {
        Event {
            rescind_inverse_offer: Some(RescindInverseOffer { inverse_offer_id }),
            ..Event::of(EventType::RescindInverseOffer)
        }
    }

    /// UPDATE.
    pub fn update(status: TaskStatus) -> Self {
        Event {
            update: Some(Update { status }),
            ..Event::of(EventType::Update)
        }
    }

    /// UPDATE_OPERATION_STATUS.
    pub fn update_operation_status(status: OperationStatus) -> Self {
        Event {
            update_operation_status: Some(UpdateOperationStatus { status }),
            ..Event::of(EventType::UpdateOperationStatus)
        }
    }

    /// MESSAGE.
    pub fn message(agent_id: AgentId, executor_id: ExecutorId, data: Bytes) -> Self {
        Event {
            message: Some(Message {
                agent_id,
                executor_id,
                data,
            }),
            ..Event::of(EventType::Message)
        }
    }

    /// FAILURE.
    pub fn failure(
        agent_id: Option<AgentId>,
        executor_id: Option<ExecutorId>,
        status: Option<i32>,
    ) -> Self {
        Event {
            failure: Some(Failure {
                agent_id,
                executor_id,
                status,
            }),
            ..Event::of(EventType::Failure)
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
            (
                Event::error("Framework is not authorized"),
                json!({"type": "ERROR", "error": {"message": "Framework is not authorized"}}),
            ),
            (
                Event::rescind(OfferId::new("o1")),
                json!({"type": "RESCIND", "rescind": {"offer_id": {"value": "o1"}}}),
            ),
            (
                Event::rescind_inverse_offer(OfferId::new("i1")),
                json!({"type": "RESCIND_INVERSE_OFFER",
                       "rescind_inverse_offer": {"inverse_offer_id": {"value": "i1"}}}),
            ),
            (
                Event::offers(vec![]),
                json!({"type": "OFFERS", "offers": {}}),
            ),
            (
                Event::inverse_offers(vec![]),
                json!({"type": "INVERSE_OFFERS", "inverse_offers": {}}),
            ),
            (
                Event::subscribed(FrameworkId::new("f"), 15.0, None),
                json!({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "f"},
                       "heartbeat_interval_seconds": 15.0}}),
            ),
            (
                Event::message(AgentId::new("a"), ExecutorId::new("e"), Bytes::from("hi")),
                json!({"type": "MESSAGE", "message": {"agent_id": {"value": "a"},
                       "executor_id": {"value": "e"}, "data": "aGk="}}),
            ),
            (
                Event::failure(Some(AgentId::new("a")), None, Some(1)),
                json!({"type": "FAILURE", "failure": {"agent_id": {"value": "a"}, "status": 1}}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(serde_json::to_value(&event).unwrap(), expected);
            assert_eq!(serde_json::from_value::<Event>(expected).unwrap(), event);
        }
    }

    #[test]
    fn every_type_has_a_constructor() {
        let events = [
            Event::heartbeat(),
            Event::error(""),
            Event::rescind(OfferId::default()),
            Event::rescind_inverse_offer(OfferId::default()),
            Event::offers(vec![]),
            Event::inverse_offers(vec![]),
            Event::subscribed(FrameworkId::default(), 1.0, None),
            Event::message(AgentId::default(), ExecutorId::default(), Bytes::default()),
            Event::failure(None, None, None),
            Event::update(TaskStatus::default()),
            Event::update_operation_status(OperationStatus::default()),
        ];
        for t in EventType::ALL.iter().filter(|t| **t != EventType::Unknown) {
            let event = events.iter().find(|e| e.r#type == Some(*t)).unwrap();
            let value = serde_json::to_value(event).unwrap();
            let field = t.name().to_ascii_lowercase();
            assert!(
                *t == EventType::Heartbeat || value.get(&field).is_some(),
                "{t}: {value}"
            );
        }
    }
}
