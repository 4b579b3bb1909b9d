//! The checks of RESERVE and UNRESERVE in an ACCEPT, after Mesos'
//! `validation::operation::validate` and the offered-resources check of
//! `Master::_accept`: what the operation asks for must be a dynamic
//! reservation of one level, for the framework's role the offers are
//! allocated to, by the framework's principal (when it has one), and the
//! offers must still hold it. A passing operation becomes a [`Conversion`]
//! the master applies to the accepted pool, the allocator and the agent.

use super::{AgentReservations, ReservationError, dynamic_level};
use crate::allocator::{Pool, Resources, RoleName};
use crate::convert;
use corral_api::v1::{FrameworkInfo, ReservationInfo, Reserve, Resource, Unreserve};

/// What an operation is checked against.
#[derive(Debug, Clone, Copy)]
pub struct OfferContext<'a> {
    /// The accepting framework.
    pub framework: &'a FrameworkInfo,
    /// The role the accepted offers are allocated to.
    pub role: &'a str,
    /// What the accepted offers still hold (earlier operations applied).
    pub offered: &'a Resources,
    /// The agent's reservations.
    pub agent: &'a AgentReservations,
}

/// A checked RESERVE or UNRESERVE: `from` becomes `to`; `reservations`
/// are the reservations (identity and pool) reserved or released.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// What the offers give up.
    pub from: Resources,
    /// What they hold instead.
    pub to: Resources,
    /// The reservations made or released.
    pub reservations: Vec<(ReservationInfo, Pool)>,
}

/// Checks a RESERVE of unreserved offered resources.
pub fn check_reserve(op: &Reserve, cx: OfferContext<'_>) -> Result<Conversion, ReservationError> {
    let first = op.resources.first().ok_or(ReservationError::Empty)?;
    let info = dynamic_level(first)?;
    for r in &op.resources {
        if dynamic_level(r)? != info {
            return Err(ReservationError::Mixed);
        }
        allocation_role(r, cx.role)?;
    }
    if let Some(s) = op.source.iter().find(|s| !s.is_unreserved()) {
        return Err(ReservationError::Refined {
            name: s.name.clone(),
            levels: s.reservations.len() + 1,
        });
    }
    check_principal(info, cx.framework)?;
    let role = info.role.clone().unwrap_or_default();
    let roles = cx.framework.effective_roles();
    if !roles.contains(&role) {
        return Err(ReservationError::NotFrameworkRole { role, roles });
    }
    if role != cx.role {
        return Err(ReservationError::RoleMismatch {
            role,
            allocated: cx.role.to_string(),
        });
    }
    let pool = convert::to_pool(&op.resources)?;
    if !op.source.is_empty() && convert::to_pool(&op.source)? != pool {
        return Err(ReservationError::Mixed);
    }
    let from = Resources::unreserved_pool(pool.clone());
    if !cx.offered.contains(&from) {
        return Err(ReservationError::NotOffered {
            wanted: from.to_string(),
        });
    }
    cx.agent.check_compatible(info)?;
    let mut to = Resources::new();
    let name = RoleName::new(&role).map_err(|_| ReservationError::InvalidRole {
        name: first.name.clone(),
        role: role.clone(),
    })?;
    to.add_reserved(&name, &pool);
    Ok(Conversion {
        from,
        to,
        reservations: vec![(info.clone(), pool)],
    })
}

/// Checks an UNRESERVE of offered reserved resources. As Mesos without
/// ACLs, any framework offered a reservation may release it, whoever made
/// it; principal and labels must name it exactly.
pub fn check_unreserve(
    op: &Unreserve,
    cx: OfferContext<'_>,
) -> Result<Conversion, ReservationError> {
    if op.resources.is_empty() {
        return Err(ReservationError::Empty);
    }
    let mut released: Vec<(ReservationInfo, Pool)> = Vec::new();
    for r in &op.resources {
        let info = dynamic_level(r)?;
        if r.is_persistent_volume() {
            return Err(ReservationError::Volume {
                name: r.name.clone(),
            });
        }
        allocation_role(r, cx.role)?;
        let role = info.role.as_deref().unwrap_or_default();
        if cx.agent.info(role) != Some(info) {
            return Err(ReservationError::Unknown { role: role.into() });
        }
        let pool = convert::to_pool(std::slice::from_ref(r))?;
        match released.iter_mut().find(|(i, _)| i == info) {
            Some((_, p)) => p.add(&pool),
            None => released.push((info.clone(), pool)),
        }
    }
    let from = convert::to_alloc(&op.resources)?;
    if !cx.offered.contains(&from) {
        return Err(ReservationError::NotOffered {
            wanted: from.to_string(),
        });
    }
    let to = Resources::unreserved_pool(from.flattened());
    Ok(Conversion {
        from,
        to,
        reservations: released,
    })
}

/// The framework's principal, when it has one, must be the reservation's.
fn check_principal(
    info: &ReservationInfo,
    framework: &FrameworkInfo,
) -> Result<(), ReservationError> {
    match &framework.principal {
        Some(p) if info.principal.as_ref() != Some(p) => Err(ReservationError::Principal {
            given: info.principal.clone(),
            framework: p.clone(),
        }),
        _ => Ok(()),
    }
}

/// A resource's allocation role must be the offers' (Mesos fills it in
/// for frameworks that leave it out, and so does corral).
fn allocation_role(r: &Resource, offer: &str) -> Result<(), ReservationError> {
    match r.allocation_role() {
        Some(given) if given != offer => Err(ReservationError::AllocationRole {
            offer: offer.to_string(),
            allocated: given.to_string(),
        }),
        _ => Ok(()),
    }
}
