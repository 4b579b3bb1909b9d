//! `FrameworkInfo` (how a scheduler describes itself on SUBSCRIBE), its
//! capabilities and per-role `OfferFilters`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::Labels;
use super::value::Scalar;
use crate::ids::FrameworkId;
use crate::json::{self, enums::proto_enum};

proto_enum! {
    /// `FrameworkInfo.Capability.Type`.
    pub enum FrameworkCapabilityType {
        Unknown = 0 => "UNKNOWN",
        RevocableResources = 1 => "REVOCABLE_RESOURCES",
        TaskKillingState = 2 => "TASK_KILLING_STATE",
        GpuResources = 3 => "GPU_RESOURCES",
        SharedResources = 4 => "SHARED_RESOURCES",
        PartitionAware = 5 => "PARTITION_AWARE",
        MultiRole = 6 => "MULTI_ROLE",
        ReservationRefinement = 7 => "RESERVATION_REFINEMENT",
        RegionAware = 8 => "REGION_AWARE",
    }
}

/// `FrameworkInfo.Capability`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FrameworkCapability {
    /// The capability; unset when the name was unknown.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<FrameworkCapabilityType>,
}

impl From<FrameworkCapabilityType> for FrameworkCapability {
    fn from(t: FrameworkCapabilityType) -> Self {
        FrameworkCapability { r#type: Some(t) }
    }
}

/// `OfferFilters.ResourceQuantities`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceQuantities {
    /// Quantity per resource name.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub quantities: BTreeMap<String, Scalar>,
}

/// `OfferFilters.MinAllocatableResources`: offer only when one of these
/// quantity sets fits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MinAllocatableResources {
    /// Alternatives.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub quantities: Vec<ResourceQuantities>,
}

/// `OfferFilters`: per-role filters the allocator applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferFilters {
    /// Minimum offer size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_allocatable_resources: Option<MinAllocatableResources>,
}

/// `FrameworkInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameworkInfo {
    /// Default user for tasks.
    pub user: String,
    /// Framework name.
    pub name: String,
    /// Set when resubscribing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FrameworkId>,
    /// Seconds the master waits for a disconnected scheduler (default 0;
    /// always printed).
    #[serde(
        default,
        deserialize_with = "json::defaults::failover_timeout_or_default",
        serialize_with = "json::lenient::f64"
    )]
    pub failover_timeout: f64,
    /// Whether agents checkpoint its tasks (default false; always printed).
    #[serde(default, deserialize_with = "json::defaults::bool_or_false")]
    pub checkpoint: bool,
    /// Deprecated single role (without MULTI_ROLE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Roles (with MULTI_ROLE).
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<String>,
    /// Scheduler host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Authentication principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Web UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webui_url: Option<String>,
    /// Capabilities.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<FrameworkCapability>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Offer filters per role.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub offer_filters: BTreeMap<String, OfferFilters>,
}

impl FrameworkInfo {
    /// A framework named `name` whose tasks run as `user`.
    pub fn new(user: impl Into<String>, name: impl Into<String>) -> Self {
        FrameworkInfo {
            user: user.into(),
            name: name.into(),
            ..FrameworkInfo::default()
        }
    }

    /// Whether the framework declared `capability`.
    pub fn has_capability(&self, capability: FrameworkCapabilityType) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.r#type == Some(capability))
    }

    /// The roles it subscribes to, as Mesos decides: `roles` with
    /// MULTI_ROLE, else the single `role` (default `*`).
    pub fn effective_roles(&self) -> Vec<String> {
        if self.has_capability(FrameworkCapabilityType::MultiRole) {
            self.roles.clone()
        } else {
            vec![self.role.clone().unwrap_or_else(|| "*".to_owned())]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_info_from_the_docs() {
        let f: FrameworkInfo = serde_json::from_str(
            r#"{"user":"foo","name":"Example HTTP Framework","roles":["test1","test2"],
                "capabilities":[{"type":"MULTI_ROLE"},{"type":"FLYING"}]}"#,
        )
        .unwrap();
        assert_eq!(f.user, "foo");
        assert!(f.has_capability(FrameworkCapabilityType::MultiRole));
        assert_eq!(f.capabilities[1], FrameworkCapability { r#type: None });
        assert_eq!(f.effective_roles(), ["test1", "test2"]);
        let out = serde_json::to_value(&f).unwrap();
        assert_eq!(out["failover_timeout"], 0.0);
        assert_eq!(out["checkpoint"], false);
        assert!(out.get("role").is_none());
        assert_eq!(
            out["capabilities"],
            serde_json::json!([{"type": "MULTI_ROLE"}, {}])
        );
    }

    #[test]
    fn single_role_and_offer_filters() {
        let f: FrameworkInfo = serde_json::from_str(
            r#"{"user":"u","name":"n","role":"web","failover_timeout":"604800",
                "checkpoint":"true","offer_filters":{"web":{"min_allocatable_resources":
                {"quantities":[{"quantities":{"cpus":{"value":1},"mem":{"value":"256"}}}]}}}}"#,
        )
        .unwrap();
        assert_eq!(f.effective_roles(), ["web"]);
        assert_eq!(f.failover_timeout, 604800.0);
        assert!(f.checkpoint);
        let min = f.offer_filters["web"]
            .min_allocatable_resources
            .clone()
            .unwrap();
        assert_eq!(min.quantities[0].quantities["mem"].value, 256.0);
        assert_eq!(FrameworkInfo::new("u", "n").effective_roles(), ["*"]);
        let back: FrameworkInfo =
            serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(back, f);
    }
}
