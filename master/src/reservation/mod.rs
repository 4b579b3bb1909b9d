//! Dynamic reservations, the master's side of them: what each agent has
//! reserved, per role, with the reservation's principal and labels (which
//! the allocator's compact resources do not carry), and the checks of the
//! RESERVE and UNRESERVE offer operations ([`operation`]).
//!
//! An agent keeps one reservation per role: resources reserved again for
//! the same role with the same principal and labels join it; with another
//! principal or labels the RESERVE is refused. Only unreserved resources
//! are reserved (a stack of one `DYNAMIC` level): refinements are not
//! supported yet. Pure values, no I/O: the master persists them with the
//! agent's record.

pub mod operation;
#[cfg(test)]
mod tests;

pub use operation::{Conversion, OfferContext, check_reserve, check_unreserve};

use crate::allocator::{Pool, Resources, RoleName};
use crate::convert::{self, ConvertError};
use corral_api::v1::{ReservationInfo, ReservationType, Resource};

/// Why a reservation, or an operation on one, is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReservationError {
    /// The operation names no resources.
    #[error("the operation names no resources")]
    Empty,
    /// A resource the allocator cannot represent.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// A resource without a dynamic reservation where one is required.
    #[error("resource '{name}' is not dynamically reserved")]
    NotDynamic {
        /// The resource's name.
        name: String,
    },
    /// A reservation stack deeper than one level.
    #[error(
        "resource '{name}' has a refined reservation ({levels} levels): corral reserves \
         unreserved resources only"
    )]
    Refined {
        /// The resource's name.
        name: String,
        /// The stack's depth.
        levels: usize,
    },
    /// A reservation role that is not a valid role, or `*`.
    #[error("resource '{name}': reservation role '{role}' is not a role one can reserve for")]
    InvalidRole {
        /// The resource's name.
        name: String,
        /// The role given.
        role: String,
    },
    /// Resources of one RESERVE with different reservations.
    #[error("the resources carry different reservations: reserve them in separate operations")]
    Mixed,
    /// The reservation's principal is not the framework's.
    #[error(
        "the reservation's principal {given:?} does not match the framework's principal \
         '{framework}'"
    )]
    Principal {
        /// The principal in the reservation.
        given: Option<String>,
        /// The framework's principal.
        framework: String,
    },
    /// A reservation for a role the framework is not subscribed to.
    #[error("the framework can only reserve for its roles {roles:?}, not for '{role}'")]
    NotFrameworkRole {
        /// The reservation's role.
        role: String,
        /// The framework's roles.
        roles: Vec<String>,
    },
    /// A reservation for another role than the offer's allocation role.
    #[error(
        "the resources are allocated to role '{allocated}' but reserved for '{role}': a \
         framework reserves for the role its offer is allocated to"
    )]
    RoleMismatch {
        /// The reservation's role.
        role: String,
        /// The allocation role.
        allocated: String,
    },
    /// Resources allocated to another role than the offers'.
    #[error("the offers are allocated to role '{offer}', not to '{allocated}'")]
    AllocationRole {
        /// The offers' role.
        offer: String,
        /// The role in the resources' allocation_info.
        allocated: String,
    },
    /// Resources the accepted offers do not (or no longer) hold.
    #[error("the remaining offered resources do not contain {wanted}")]
    NotOffered {
        /// What was asked for.
        wanted: String,
    },
    /// The role already has a reservation here with another identity.
    #[error(
        "role '{role}' already holds a reservation on this agent with another principal or \
         labels; corral keeps one reservation per role and agent: unreserve it first or \
         reserve with the same principal and labels"
    )]
    Conflict {
        /// The role.
        role: String,
    },
    /// No such reservation on the agent (role, principal and labels).
    #[error("the agent holds no reservation for role '{role}' with that principal and labels")]
    Unknown {
        /// The role.
        role: String,
    },
    /// UNRESERVE of a persistent volume.
    #[error("resource '{name}' is a persistent volume: destroy it before unreserving it")]
    Volume {
        /// The resource's name.
        name: String,
    },
}

/// One reservation on an agent: who holds it and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    /// Type DYNAMIC, the role, the principal and labels.
    pub info: ReservationInfo,
    /// What is reserved.
    pub pool: Pool,
}

impl Reservation {
    fn role(&self) -> &str {
        self.info.role.as_deref().unwrap_or_default()
    }
}

/// The dynamic reservations of one agent, one per role, sorted by role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentReservations {
    entries: Vec<Reservation>,
}

impl AgentReservations {
    /// No reservations.
    pub fn new() -> Self {
        AgentReservations::default()
    }

    /// True when nothing is reserved.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The reservations, by role.
    pub fn iter(&self) -> impl Iterator<Item = &Reservation> {
        self.entries.iter()
    }

    /// The reservation of `role`, if any.
    pub fn info(&self, role: &str) -> Option<&ReservationInfo> {
        self.find(role).map(|i| &self.entries[i].info)
    }

    fn find(&self, role: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.role() == role)
    }

    /// Reads reservations back from their wire form (the registry's).
    pub fn from_wire(list: &[Resource]) -> Result<Self, ReservationError> {
        let mut out = AgentReservations::new();
        for r in list {
            let info = dynamic_level(r)?.clone();
            out.reserve(info, &convert::to_pool(std::slice::from_ref(r))?)?;
        }
        Ok(out)
    }

    /// The reservations as wire resources, without allocation info.
    pub fn to_wire(&self) -> Vec<Resource> {
        self.render(&self.resources(), None)
    }

    /// Everything reserved, in the allocator's form.
    pub fn resources(&self) -> Resources {
        let mut out = Resources::new();
        for e in &self.entries {
            if let Ok(role) = RoleName::new(e.role()) {
                out.add_reserved(&role, &e.pool);
            }
        }
        out
    }

    /// Wire resources for `res` (allocated to `role`), each reservation
    /// with its principal and labels.
    pub fn render(&self, res: &Resources, role: Option<&str>) -> Vec<Resource> {
        convert::to_wire_with(res, role, |r| {
            self.info(r)
                .cloned()
                .unwrap_or_else(|| convert::dynamic_for(r))
        })
    }

    /// Checks that a reservation `info` may join this agent's: its role has
    /// none yet, or one with the same principal and labels.
    pub fn check_compatible(&self, info: &ReservationInfo) -> Result<(), ReservationError> {
        let role = info.role.as_deref().unwrap_or_default();
        match self.info(role) {
            Some(mine) if mine != info => Err(ReservationError::Conflict { role: role.into() }),
            _ => Ok(()),
        }
    }

    /// Checks that the dynamically reserved resources of `list` (a task's)
    /// name reservations this agent holds, principal and labels included.
    pub fn check_used(&self, list: &[Resource]) -> Result<(), ReservationError> {
        let dynamic = |r: &&Resource| {
            r.reservations
                .last()
                .is_some_and(|l| l.r#type == Some(ReservationType::Dynamic))
        };
        for r in list.iter().filter(dynamic) {
            let level = dynamic_level(r)?;
            let role = level.role.as_deref().unwrap_or_default();
            if self.info(role) != Some(level) {
                return Err(ReservationError::Unknown { role: role.into() });
            }
        }
        Ok(())
    }

    /// Adds `pool` to the reservation `info` describes.
    pub fn reserve(&mut self, info: ReservationInfo, pool: &Pool) -> Result<(), ReservationError> {
        self.check_compatible(&info)?;
        if pool.is_empty() {
            return Ok(());
        }
        let role = info.role.clone().unwrap_or_default();
        match self.find(&role) {
            Some(i) => self.entries[i].pool.add(pool),
            None => {
                let at = self.entries.partition_point(|e| e.role() < role.as_str());
                let pool = pool.clone();
                self.entries.insert(at, Reservation { info, pool });
            }
        }
        Ok(())
    }

    /// Takes `pool` out of the reservation `info` describes (which must
    /// hold it, with the same principal and labels).
    pub fn unreserve(
        &mut self,
        info: &ReservationInfo,
        pool: &Pool,
    ) -> Result<(), ReservationError> {
        let role = info.role.as_deref().unwrap_or_default();
        let unknown = || ReservationError::Unknown { role: role.into() };
        let i = self.find(role).ok_or_else(unknown)?;
        let e = &mut self.entries[i];
        if &e.info != info {
            return Err(unknown());
        }
        if !e.pool.contains(pool) {
            return Err(ReservationError::NotOffered {
                wanted: Resources::unreserved_pool(pool.clone()).to_string(),
            });
        }
        e.pool.subtract(pool);
        if e.pool.is_empty() {
            self.entries.remove(i);
        }
        Ok(())
    }

    /// The agent's total for the allocator: what it reports, with the
    /// reserved part of its unreserved resources moved to the reservations.
    /// Reservations the report cannot hold any more (the agent shrank) are
    /// cut to fit; `true` says so.
    pub fn overlay(&mut self, reported: &Resources) -> (Resources, bool) {
        let mut free = reported.unreserved().clone();
        let mut cut = false;
        for e in &mut self.entries {
            let fitted = intersect(&e.pool, &free);
            cut |= fitted != e.pool;
            free.subtract(&fitted);
            e.pool = fitted;
        }
        self.entries.retain(|e| !e.pool.is_empty());
        let mut total = Resources::unreserved_pool(free);
        for (role, pool) in reported.reservations() {
            total.add_reserved(role, pool);
        }
        total.add(&self.resources());
        (total, cut)
    }
}

/// What both pools hold.
fn intersect(a: &Pool, b: &Pool) -> Pool {
    let mut scalars = a.scalars.clone();
    scalars.min_with(&b.scalars);
    let mut outside = a.ports.clone();
    outside.subtract(&b.ports);
    let mut ports = a.ports.clone();
    ports.subtract(&outside);
    Pool { scalars, ports }
}

/// The one dynamic level of a reserved resource's stack, or why it has
/// none corral supports.
pub(crate) fn dynamic_level(r: &Resource) -> Result<&ReservationInfo, ReservationError> {
    let name = || r.name.clone();
    let level = match r.reservations.as_slice() {
        [] => return Err(ReservationError::NotDynamic { name: name() }),
        [one] => one,
        more => {
            return Err(ReservationError::Refined {
                name: name(),
                levels: more.len(),
            });
        }
    };
    if level.r#type != Some(ReservationType::Dynamic) {
        return Err(ReservationError::NotDynamic { name: name() });
    }
    let role = level.role.clone().unwrap_or_default();
    if role == "*" || RoleName::new(&role).is_err() {
        return Err(ReservationError::InvalidRole { name: name(), role });
    }
    Ok(level)
}
