//! `ContainerInfo` and what it holds besides images and volumes
//! (`volume.rs`) and Linux settings (`linux.rs`): the Docker and Mesos
//! container details and network requests (`NetworkInfo`).

use serde::{Deserialize, Serialize};

use super::common::{Labels, Parameter};
use super::linux::{LinuxInfo, RLimitInfo, TtyInfo};
use super::volume::{Image, Volume};
use crate::json::{self, enums::proto_enum};

proto_enum! {
    /// `NetworkInfo.Protocol`.
    pub enum Protocol {
        IPv4 = 1 => "IPv4",
        IPv6 = 2 => "IPv6",
    }
}

/// `NetworkInfo.IPAddress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpAddress {
    /// Address family (default IPv4; always printed).
    #[serde(default, deserialize_with = "json::enums::or_default")]
    pub protocol: Protocol,
    /// The address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
}

/// `NetworkInfo.PortMapping` and `ContainerInfo.DockerInfo.PortMapping`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    /// Port on the host.
    #[serde(deserialize_with = "json::lenient::required")]
    pub host_port: u32,
    /// Port in the container.
    #[serde(deserialize_with = "json::lenient::required")]
    pub container_port: u32,
    /// `tcp` or `udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// `NetworkInfo`: a network the container joins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// Requested or assigned addresses.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ip_addresses: Vec<IpAddress>,
    /// Network name (CNI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Isolation groups.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<String>,
    /// Labels for network plugins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Port mappings.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub port_mappings: Vec<PortMapping>,
}

proto_enum! {
    /// `ContainerInfo.Type`.
    pub enum ContainerType {
        Docker = 1 => "DOCKER",
        Mesos = 2 => "MESOS",
    }
}

proto_enum! {
    /// `ContainerInfo.DockerInfo.Network`.
    pub enum DockerNetwork {
        Host = 1 => "HOST",
        Bridge = 2 => "BRIDGE",
        None = 3 => "NONE",
        User = 4 => "USER",
    }
}

/// `ContainerInfo.DockerInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerInfo {
    /// Image reference.
    pub image: String,
    /// Network mode (default HOST; always printed).
    #[serde(default, deserialize_with = "json::enums::or_default")]
    pub network: DockerNetwork,
    /// Port mappings (BRIDGE/USER).
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub port_mappings: Vec<PortMapping>,
    /// Run privileged (default false; always printed).
    #[serde(default, deserialize_with = "json::defaults::bool_or_false")]
    pub privileged: bool,
    /// Extra `docker run` parameters.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub parameters: Vec<Parameter>,
    /// Pull even when cached.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub force_pull_image: Option<bool>,
    /// Deprecated volume driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_driver: Option<String>,
}

/// `ContainerInfo.MesosInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MesosInfo {
    /// The root filesystem image; unset = the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
}

/// `ContainerInfo`: how to containerize a task or executor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// DOCKER or MESOS.
    pub r#type: ContainerType,
    /// Volumes to mount.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes: Vec<Volume>,
    /// Host name inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Docker details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerInfo>,
    /// Mesos containerizer details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesos: Option<MesosInfo>,
    /// Networks to join.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub network_infos: Vec<NetworkInfo>,
    /// Linux settings (capabilities, namespaces, seccomp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linux_info: Option<LinuxInfo>,
    /// Resource limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rlimit_info: Option<RLimitInfo>,
    /// A TTY for the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty_info: Option<TtyInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::volume::{ImageType, VolumeMode, VolumeSourceType};

    #[test]
    fn mesos_container_with_docker_image() {
        let text = r#"{"type":"MESOS","mesos":{"image":{"type":"DOCKER",
            "docker":{"name":"library/busybox"}}},
            "volumes":[{"mode":"RO","container_path":"/etc/x","source":{"type":"HOST_PATH",
                "host_path":{"path":"/etc/x","mount_propagation":{"mode":"BIDIRECTIONAL"}}}}],
            "network_infos":[{"name":"cni0","ip_addresses":[{}],
                "port_mappings":[{"host_port":"31000","container_port":80}]}]}"#;
        let c: ContainerInfo = serde_json::from_str(text).unwrap();
        assert_eq!(c.r#type, ContainerType::Mesos);
        let image = c.mesos.as_ref().and_then(|m| m.image.clone()).unwrap();
        assert_eq!(image, Image::docker("library/busybox"));
        assert!(image.cached);
        assert_eq!(c.volumes[0].mode, VolumeMode::Ro);
        let source = c.volumes[0].source.clone().unwrap();
        assert_eq!(source.r#type, Some(VolumeSourceType::HostPath));
        assert_eq!(c.network_infos[0].ip_addresses[0].protocol, Protocol::IPv4);
        assert_eq!(c.network_infos[0].port_mappings[0].host_port, 31000);
        let out = serde_json::to_value(&c).unwrap();
        // Defaulted fields are printed, as stout does.
        assert_eq!(out["mesos"]["image"]["cached"], true);
        assert_eq!(
            out["network_infos"][0]["ip_addresses"][0]["protocol"],
            "IPv4"
        );
        assert_eq!(serde_json::from_value::<ContainerInfo>(out).unwrap(), c);
    }

    #[test]
    fn docker_info_defaults() {
        let d: DockerInfo = serde_json::from_str(r#"{"image":"nginx"}"#).unwrap();
        assert_eq!(d.network, DockerNetwork::Host);
        assert!(!d.privileged);
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"image":"nginx","network":"HOST","privileged":false}"#
        );
        let d: DockerInfo =
            serde_json::from_str(r#"{"image":"nginx","network":"OVERLAY"}"#).unwrap();
        assert_eq!(d.network, DockerNetwork::Host);
        assert_eq!(
            serde_json::from_str::<Image>(r#"{"type":"APPC"}"#).unwrap(),
            Image {
                r#type: ImageType::Appc,
                ..Image::default()
            }
        );
    }
}
