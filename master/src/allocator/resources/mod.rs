//! The allocator's compact resources: an unreserved [`Pool`] (scalars and
//! ports) plus one pool per role holding a dynamic reservation. Arithmetic
//! (add, subtract, contains) works pool by pool on fixed arrays and short
//! sorted lists; resources without reservations or extra scalars never touch
//! the heap except for their port ranges.
//!
//! This is the allocator's own representation: the master converts the
//! Mesos `Resource` lists of the wire at its boundary.

mod parse;
mod ports;
mod quantities;

pub use ports::PortRanges;
pub use quantities::{CPUS, DISK, GPUS, KNOWN, MEM, Quantities, SCALE, ScalarName, to_milli};

use super::role::RoleName;
use std::fmt;

/// Scalars and ports of one reservation state (unreserved, or reserved to
/// one role).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pool {
    /// Scalar quantities.
    pub scalars: Quantities,
    /// Port ranges.
    pub ports: PortRanges,
}

impl Pool {
    /// True when the pool holds nothing.
    pub fn is_empty(&self) -> bool {
        self.scalars.is_empty() && self.ports.is_empty()
    }

    /// Adds `other` to the pool.
    pub fn add(&mut self, other: &Pool) {
        self.scalars.add(&other.scalars);
        self.ports.add(&other.ports);
    }

    /// Removes `other`, stopping at zero / ignoring missing ports.
    pub fn subtract(&mut self, other: &Pool) {
        self.scalars.saturating_sub(&other.scalars);
        self.ports.subtract(&other.ports);
    }

    /// True when the pool holds all of `other`.
    pub fn contains(&self, other: &Pool) -> bool {
        self.scalars.contains(&other.scalars) && self.ports.contains(&other.ports)
    }
}

/// Resources: unreserved ones plus dynamic reservations, one pool per role.
/// Invariant: reservations are sorted by role and none is empty, so equal
/// resources compare equal.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    unreserved: Pool,
    reserved: Vec<(RoleName, Pool)>,
}

impl Resources {
    /// No resources.
    pub const fn new() -> Self {
        Resources {
            unreserved: Pool {
                scalars: Quantities::new(),
                ports: PortRanges::new(),
            },
            reserved: Vec::new(),
        }
    }

    /// Unreserved resources made of `pool`.
    pub fn unreserved_pool(pool: Pool) -> Self {
        Resources {
            unreserved: pool,
            reserved: Vec::new(),
        }
    }

    /// The unreserved pool.
    pub fn unreserved(&self) -> &Pool {
        &self.unreserved
    }

    /// The reservations, sorted by role.
    pub fn reservations(&self) -> impl Iterator<Item = (&RoleName, &Pool)> {
        self.reserved.iter().map(|(r, p)| (r, p))
    }

    /// True when some resource is reserved.
    pub fn has_reservations(&self) -> bool {
        !self.reserved.is_empty()
    }

    /// The pool reserved to exactly `role`.
    pub fn reserved_to(&self, role: &str) -> Option<&Pool> {
        self.reserved
            .iter()
            .find(|(r, _)| r.as_str() == role)
            .map(|(_, p)| p)
    }

    /// Adds `pool` to the unreserved resources.
    pub fn add_unreserved(&mut self, pool: &Pool) {
        self.unreserved.add(pool);
    }

    /// Adds `pool` reserved to `role`.
    pub fn add_reserved(&mut self, role: &RoleName, pool: &Pool) {
        if pool.is_empty() {
            return;
        }
        match self.reserved.binary_search_by(|(r, _)| r.cmp(role)) {
            Ok(i) => self.reserved[i].1.add(pool),
            Err(i) => self.reserved.insert(i, (role.clone(), pool.clone())),
        }
    }

    /// True when there is nothing.
    pub fn is_empty(&self) -> bool {
        self.unreserved.is_empty() && self.reserved.is_empty()
    }

    /// Adds all of `other`.
    pub fn add(&mut self, other: &Resources) {
        self.unreserved.add(&other.unreserved);
        for (role, pool) in &other.reserved {
            self.add_reserved(role, pool);
        }
    }

    /// Removes `other`, item by item, stopping at zero; check [`contains`]
    /// first where a shortfall is an error.
    ///
    /// [`contains`]: Resources::contains
    pub fn subtract(&mut self, other: &Resources) {
        self.unreserved.subtract(&other.unreserved);
        if other.reserved.is_empty() {
            return;
        }
        for (role, pool) in &other.reserved {
            if let Ok(i) = self.reserved.binary_search_by(|(r, _)| r.cmp(role)) {
                self.reserved[i].1.subtract(pool);
            }
        }
        self.reserved.retain(|(_, p)| !p.is_empty());
    }

    /// True when `self` holds all of `other`, reservation by reservation.
    pub fn contains(&self, other: &Resources) -> bool {
        self.unreserved.contains(&other.unreserved)
            && other.reserved.iter().all(|(role, pool)| {
                self.reserved_to(role.as_str())
                    .is_some_and(|mine| mine.contains(pool))
            })
    }

    /// The scalar quantities of every pool together (what shares count).
    pub fn quantities(&self) -> Quantities {
        let mut q = self.unreserved.scalars.clone();
        for (_, pool) in &self.reserved {
            q.add(&pool.scalars);
        }
        q
    }

    /// Every pool merged into one, reservations forgotten: what a
    /// conversion between reservation states must leave unchanged.
    pub fn flattened(&self) -> Pool {
        let mut all = self.unreserved.clone();
        for (_, pool) in &self.reserved {
            all.add(pool);
        }
        all
    }

    /// The scalar quantities of all reservations together.
    pub fn reserved_quantities(&self) -> Quantities {
        let mut q = Quantities::new();
        for (_, pool) in &self.reserved {
            q.add(&pool.scalars);
        }
        q
    }

    /// The part of `self` that may be offered to `role`: the unreserved
    /// pool and the reservations of `role` and its ancestors.
    pub fn allocatable_to(&self, role: &str) -> Resources {
        let reserved = self
            .reserved
            .iter()
            .filter(|(r, _)| r.is_self_or_ancestor_of(role));
        Resources {
            unreserved: self.unreserved.clone(),
            reserved: reserved.cloned().collect(),
        }
    }

    /// Reservations of `self` that may be offered to `role`, as resources
    /// (no unreserved part).
    pub(crate) fn reservations_for(&self, role: &str) -> Resources {
        let reserved = self
            .reserved
            .iter()
            .filter(|(r, _)| r.is_self_or_ancestor_of(role));
        Resources {
            unreserved: Pool::default(),
            reserved: reserved.cloned().collect(),
        }
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let pools = std::iter::once((None, &self.unreserved))
            .chain(self.reserved.iter().map(|(r, p)| (Some(r), p)));
        for (role, pool) in pools {
            let suffix = role.map(|r| format!("({r})")).unwrap_or_default();
            for (name, v) in pool.scalars.iter() {
                let sep = if first { "" } else { ";" };
                write!(f, "{sep}{name}{suffix}:{}", v as f64 / SCALE as f64)?;
                first = false;
            }
            if !pool.ports.is_empty() {
                let sep = if first { "" } else { ";" };
                write!(f, "{sep}ports{suffix}:{}", pool.ports)?;
                first = false;
            }
        }
        if first {
            f.write_str("{}")?;
        }
        Ok(())
    }
}
