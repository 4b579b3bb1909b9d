//! Container images (`Image`: Docker or AppC) and volumes (`Volume`: host
//! paths, sandbox paths, Docker volumes, secrets, images) mounted into
//! containers.

use serde::{Deserialize, Serialize};

use super::common::{Credential, Labels, Parameters, Secret};
use crate::json::{self, enums::proto_enum};

proto_enum! {
    /// `Image.Type`.
    pub enum ImageType {
        Appc = 1 => "APPC",
        Docker = 2 => "DOCKER",
    }
}

/// `Image.Appc`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppcImage {
    /// Image name.
    pub name: String,
    /// Image id (`sha512-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Image labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// `Image.Docker`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerImage {
    /// Image reference (`library/busybox:latest`).
    pub name: String,
    /// Deprecated registry credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// Docker config (auth) as a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Secret>,
}

/// `Image`: a container image for the Mesos containerizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// APPC or DOCKER.
    pub r#type: ImageType,
    /// For APPC images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appc: Option<AppcImage>,
    /// For DOCKER images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerImage>,
    /// Whether a cached copy may be used (default true; always printed).
    #[serde(
        default = "json::defaults::r#true",
        deserialize_with = "json::defaults::bool_or_true"
    )]
    pub cached: bool,
}

impl Default for Image {
    fn default() -> Self {
        Image {
            r#type: ImageType::default(),
            appc: None,
            docker: None,
            cached: true,
        }
    }
}

impl Image {
    /// A Docker image named `name`.
    pub fn docker(name: impl Into<String>) -> Self {
        Image {
            r#type: ImageType::Docker,
            docker: Some(DockerImage {
                name: name.into(),
                ..DockerImage::default()
            }),
            ..Image::default()
        }
    }
}

proto_enum! {
    /// `Volume.Mode`.
    pub enum VolumeMode {
        Rw = 1 => "RW",
        Ro = 2 => "RO",
    }
}

proto_enum! {
    /// `Volume.Source.Type`.
    pub enum VolumeSourceType {
        Unknown = 0 => "UNKNOWN",
        DockerVolume = 1 => "DOCKER_VOLUME",
        HostPath = 4 => "HOST_PATH",
        SandboxPath = 2 => "SANDBOX_PATH",
        Secret = 3 => "SECRET",
        CsiVolume = 5 => "CSI_VOLUME",
    }
}

proto_enum! {
    /// `MountPropagation.Mode`.
    pub enum MountPropagationMode {
        Unknown = 0 => "UNKNOWN",
        HostToContainer = 1 => "HOST_TO_CONTAINER",
        Bidirectional = 2 => "BIDIRECTIONAL",
    }
}

proto_enum! {
    /// `Volume.Source.SandboxPath.Type`.
    pub enum SandboxPathType {
        Unknown = 0 => "UNKNOWN",
        SelfPath = 1 => "SELF",
        Parent = 2 => "PARENT",
    }
}

/// `MountPropagation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MountPropagation {
    /// The propagation mode.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub mode: Option<MountPropagationMode>,
}

/// `Volume.Source.DockerVolume`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerVolume {
    /// Volume driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Volume name.
    pub name: String,
    /// Driver options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_options: Option<Parameters>,
}

/// `Volume.Source.HostPath`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostPath {
    /// Path on the host.
    pub path: String,
    /// Mount propagation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_propagation: Option<MountPropagation>,
}

/// `Volume.Source.SandboxPath`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxPath {
    /// Own sandbox or the parent's.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<SandboxPathType>,
    /// Path relative to the sandbox.
    pub path: String,
}

/// `Volume.Source`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeSource {
    /// Which field is set.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<VolumeSourceType>,
    /// A Docker volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_volume: Option<DockerVolume>,
    /// A host path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPath>,
    /// A sandbox path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_path: Option<SandboxPath>,
    /// A secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// A CSI volume, kept as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi_volume: Option<serde_json::Value>,
}

/// `Volume`: something mounted into a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Read-write or read-only.
    pub mode: VolumeMode,
    /// Path in the container.
    pub container_path: String,
    /// Deprecated: path on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    /// An image to mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Where the volume comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VolumeSource>,
}
