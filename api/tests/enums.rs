//! Every proto enum of the crate round-trips by name: printed as its name,
//! read back from it, and found by name and number; the value counts match
//! `mesos.proto`/`scheduler.proto` (Mesos 1.11).

use corral_api::json::ProtoEnum;
use corral_api::scheduler::{CallType, EventType};
use corral_api::v1::*;

fn round_trip<T>(expected_len: usize)
where
    T: ProtoEnum + std::fmt::Debug + PartialEq + serde::Serialize + serde::de::DeserializeOwned,
{
    assert_eq!(T::ALL.len(), expected_len, "{}", T::TYPE_NAME);
    let mut numbers = std::collections::HashSet::new();
    for &value in T::ALL {
        let name = value.name();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{}: {name}",
            T::TYPE_NAME
        );
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(json, format!("\"{name}\""));
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
        assert_eq!(T::from_name(name), Some(value));
        assert!(
            numbers.insert(value.number()),
            "{}: duplicate number",
            T::TYPE_NAME
        );
        assert!(serde_json::from_str::<T>(&value.number().to_string()).is_err());
    }
    assert!(serde_json::from_str::<T>("\"NOT_A_VALUE\"").is_err());
}

#[test]
fn every_enum_round_trips_by_name() {
    round_trip::<ValueType>(4);
    round_trip::<ReservationType>(3);
    round_trip::<DiskSourceType>(5);
    round_trip::<SecretType>(3);
    round_trip::<ImageType>(2);
    round_trip::<VolumeMode>(2);
    round_trip::<VolumeSourceType>(6);
    round_trip::<MountPropagationMode>(3);
    round_trip::<SandboxPathType>(3);
    round_trip::<Protocol>(2);
    round_trip::<ContainerType>(2);
    round_trip::<DockerNetwork>(4);
    round_trip::<Capability>(42);
    round_trip::<IpcMode>(3);
    round_trip::<RLimitType>(17);
    round_trip::<VariableType>(3);
    round_trip::<ExecutorType>(3);
    round_trip::<Visibility>(3);
    round_trip::<TaskState>(14);
    round_trip::<Source>(3);
    round_trip::<Reason>(35);
    round_trip::<FrameworkCapabilityType>(9);
    round_trip::<AgentCapabilityType>(9);
    round_trip::<MasterCapabilityType>(4);
    round_trip::<OperationType>(11);
    round_trip::<OperationState>(10);
    round_trip::<CallType>(18);
    round_trip::<EventType>(12);
}

#[test]
fn spot_check_names_and_numbers() {
    assert_eq!(TaskState::Staging.name(), "TASK_STAGING");
    assert_eq!(TaskState::Staging.number(), 6);
    assert_eq!(TaskState::GoneByOperator.name(), "TASK_GONE_BY_OPERATOR");
    assert_eq!(
        Reason::ContainerLimitationMemory.name(),
        "REASON_CONTAINER_LIMITATION_MEMORY"
    );
    assert_eq!(Reason::ContainerLimitationMemory.number(), 8);
    assert_eq!(Reason::AgentDraining.number(), 34);
    assert_eq!(CallType::UpdateFramework.number(), 17);
    assert_eq!(EventType::UpdateOperationStatus.number(), 11);
    assert_eq!(OperationType::DestroyDisk.number(), 14);
    assert_eq!(FrameworkCapabilityType::RegionAware.number(), 8);
    assert_eq!(Protocol::IPv6.name(), "IPv6");
    assert_eq!(RLimitType::Nofile.name(), "RLMT_NOFILE");
    assert_eq!(Capability::from_number(1021), Some(Capability::SysAdmin));
    assert_eq!("TASK_KILLING".parse::<TaskState>(), Ok(TaskState::Killing));
}
