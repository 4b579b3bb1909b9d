//! `Resource`: a named quantity of something an agent offers (cpus, mem,
//! disk, ports, gpus), with its reservations, allocation, disk details and
//! revocable/shared markers.

use serde::{Deserialize, Serialize};

use super::common::Labels;
use super::value::{Ranges, Scalar, Set, Value, ValueType};
use super::volume::Volume;
use crate::ids::ResourceProviderId;
use crate::json::{self, enums::proto_enum};

/// `Resource.AllocationInfo`: the role a resource is allocated to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AllocationInfo {
    /// The role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

proto_enum! {
    /// `Resource.ReservationInfo.Type`.
    pub enum ReservationType {
        Unknown = 0 => "UNKNOWN",
        Static = 1 => "STATIC",
        Dynamic = 2 => "DYNAMIC",
    }
}

/// `Resource.ReservationInfo`: one level of a (possibly refined) reservation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReservationInfo {
    /// STATIC (agent flag) or DYNAMIC (RESERVE operation).
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<ReservationType>,
    /// The role reserved for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Who reserved it (dynamic reservations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Framework labels on the reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

impl ReservationInfo {
    /// A static reservation for `role`.
    pub fn static_for(role: impl Into<String>) -> Self {
        ReservationInfo {
            r#type: Some(ReservationType::Static),
            role: Some(role.into()),
            ..ReservationInfo::default()
        }
    }
}

/// `Resource.DiskInfo.Persistence`: marks a persistent volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Persistence {
    /// Volume id, unique per role on an agent.
    pub id: String,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

proto_enum! {
    /// `Resource.DiskInfo.Source.Type`.
    pub enum DiskSourceType {
        Unknown = 0 => "UNKNOWN",
        Path = 1 => "PATH",
        Mount = 2 => "MOUNT",
        Block = 3 => "BLOCK",
        Raw = 4 => "RAW",
    }
}

/// `Resource.DiskInfo.Source.Path` / `.Mount`: where the disk is on the agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiskRoot {
    /// Directory or mount point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// `Resource.DiskInfo.Source`: a disk other than the agent's work directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiskSource {
    /// The kind of disk.
    pub r#type: DiskSourceType,
    /// For PATH disks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<DiskRoot>,
    /// For MOUNT disks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<DiskRoot>,
    /// CSI plugin vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// CSI volume id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// CSI volume metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Labels>,
    /// CSI storage profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// `Resource.DiskInfo`: persistent volume and disk source details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskInfo {
    /// Set for persistent volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<Persistence>,
    /// Where the volume is mounted in the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<Volume>,
    /// The disk it lives on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DiskSource>,
}

/// `Resource.RevocableInfo`: present on revocable resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RevocableInfo {}

/// `Resource.SharedInfo`: present on shared resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SharedInfo {}

/// `Resource`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The resource provider it comes from, if not the agent itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<ResourceProviderId>,
    /// Name (`cpus`, `mem`, `disk`, `ports`, `gpus`, …).
    pub name: String,
    /// Which value field is set.
    pub r#type: ValueType,
    /// Set when `type` is SCALAR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    /// Set when `type` is RANGES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Ranges>,
    /// Set when `type` is SET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    /// Deprecated pre-refinement reservation role (`*` = unreserved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The role it is allocated to (in offers and tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_info: Option<AllocationInfo>,
    /// Deprecated pre-refinement dynamic reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationInfo>,
    /// The reservation stack, outermost first; empty = unreserved.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub reservations: Vec<ReservationInfo>,
    /// Disk details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskInfo>,
    /// Present on revocable resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocable: Option<RevocableInfo>,
    /// Present on shared resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedInfo>,
}

impl Resource {
    /// An unreserved resource named `name` holding `value` (its type and
    /// value field are taken from `value`; a TEXT value sets nothing).
    pub fn new(name: impl Into<String>, value: Value) -> Self {
        Resource {
            name: name.into(),
            r#type: value.r#type,
            scalar: value.scalar,
            ranges: value.ranges,
            set: value.set,
            ..Resource::default()
        }
    }

    /// An unreserved SCALAR resource (`cpus`, `mem`).
    pub fn scalar(name: impl Into<String>, value: f64) -> Self {
        Resource::new(name, Value::scalar(value))
    }

    /// An unreserved RANGES resource (`ports`).
    pub fn ranges(name: impl Into<String>, ranges: Ranges) -> Self {
        Resource::new(name, Value::ranges(ranges))
    }

    /// Adds a reservation level on top of the stack.
    pub fn reserved(mut self, reservation: ReservationInfo) -> Self {
        self.reservations.push(reservation);
        self
    }

    /// Marks the resource as allocated to `role`.
    pub fn allocated_to(mut self, role: impl Into<String>) -> Self {
        self.allocation_info = Some(AllocationInfo {
            role: Some(role.into()),
        });
        self
    }

    /// The role the resource is reserved for: the innermost reservation, or
    /// the deprecated `role` field when it is not `*`. `None` = unreserved.
    pub fn reservation_role(&self) -> Option<&str> {
        match self.reservations.last() {
            Some(r) => r.role.as_deref(),
            None => self.role.as_deref().filter(|role| *role != "*"),
        }
    }

    /// Whether the resource is reserved for no role.
    pub fn is_unreserved(&self) -> bool {
        self.reservation_role().is_none()
    }

    /// The role in `allocation_info`, if allocated.
    pub fn allocation_role(&self) -> Option<&str> {
        self.allocation_info
            .as_ref()
            .and_then(|a| a.role.as_deref())
    }

    /// The scalar quantity, when this is a SCALAR resource.
    pub fn scalar_value(&self) -> Option<f64> {
        match self.r#type {
            ValueType::Scalar => self.scalar.map(|s| s.value),
            _ => None,
        }
    }

    /// Whether the resource is a persistent volume.
    pub fn is_persistent_volume(&self) -> bool {
        self.disk.as_ref().is_some_and(|d| d.persistence.is_some())
    }

    /// Whether the resource is revocable.
    pub fn is_revocable(&self) -> bool {
        self.revocable.is_some()
    }
}

/// Sum of the SCALAR resources named `name`.
pub fn scalar_sum<'a>(resources: impl IntoIterator<Item = &'a Resource>, name: &str) -> f64 {
    resources
        .into_iter()
        .filter(|r| r.name == name)
        .filter_map(Resource::scalar_value)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_resource_from_the_docs_round_trips() {
        let text = r#"{"allocation_info":{"role":"engineering"},"name":"cpus","type":"SCALAR",
            "scalar":{"value":2},"role":"*"}"#;
        let r: Resource = serde_json::from_str(text).unwrap();
        assert_eq!(r.name, "cpus");
        assert_eq!(r.scalar_value(), Some(2.0));
        assert_eq!(r.role.as_deref(), Some("*"));
        assert!(r.is_unreserved());
        assert_eq!(r.allocation_role(), Some("engineering"));
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"name":"cpus","type":"SCALAR","scalar":{"value":2.0},"role":"*",
                "allocation_info":{"role":"engineering"}})
        );
    }

    #[test]
    fn reservations_and_disk_parse() {
        let text = r#"{"name":"disk","type":"SCALAR","scalar":{"value":"64"},
            "reservations":[{"type":"STATIC","role":"a"},{"type":"DYNAMIC","role":"a/b",
                "principal":"p","labels":{"labels":[{"key":"k","value":"v"}]}}],
            "disk":{"persistence":{"id":"vol1","principal":"p"},
                "volume":{"mode":"RW","container_path":"data"},
                "source":{"type":"MOUNT","mount":{"root":"/mnt/d1"}}},
            "revocable":{},"shared":{}}"#;
        let r: Resource = serde_json::from_str(text).unwrap();
        assert_eq!(r.reservation_role(), Some("a/b"));
        assert_eq!(r.reservations[1].r#type, Some(ReservationType::Dynamic));
        assert!(r.is_persistent_volume());
        assert!(r.is_revocable());
        assert!(r.shared.is_some());
        let source = r.disk.as_ref().and_then(|d| d.source.clone()).unwrap();
        assert_eq!(source.r#type, DiskSourceType::Mount);
        assert_eq!(
            source.mount.and_then(|m| m.root).as_deref(),
            Some("/mnt/d1")
        );
        let back: Resource = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn builders_and_sums() {
        let rs = [
            Resource::scalar("cpus", 1.5),
            Resource::scalar("cpus", 0.5).reserved(ReservationInfo::static_for("r")),
            Resource::scalar("mem", 128.0),
            Resource::ranges("ports", Ranges::new([(1, 2)])),
        ];
        assert_eq!(scalar_sum(&rs, "cpus"), 2.0);
        assert_eq!(scalar_sum(&rs, "ports"), 0.0);
        assert_eq!(rs[1].reservation_role(), Some("r"));
        assert!(rs[0].is_unreserved());
    }
}
