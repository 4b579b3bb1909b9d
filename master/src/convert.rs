//! Resources at the master's boundary: Mesos `Resource` lists of the wire
//! to the allocator's compact [`Resources`] and back. The allocator knows
//! scalars and port ranges, unreserved or dynamically reserved to a role;
//! anything else (set or text resources, other range resources, revocable
//! or shared resources, disk sources) is refused with a clear error rather
//! than dropped.

use crate::allocator::resources::{PortRanges, SCALE, to_milli};
use crate::allocator::{Pool, Resources, RoleName};
use corral_api::v1::{
    AllocationInfo, Range, Ranges, ReservationInfo, ReservationType, Resource, Scalar, ValueType,
};

/// Why a resource list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("resource '{name}': {problem}")]
pub struct ConvertError {
    /// The resource's name.
    pub name: String,
    /// What is wrong with it.
    pub problem: String,
}

fn err(name: &str, problem: impl Into<String>) -> ConvertError {
    ConvertError {
        name: name.to_string(),
        problem: problem.into(),
    }
}

/// The allocator's view of a wire resource list.
pub fn to_alloc(list: &[Resource]) -> Result<Resources, ConvertError> {
    let mut out = Resources::new();
    for r in list {
        let pool = pool_of(r)?;
        match reservation_role(r)? {
            None => out.add_unreserved(&pool),
            Some(role) => out.add_reserved(&role, &pool),
        }
    }
    Ok(out)
}

/// Every resource of `list` in one pool, whatever its reservation (the
/// quantities a RESERVE or UNRESERVE moves).
pub fn to_pool(list: &[Resource]) -> Result<Pool, ConvertError> {
    let mut out = Pool::default();
    for r in list {
        out.add(&pool_of(r)?);
    }
    Ok(out)
}

fn pool_of(r: &Resource) -> Result<Pool, ConvertError> {
    if r.revocable.is_some() || r.shared.is_some() {
        return Err(err(
            &r.name,
            "revocable and shared resources are not supported",
        ));
    }
    let mut pool = Pool::default();
    match r.r#type {
        ValueType::Scalar => {
            let value = r.scalar.as_ref().map_or(0.0, |s| s.value);
            let milli = to_milli(value)
                .ok_or_else(|| err(&r.name, format!("{value} is not a non-negative number")))?;
            pool.scalars.add_milli(&r.name, milli);
        }
        ValueType::Ranges if r.name == "ports" => {
            for range in r.ranges.iter().flat_map(|rs| rs.range.iter()) {
                let (b, e) = (range.begin, range.end);
                if b > e || e > u64::from(u16::MAX) {
                    return Err(err(&r.name, format!("[{b}-{e}] is not a port range")));
                }
                pool.ports.insert(b as u16, e as u16);
            }
        }
        other => {
            return Err(err(
                &r.name,
                format!(
                    "type {} is not supported (scalars and the 'ports' ranges are)",
                    corral_api::json::ProtoEnum::name(other)
                ),
            ));
        }
    }
    Ok(pool)
}

/// The role a resource is reserved to (the innermost reservation).
fn reservation_role(r: &Resource) -> Result<Option<RoleName>, ConvertError> {
    let role = match r.reservations.last() {
        Some(res) => res.role.clone(),
        None => r.role.clone().filter(|role| role != "*"),
    };
    role.map(|role| RoleName::new(&role).map_err(|e| err(&r.name, e.to_string())))
        .transpose()
}

/// Wire resources for `res`, allocated to `role` (Mesos' allocation_info,
/// which multi-role frameworks read).
pub fn to_wire(res: &Resources, role: Option<&str>) -> Vec<Resource> {
    to_wire_with(res, role, dynamic_for)
}

/// A bare dynamic reservation for `role` (no principal, no labels).
pub fn dynamic_for(role: &str) -> ReservationInfo {
    ReservationInfo {
        r#type: Some(ReservationType::Dynamic),
        role: Some(role.to_string()),
        ..ReservationInfo::default()
    }
}

/// As [`to_wire`], each reservation described by `info(role)` (its
/// principal and labels, which the allocator does not keep).
pub fn to_wire_with(
    res: &Resources,
    role: Option<&str>,
    info: impl Fn(&str) -> ReservationInfo,
) -> Vec<Resource> {
    let mut out = Vec::new();
    push_pool(&mut out, res.unreserved(), None, role);
    for (reserved, pool) in res.reservations() {
        push_pool(&mut out, pool, Some(info(reserved.as_str())), role);
    }
    out
}

fn push_pool(
    out: &mut Vec<Resource>,
    pool: &Pool,
    reserved: Option<ReservationInfo>,
    role: Option<&str>,
) {
    let base = |name: &str| Resource {
        name: name.to_string(),
        allocation_info: role.map(|r| AllocationInfo {
            role: Some(r.to_string()),
        }),
        reservations: reserved.iter().cloned().collect(),
        ..Resource::default()
    };
    for (name, milli) in pool.scalars.iter() {
        out.push(Resource {
            r#type: ValueType::Scalar,
            scalar: Some(Scalar {
                value: milli as f64 / SCALE as f64,
            }),
            ..base(name)
        });
    }
    if !pool.ports.is_empty() {
        out.push(Resource {
            r#type: ValueType::Ranges,
            ranges: Some(ports_ranges(&pool.ports)),
            ..base("ports")
        });
    }
}

fn ports_ranges(p: &PortRanges) -> Ranges {
    Ranges {
        range: p
            .ranges()
            .iter()
            .map(|&(b, e)| Range {
                begin: u64::from(b),
                end: u64::from(e),
            })
            .collect(),
    }
}

/// The role `resources` were allocated to (their `allocation_info`), else
/// `fallback`'s first role, else `*`: how a reported or recovered task or
/// executor is charged.
pub fn allocated_role(
    resources: &[corral_api::v1::Resource],
    fallback: Option<&corral_api::v1::FrameworkInfo>,
) -> String {
    resources
        .iter()
        .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()))
        .or_else(|| fallback.and_then(|f| f.effective_roles().into_iter().next()))
        .unwrap_or_else(|| "*".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_resources_round_trip_through_the_allocator_form() {
        let wire = corral_api::resources::parse(
            "cpus:2.5;mem:1024;ports:[31000-31005,32000-32000];disk(eng):10",
            "*",
        )
        .unwrap();
        let res = to_alloc(&wire).unwrap();
        assert_eq!(res.unreserved().scalars.milli("cpus"), 2500);
        assert_eq!(res.unreserved().ports.count(), 7);
        assert_eq!(
            res.reserved_to("eng").unwrap().scalars.milli("disk"),
            10_000
        );
        let back = to_wire(&res, Some("eng"));
        assert_eq!(to_alloc(&back).unwrap(), res);
        assert!(
            back.iter()
                .all(|r| r.allocation_info.as_ref().unwrap().role.as_deref() == Some("eng"))
        );
    }

    #[test]
    fn unsupported_resources_are_named() {
        let wire = corral_api::resources::parse("gpus:1;zones:{a,b}", "*").unwrap();
        let e = to_alloc(&wire).unwrap_err();
        assert_eq!(e.name, "zones");
        assert!(e.problem.contains("not supported"), "{e}");
    }
}
