//! What the hierarchical allocator remembers about each framework, agent
//! and role.

use crate::allocator::filters::AgentFilters;
use crate::allocator::hash::{FastMap, FastSet};
use crate::allocator::ids::{AgentKey, FrameworkKey, RoleKey};
use crate::allocator::interface::Capabilities;
use crate::allocator::quota::Quota;
use crate::allocator::resources::{GPUS, Quantities, Resources};
use crate::allocator::role::RoleName;
use crate::allocator::sorter::{DrfSorter, Sorter as _};
use crate::allocator::vecmap::VecMap;

/// A framework.
#[derive(Debug, Clone)]
pub(super) struct Framework {
    /// Its roles, each with whether it is suppressed.
    pub roles: Vec<(RoleKey, bool)>,
    pub active: bool,
    pub capabilities: Capabilities,
    /// Agents where it holds something, with in how many of its roles.
    pub agents: FastMap<AgentKey, u32>,
    /// Agents that hold (or held) decline filters of this framework.
    pub filtered_on: FastSet<AgentKey>,
}

impl Framework {
    /// Whether the framework subscribes to `role`, and if so the index.
    pub fn role_index(&self, role: RoleKey) -> Option<usize> {
        self.roles.iter().position(|(r, _)| *r == role)
    }
}

/// An agent.
#[derive(Debug, Clone)]
pub(super) struct Agent {
    pub total: Resources,
    /// Neither offered nor allocated.
    pub available: Resources,
    /// What each framework holds here, per role.
    pub allocated: VecMap<(FrameworkKey, RoleKey), Resources>,
    pub active: bool,
    pub has_gpus: bool,
    /// Decline filters of frameworks about this agent.
    pub filters: AgentFilters,
}

impl Agent {
    pub fn new(total: &Resources) -> Self {
        Agent {
            total: total.clone(),
            available: total.clone(),
            allocated: VecMap::default(),
            active: true,
            has_gpus: total.quantities().known(GPUS) > 0,
            filters: AgentFilters::default(),
        }
    }

    /// Everything allocated here (total minus available).
    pub fn allocated_sum(&self) -> Resources {
        let mut sum = Resources::new();
        for r in self.allocated.values() {
            sum.add(r);
        }
        sum
    }
}

/// A role: its frameworks (in their sorter) and, for a top-level role,
/// quota and what counts against it.
#[derive(Debug, Clone)]
pub(super) struct Role {
    pub name: RoleName,
    /// The top-level role (itself when top-level).
    pub top: RoleKey,
    /// Its frameworks in DRF order.
    pub sorter: DrfSorter<FrameworkKey>,
    /// Top-level only: the quota, if any.
    pub quota: Option<Quota>,
    /// Top-level only: reserved scalars of the subtree on all agents.
    pub reserved: Quantities,
    /// Top-level only: allocated unreserved scalars of the subtree.
    pub allocated_unreserved: Quantities,
    /// Top-level only: reservation pools of the subtree on all agents.
    pub reservations: u32,
    /// Top-level only: other role entries whose top this is.
    pub subroles: u32,
}

impl Role {
    /// What counts against the quota: reservations plus allocated
    /// unreserved resources (meaningful on a top-level role).
    pub fn consumed(&self) -> Quantities {
        let mut q = self.reserved.clone();
        q.add(&self.allocated_unreserved);
        q
    }

    /// True when nothing refers to the entry any more.
    pub fn is_unused(&self) -> bool {
        self.sorter.len() == 0
            && self.quota.is_none()
            && self.reservations == 0
            && self.subroles == 0
    }
}
