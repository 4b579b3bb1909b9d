//! [`DevicesError`]: an OCI device rule the filter compiler cannot express.
//! The kernel calls' failures are [`CgroupError::Bpf`], naming the cgroup.

use crate::cgroup::CgroupError;

/// A `linux.resources.devices` rule that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevicesError {
    /// One field of one rule is out of range or unknown.
    #[error("invalid linux.resources.devices[{index}].{field} = {value}: {reason}")]
    InvalidRule {
        /// The rule's position in the list.
        index: usize,
        /// The field: `type`, `major`, `minor` or `access`.
        field: &'static str,
        /// The value as given.
        value: String,
        /// Why it was refused and what to give instead.
        reason: &'static str,
    },
}

impl From<DevicesError> for CgroupError {
    fn from(e: DevicesError) -> CgroupError {
        match e {
            DevicesError::InvalidRule {
                index,
                field,
                value,
                reason,
            } => CgroupError::InvalidResource {
                field: format!("devices[{index}].{field}"),
                value,
                reason: reason.to_string(),
            },
        }
    }
}
