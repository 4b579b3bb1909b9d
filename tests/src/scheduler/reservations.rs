//! Helpers for dynamic reservation tests: frameworks in a role with a
//! principal, RESERVE and UNRESERVE operations built the way a Mesos
//! scheduler builds them (offered resources with a `DYNAMIC` level pushed
//! onto their reservation stack).

use corral_api::OperationId;
use corral_api::v1::{
    FrameworkCapability, FrameworkCapabilityType, FrameworkInfo, Label, Labels, OfferOperation,
    OperationType, ReservationInfo, ReservationType, Reserve, Resource, Unreserve,
};

use super::helpers::framework;

/// A MULTI_ROLE framework `name` in `roles`, with `principal` if given.
pub fn framework_in(name: &str, roles: &[&str], principal: Option<&str>) -> FrameworkInfo {
    let mut f = framework(name);
    f.roles = roles.iter().map(|r| r.to_string()).collect();
    f.principal = principal.map(str::to_string);
    f.capabilities.push(FrameworkCapability {
        r#type: Some(FrameworkCapabilityType::MultiRole),
    });
    f
}

/// `cpus` and `mem` allocated to `allocated`, reserved dynamically for
/// `role` by `principal` with the label `owner=<label>` when given.
pub fn reserved(
    (cpus, mem): (f64, f64),
    allocated: &str,
    role: &str,
    principal: Option<&str>,
    label: Option<&str>,
) -> Vec<Resource> {
    let info = ReservationInfo {
        r#type: Some(ReservationType::Dynamic),
        role: Some(role.to_string()),
        principal: principal.map(str::to_string),
        labels: label.map(|v| Labels {
            labels: vec![Label {
                key: "owner".into(),
                value: Some(v.into()),
            }],
        }),
    };
    [("cpus", cpus), ("mem", mem)]
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(name, v)| {
            Resource::scalar(name, v)
                .allocated_to(allocated)
                .reserved(info.clone())
        })
        .collect()
}

/// RESERVE of `resources`, with operation id `id` when given.
pub fn reserve_op(resources: Vec<Resource>, id: Option<&str>) -> OfferOperation {
    OfferOperation {
        r#type: Some(OperationType::Reserve),
        id: id.map(OperationId::new),
        reserve: Some(Reserve {
            resources,
            ..Reserve::default()
        }),
        ..OfferOperation::default()
    }
}

/// UNRESERVE of `resources`, with operation id `id` when given.
pub fn unreserve_op(resources: Vec<Resource>, id: Option<&str>) -> OfferOperation {
    OfferOperation {
        r#type: Some(OperationType::Unreserve),
        id: id.map(OperationId::new),
        unreserve: Some(Unreserve { resources }),
        ..OfferOperation::default()
    }
}
