//! Offers: `Offer` (resources on one agent offered to a framework),
//! `InverseOffer` (a request to give resources back for maintenance) and
//! `Request` (a framework's resource request).

use serde::{Deserialize, Serialize};

use super::common::{DomainInfo, Unavailability, Url};
use super::resource::{AllocationInfo, Resource};
use super::value::Attribute;
use crate::ids::{AgentId, ExecutorId, FrameworkId, OfferId};
use crate::json;

/// `Offer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Offer id.
    pub id: OfferId,
    /// The framework it is offered to.
    pub framework_id: FrameworkId,
    /// The agent the resources are on.
    pub agent_id: AgentId,
    /// The agent's host name.
    pub hostname: String,
    /// The agent's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// The agent's fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
    /// The offered resources.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
    /// The agent's attributes.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attributes: Vec<Attribute>,
    /// The framework's executors already running on the agent.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub executor_ids: Vec<ExecutorId>,
    /// Planned maintenance of the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailability: Option<Unavailability>,
    /// The role the offer is allocated to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_info: Option<AllocationInfo>,
}

/// `InverseOffer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InverseOffer {
    /// Inverse offer id.
    pub id: OfferId,
    /// The agent's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// The framework asked.
    pub framework_id: FrameworkId,
    /// The agent, when a whole agent is asked back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// When the resources become unavailable.
    pub unavailability: Unavailability,
    /// The resources asked back (empty = all on the agent).
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

/// `Request`: resources a framework would like.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// On this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The resources.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_requires_ids_and_hostname() {
        let err = serde_json::from_str::<Offer>(
            r#"{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"}}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("missing field `hostname`"),
            "{err}"
        );
    }

    #[test]
    fn inverse_offer_round_trips() {
        let text = r#"{"id":{"value":"io"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},
            "unavailability":{"start":{"nanoseconds":"10"},"duration":{"nanoseconds":5}}}"#;
        let io: InverseOffer = serde_json::from_str(text).unwrap();
        assert_eq!(io.unavailability.start.nanoseconds, 10);
        assert_eq!(io.unavailability.duration.map(|d| d.nanoseconds), Some(5));
        let back: InverseOffer =
            serde_json::from_value(serde_json::to_value(&io).unwrap()).unwrap();
        assert_eq!(back, io);
    }
}
