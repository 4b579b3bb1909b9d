//! `AgentInfo` (how an agent describes itself) and `MasterInfo` (how the
//! master describes itself to schedulers), with their capability enums.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::common::{Address, DomainInfo};
use super::resource::Resource;
use super::value::Attribute;
use crate::ids::AgentId;
use crate::json::{self, enums::proto_enum};

proto_enum! {
    /// `AgentInfo.Capability.Type`.
    pub enum AgentCapabilityType {
        Unknown = 0 => "UNKNOWN",
        MultiRole = 1 => "MULTI_ROLE",
        HierarchicalRole = 2 => "HIERARCHICAL_ROLE",
        ReservationRefinement = 3 => "RESERVATION_REFINEMENT",
        ResourceProvider = 4 => "RESOURCE_PROVIDER",
        ResizeVolume = 5 => "RESIZE_VOLUME",
        AgentOperationFeedback = 6 => "AGENT_OPERATION_FEEDBACK",
        AgentDraining = 7 => "AGENT_DRAINING",
        TaskResourceLimits = 8 => "TASK_RESOURCE_LIMITS",
    }
}

/// `AgentInfo.Capability` (sent by agents when registering).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentCapability {
    /// The capability; unset when the name was unknown.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<AgentCapabilityType>,
}

/// `AgentInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Host name.
    pub hostname: String,
    /// Agent port (default 5051; always printed).
    #[serde(
        default = "json::defaults::agent_port",
        deserialize_with = "json::defaults::agent_port_or_default"
    )]
    pub port: i32,
    /// Total resources.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
    /// Attributes.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attributes: Vec<Attribute>,
    /// Set once registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<AgentId>,
    /// Fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
}

impl Default for AgentInfo {
    fn default() -> Self {
        AgentInfo {
            hostname: String::new(),
            port: json::defaults::AGENT_PORT,
            resources: Vec::new(),
            attributes: Vec::new(),
            id: None,
            domain: None,
        }
    }
}

proto_enum! {
    /// `MasterInfo.Capability.Type`.
    pub enum MasterCapabilityType {
        Unknown = 0 => "UNKNOWN",
        AgentUpdate = 1 => "AGENT_UPDATE",
        AgentDraining = 2 => "AGENT_DRAINING",
        QuotaV2 = 3 => "QUOTA_V2",
    }
}

/// `MasterInfo.Capability`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MasterCapability {
    /// The capability; unset when the name was unknown.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<MasterCapabilityType>,
}

/// `MasterInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterInfo {
    /// Master id (a plain string, not an id message).
    pub id: String,
    /// IPv4 address as Mesos packs it: the `s_addr` bytes read as a
    /// little-endian integer (see [`MasterInfo::ipv4`]).
    #[serde(deserialize_with = "json::lenient::required")]
    pub ip: u32,
    /// Port (proto default 5050, but required).
    #[serde(deserialize_with = "json::lenient::required")]
    pub port: u32,
    /// libprocess PID (`master@10.0.0.1:5050`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// Host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Version string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
    /// Capabilities.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<MasterCapability>,
}

impl MasterInfo {
    /// Packs an IPv4 address the way Mesos fills `ip`.
    pub fn pack_ipv4(addr: Ipv4Addr) -> u32 {
        u32::from_le_bytes(addr.octets())
    }

    /// The IPv4 address in `ip`.
    pub fn ipv4(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.ip.to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_port_defaults_and_is_printed() {
        let a: AgentInfo = serde_json::from_str(r#"{"hostname":"h"}"#).unwrap();
        assert_eq!(a.port, 5051);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"hostname":"h","port":5051}"#
        );
        assert_eq!(
            a,
            AgentInfo {
                hostname: "h".into(),
                ..AgentInfo::default()
            }
        );
        let a: AgentInfo = serde_json::from_str(r#"{"hostname":"h","port":"5052"}"#).unwrap();
        assert_eq!(a.port, 5052);
    }

    #[test]
    fn master_info_ip_packing() {
        let ip = MasterInfo::pack_ipv4(Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(ip, 16_777_343);
        let m: MasterInfo = serde_json::from_str(
            r#"{"id":"m1","ip":16777343,"port":5050,"hostname":"localhost",
                "address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},
                "capabilities":[{"type":"AGENT_UPDATE"}]}"#,
        )
        .unwrap();
        assert_eq!(m.ipv4(), Ipv4Addr::LOCALHOST);
        assert_eq!(
            m.capabilities[0].r#type,
            Some(MasterCapabilityType::AgentUpdate)
        );
        assert!(serde_json::from_str::<MasterInfo>(r#"{"id":"m1","ip":1}"#).is_err());
    }
}
