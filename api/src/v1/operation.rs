//! Operations on offered resources (`Offer.Operation`: launch, launch a
//! group, reserve, unreserve, create and destroy volumes, resize volumes,
//! create and destroy disks) and the status of operations
//! (`OperationStatus`, `OperationState`).

use serde::{Deserialize, Serialize};

use super::executor::ExecutorInfo;
use super::resource::{DiskSourceType, Resource};
use super::task::{TaskGroupInfo, TaskInfo};
use super::value::Scalar;
use crate::ids::{AgentId, OperationId, ResourceProviderId};
use crate::json::{self, Bytes, enums::proto_enum};

proto_enum! {
    /// `Offer.Operation.Type`.
    pub enum OperationType {
        Unknown = 0 => "UNKNOWN",
        Launch = 1 => "LAUNCH",
        LaunchGroup = 6 => "LAUNCH_GROUP",
        Reserve = 2 => "RESERVE",
        Unreserve = 3 => "UNRESERVE",
        Create = 4 => "CREATE",
        Destroy = 5 => "DESTROY",
        GrowVolume = 11 => "GROW_VOLUME",
        ShrinkVolume = 12 => "SHRINK_VOLUME",
        CreateDisk = 13 => "CREATE_DISK",
        DestroyDisk = 14 => "DESTROY_DISK",
    }
}

/// `Offer.Operation.Launch`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    /// Tasks to launch.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub task_infos: Vec<TaskInfo>,
}

/// `Offer.Operation.LaunchGroup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchGroup {
    /// The (default) executor to run the group.
    pub executor: ExecutorInfo,
    /// The tasks.
    pub task_group: TaskGroupInfo,
}

/// `Offer.Operation.Reserve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reserve {
    /// The resources as offered (for refinement).
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub source: Vec<Resource>,
    /// The resources with the new reservation.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

/// `Offer.Operation.Unreserve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Unreserve {
    /// The reserved resources to release.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

/// `Offer.Operation.Create` and `.Destroy`: persistent volumes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Volumes {
    /// The volumes.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes: Vec<Resource>,
}

/// `Offer.Operation.GrowVolume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GrowVolume {
    /// The volume.
    pub volume: Resource,
    /// Disk to add to it.
    pub addition: Resource,
}

/// `Offer.Operation.ShrinkVolume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShrinkVolume {
    /// The volume.
    pub volume: Resource,
    /// How much to take away.
    pub subtract: Scalar,
}

/// `Offer.Operation.CreateDisk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateDisk {
    /// A RAW disk.
    pub source: Resource,
    /// MOUNT or BLOCK.
    pub target_type: DiskSourceType,
    /// Storage profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_profile: Option<String>,
}

/// `Offer.Operation.DestroyDisk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DestroyDisk {
    /// A MOUNT or BLOCK disk.
    pub source: Resource,
}

/// `Offer.Operation`: what to do with accepted resources; `type` says which
/// sub-object (named after the lower-cased type) holds the details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferOperation {
    /// The kind of operation; unset when missing or unknown.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<OperationType>,
    /// Set to get operation status updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<OperationId>,
    /// LAUNCH details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    /// LAUNCH_GROUP details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_group: Option<LaunchGroup>,
    /// RESERVE details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve: Option<Reserve>,
    /// UNRESERVE details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreserve: Option<Unreserve>,
    /// CREATE details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<Volumes>,
    /// DESTROY details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy: Option<Volumes>,
    /// GROW_VOLUME details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grow_volume: Option<GrowVolume>,
    /// SHRINK_VOLUME details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink_volume: Option<ShrinkVolume>,
    /// CREATE_DISK details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_disk: Option<CreateDisk>,
    /// DESTROY_DISK details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_disk: Option<DestroyDisk>,
}

/// An operation whose `type` does not match its contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationShapeError {
    /// `type` is missing or not a known operation.
    #[error("operation has no 'type' (or an unknown one)")]
    MissingType,
    /// The sub-object the type needs is absent.
    #[error("operation of type {operation} has no '{field}' object")]
    MissingObject {
        /// The operation type.
        operation: OperationType,
        /// The absent field.
        field: &'static str,
    },
}

impl OfferOperation {
    /// A LAUNCH of `tasks`.
    pub fn launch(tasks: Vec<TaskInfo>) -> Self {
        OfferOperation {
            r#type: Some(OperationType::Launch),
            launch: Some(Launch { task_infos: tasks }),
            ..OfferOperation::default()
        }
    }

    /// A LAUNCH_GROUP of `group` in `executor`.
    pub fn launch_group(executor: ExecutorInfo, group: TaskGroupInfo) -> Self {
        OfferOperation {
            r#type: Some(OperationType::LaunchGroup),
            launch_group: Some(LaunchGroup {
                executor,
                task_group: group,
            }),
            ..OfferOperation::default()
        }
    }

    /// Checks that the sub-object named by `type` is present (UNKNOWN needs
    /// none).
    pub fn validate_shape(&self) -> Result<(), OperationShapeError> {
        let t = self.r#type.ok_or(OperationShapeError::MissingType)?;
        let (present, field) = match t {
            OperationType::Unknown => (true, "type"),
            OperationType::Launch => (self.launch.is_some(), "launch"),
            OperationType::LaunchGroup => (self.launch_group.is_some(), "launch_group"),
            OperationType::Reserve => (self.reserve.is_some(), "reserve"),
            OperationType::Unreserve => (self.unreserve.is_some(), "unreserve"),
            OperationType::Create => (self.create.is_some(), "create"),
            OperationType::Destroy => (self.destroy.is_some(), "destroy"),
            OperationType::GrowVolume => (self.grow_volume.is_some(), "grow_volume"),
            OperationType::ShrinkVolume => (self.shrink_volume.is_some(), "shrink_volume"),
            OperationType::CreateDisk => (self.create_disk.is_some(), "create_disk"),
            OperationType::DestroyDisk => (self.destroy_disk.is_some(), "destroy_disk"),
        };
        if present {
            Ok(())
        } else {
            Err(OperationShapeError::MissingObject {
                operation: t,
                field,
            })
        }
    }
}

proto_enum! {
    /// `OperationState`.
    pub enum OperationState {
        Unsupported = 0 => "OPERATION_UNSUPPORTED",
        Pending = 1 => "OPERATION_PENDING",
        Finished = 2 => "OPERATION_FINISHED",
        Failed = 3 => "OPERATION_FAILED",
        Error = 4 => "OPERATION_ERROR",
        Dropped = 5 => "OPERATION_DROPPED",
        Unreachable = 6 => "OPERATION_UNREACHABLE",
        GoneByOperator = 7 => "OPERATION_GONE_BY_OPERATOR",
        Recovering = 8 => "OPERATION_RECOVERING",
        Unknown = 9 => "OPERATION_UNKNOWN",
    }
}

impl OperationState {
    /// Whether the operation has ended, as Mesos' `isTerminalState` decides.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            OperationState::Dropped
                | OperationState::Error
                | OperationState::Failed
                | OperationState::Finished
                | OperationState::GoneByOperator
        )
    }
}

/// `UUID`: 16 raw bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Uuid {
    /// The bytes.
    pub value: Bytes,
}

/// `OperationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationStatus {
    /// The framework's operation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<OperationId>,
    /// The state.
    pub state: OperationState,
    /// Explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Resources the operation produced.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub converted_resources: Vec<Resource>,
    /// Set on updates that are retried until acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Uuid>,
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The resource provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_provider_id: Option<ResourceProviderId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_validation() {
        assert_eq!(OfferOperation::launch(vec![]).validate_shape(), Ok(()));
        let op: OfferOperation = serde_json::from_str(r#"{"type":"RESERVE"}"#).unwrap();
        let err = op.validate_shape().unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation of type RESERVE has no 'reserve' object"
        );
        let op: OfferOperation = serde_json::from_str(r#"{"type":"TELEPORT"}"#).unwrap();
        assert_eq!(op.validate_shape(), Err(OperationShapeError::MissingType));
    }

    #[test]
    fn reserve_and_create_disk_parse() {
        let op: OfferOperation = serde_json::from_str(
            r#"{"type":"CREATE_DISK","id":{"value":"op1"},"create_disk":{"source":{"name":"disk",
                "type":"SCALAR","scalar":{"value":1024}},"target_type":"MOUNT"}}"#,
        )
        .unwrap();
        assert_eq!(op.validate_shape(), Ok(()));
        assert_eq!(
            op.create_disk.as_ref().unwrap().target_type,
            DiskSourceType::Mount
        );
        assert_eq!(op.id.as_ref().map(OperationId::as_str), Some("op1"));
    }

    #[test]
    fn operation_status_from_the_docs() {
        let s: OperationStatus = serde_json::from_str(
            r#"{"operation_id":{"value":"operation-1234"},"state":"OPERATION_FAILED",
                "uuid":{"value":"adfadfadbhgvjayd23r2uahj"},"agent_id":{"value":"12214-23523-S235235"},
                "resource_provider_id":{"value":"83978-17885-1089645"}}"#,
        )
        .unwrap();
        assert_eq!(s.state, OperationState::Failed);
        assert!(s.state.is_terminal());
        assert_eq!(s.uuid.as_ref().map(|u| u.value.len()), Some(18));
        let back: OperationStatus =
            serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
