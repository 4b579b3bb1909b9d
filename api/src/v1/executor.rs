//! `ExecutorInfo` (the process that runs a framework's tasks on an agent)
//! and `DiscoveryInfo` (service discovery details of tasks and executors).

use serde::{Deserialize, Serialize};

use super::command::CommandInfo;
use super::common::{DurationInfo, Labels};
use super::container::ContainerInfo;
use super::resource::Resource;
use crate::ids::{ExecutorId, FrameworkId};
use crate::json::{self, Bytes, enums::proto_enum};

proto_enum! {
    /// `ExecutorInfo.Type`.
    pub enum ExecutorType {
        Unknown = 0 => "UNKNOWN",
        Default = 1 => "DEFAULT",
        Custom = 2 => "CUSTOM",
    }
}

/// `ExecutorInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecutorInfo {
    /// DEFAULT (built-in, runs task groups) or CUSTOM (the framework's).
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<ExecutorType>,
    /// The executor's id.
    pub executor_id: ExecutorId,
    /// The owning framework (filled in by the master).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// The command that starts a CUSTOM executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Its container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// Resources for the executor itself.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Deprecated source tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Opaque framework data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    /// Service discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    /// How long to wait for the executor to exit on shutdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_grace_period: Option<DurationInfo>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

proto_enum! {
    /// `DiscoveryInfo.Visibility`.
    pub enum Visibility {
        Framework = 0 => "FRAMEWORK",
        Cluster = 1 => "CLUSTER",
        External = 2 => "EXTERNAL",
    }
}

/// `Port`: a named port for service discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    /// Port number.
    #[serde(deserialize_with = "json::lenient::required")]
    pub number: u32,
    /// Port name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Visibility.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility: Option<Visibility>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// `Ports`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    /// The ports.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<Port>,
}

/// `DiscoveryInfo`: how a task or executor is found by service discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryInfo {
    /// Who may see it.
    pub visibility: Visibility,
    /// Service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Environment (prod, staging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Location (data center, rack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Ports>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executor_from_the_docs() {
        let e: ExecutorInfo = serde_json::from_str(
            r#"{"command":{"shell":true,"value":"sleep 1000"},
                "executor_id":{"value":"12214-23523-my-executor"}}"#,
        )
        .unwrap();
        assert_eq!(e.executor_id.as_str(), "12214-23523-my-executor");
        assert_eq!(e.command, Some(CommandInfo::shell("sleep 1000")));
        assert_eq!(e.r#type, None);
        assert!(serde_json::from_str::<ExecutorInfo>(r#"{"type":"DEFAULT"}"#).is_err());
    }

    #[test]
    fn executor_round_trip_with_data_and_discovery() {
        let text = r#"{"type":"DEFAULT","executor_id":{"value":"e"},"framework_id":{"value":"f"},
            "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}],"name":"n",
            "data":"AAEC","discovery":{"visibility":"CLUSTER","name":"web",
            "ports":{"ports":[{"number":"8080","name":"http","visibility":"EXTERNAL"}]}},
            "shutdown_grace_period":{"nanoseconds":5000000000}}"#;
        let e: ExecutorInfo = serde_json::from_str(text).unwrap();
        assert_eq!(e.r#type, Some(ExecutorType::Default));
        assert_eq!(e.data.as_ref().map(Bytes::as_slice), Some(&[0u8, 1, 2][..]));
        let d = e.discovery.clone().unwrap();
        assert_eq!(d.visibility, Visibility::Cluster);
        assert_eq!(d.ports.unwrap().ports[0].number, 8080);
        let out = serde_json::to_value(&e).unwrap();
        assert_eq!(out["data"], "AAEC");
        assert_eq!(serde_json::from_value::<ExecutorInfo>(out).unwrap(), e);
    }
}
