//! The `mesos.v1` messages (`include/mesos/v1/mesos.proto`) that schedulers,
//! the master and agents exchange, in Mesos' JSON form. Field names match the
//! proto; `type` fields are `r#type`. Sub-messages that corral does not
//! interpret (health checks, checks, CSI volumes, offer constraints) are kept
//! as raw `serde_json::Value`.

pub mod agent;
pub mod command;
pub mod common;
pub mod container;
pub mod executor;
pub mod framework;
pub mod linux;
pub mod offer;
pub mod operation;
pub mod resource;
pub mod statistics;
pub mod status;
pub mod task;
pub mod value;
pub mod volume;

pub use agent::{
    AgentCapability, AgentCapabilityType, AgentInfo, MasterCapability, MasterCapabilityType,
    MasterInfo,
};
pub use command::{CommandInfo, CommandUri, Environment, Variable, VariableType};
pub use common::{
    Address, Credential, DomainInfo, DurationInfo, FaultDomain, Filters, KillPolicy, Label, Labels,
    Parameter, Parameters, RegionInfo, Secret, SecretReference, SecretType, SecretValue, TimeInfo,
    Unavailability, Url, ZoneInfo,
};
pub use container::{
    ContainerInfo, ContainerType, DockerInfo, DockerNetwork, IpAddress, MesosInfo, NetworkInfo,
    PortMapping, Protocol,
};
pub use executor::{DiscoveryInfo, ExecutorInfo, ExecutorType, Port, Ports, Visibility};
pub use framework::{
    FrameworkCapability, FrameworkCapabilityType, FrameworkInfo, MinAllocatableResources,
    OfferFilters, ResourceQuantities,
};
pub use linux::{
    Capability, CapabilityInfo, IpcMode, LinuxInfo, RLimit, RLimitInfo, RLimitType, SeccompInfo,
    TtyInfo, WindowSize,
};
pub use offer::{InverseOffer, Offer, Request};
pub use operation::{
    CreateDisk, DestroyDisk, GrowVolume, Launch, LaunchGroup, OfferOperation, OperationShapeError,
    OperationState, OperationStatus, OperationType, Reserve, ShrinkVolume, Unreserve, Uuid,
    Volumes,
};
pub use resource::{
    AllocationInfo, DiskInfo, DiskRoot, DiskSource, DiskSourceType, Persistence, ReservationInfo,
    ReservationType, Resource, RevocableInfo, SharedInfo, scalar_sum,
};
pub use statistics::{Pressure, PressureStats, ResourceStatistics};
pub use status::{
    CgroupInfo, ContainerStatus, NetCls, Reason, Source, TaskResourceLimitation, TaskStatus,
};
pub use task::{Task, TaskGroupInfo, TaskInfo, TaskState};
pub use value::{Attribute, Range, Ranges, Scalar, Set, Text, Value, ValueType};
pub use volume::{
    AppcImage, DockerImage, DockerVolume, HostPath, Image, ImageType, MountPropagation,
    MountPropagationMode, SandboxPath, SandboxPathType, Volume, VolumeMode, VolumeSource,
    VolumeSourceType,
};
