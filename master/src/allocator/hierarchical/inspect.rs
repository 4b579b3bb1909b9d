//! Read-only views of the allocator's state, for the operator API, metrics
//! and tests.

use super::HierarchicalAllocator;
use crate::allocator::ids::{AgentKey, FrameworkKey};
use crate::allocator::quota::Quota;
use crate::allocator::resources::{Quantities, Resources};
use crate::allocator::role::RoleName;
use crate::allocator::sorter::Sorter;

impl HierarchicalAllocator {
    /// The number of frameworks.
    pub fn framework_count(&self) -> usize {
        self.frameworks.len()
    }

    /// The number of agents.
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// The number of role entries (roles with frameworks, reservations or
    /// quota, and their top-level roles).
    pub fn role_count(&self) -> usize {
        self.roles.len()
    }

    /// True when `role` is a client of the role sorter (has frameworks).
    pub fn is_role_sorted(&self, role: &str) -> bool {
        self.role_key(role)
            .is_some_and(|k| self.role_sorter.contains(k))
    }

    /// Scalars of all agents together.
    pub fn total(&self) -> &Quantities {
        &self.total
    }

    /// Unreserved scalars neither offered nor allocated, on all agents.
    pub fn unreserved_free(&self) -> &Quantities {
        &self.unreserved_free
    }

    /// What the frameworks of `role` hold, sub-roles excluded.
    pub fn role_allocation(&self, role: &str) -> Option<&Quantities> {
        self.role_sorter.allocation(self.role_key(role)?)
    }

    /// The weighted dominant share of `role`.
    pub fn role_share(&self, role: &str) -> Option<f64> {
        self.role_sorter.share(self.role_key(role)?)
    }

    /// Roles with frameworks that want offers, in DRF order.
    pub fn role_order(&mut self) -> Vec<RoleName> {
        let keys = self.role_sorter.sort();
        keys.into_iter()
            .filter_map(|k| self.roles.get(k).map(|r| r.name.clone()))
            .collect()
    }

    /// Frameworks of `role` that want offers, in DRF order.
    pub fn framework_order(&mut self, role: &str) -> Vec<FrameworkKey> {
        let Some(key) = self.role_key(role) else {
            return Vec::new();
        };
        self.roles
            .get_mut(key)
            .map(|r| r.sorter.sort())
            .unwrap_or_default()
    }

    /// What `framework` holds in `role`.
    pub fn framework_allocation(&self, framework: FrameworkKey, role: &str) -> Option<&Quantities> {
        self.roles
            .get(self.role_key(role)?)?
            .sorter
            .allocation(framework)
    }

    /// The weighted dominant share of `framework` among `role`'s frameworks.
    pub fn framework_share(&self, framework: FrameworkKey, role: &str) -> Option<f64> {
        self.roles
            .get(self.role_key(role)?)?
            .sorter
            .share(framework)
    }

    /// How many frameworks `role`'s sorter holds (0 when untracked).
    pub fn role_framework_count(&self, role: &str) -> usize {
        self.role_key(role)
            .and_then(|k| self.roles.get(k))
            .map_or(0, |r| r.sorter.len())
    }

    /// What is free on `agent`.
    pub fn available(&self, agent: AgentKey) -> Option<&Resources> {
        Some(&self.agents.get(agent)?.available)
    }

    /// What `framework` holds on `agent` in `role`.
    pub fn allocated(
        &self,
        framework: FrameworkKey,
        role: &str,
        agent: AgentKey,
    ) -> Option<&Resources> {
        let role = self.role_key(role)?;
        self.agents.get(agent)?.allocated.get(&(framework, role))
    }

    /// The number of unexpired-or-not-yet-purged decline filters of
    /// `framework`.
    pub fn filter_count(&self, framework: FrameworkKey) -> Option<usize> {
        let f = self.frameworks.get(framework)?;
        let on = f.filtered_on.iter().filter_map(|a| self.agents.get(*a));
        Some(on.map(|a| a.filters.count(framework)).sum())
    }

    /// The number of decline filters (of any framework) about `agent`.
    pub fn filters_on(&self, agent: AgentKey) -> Option<usize> {
        Some(self.agents.get(agent)?.filters.len())
    }

    /// The quota of a top-level role.
    pub fn quota(&self, role: &str) -> Option<&Quota> {
        self.roles.get(self.role_key(role)?)?.quota.as_ref()
    }

    /// What counts against `role`'s quota (reservations plus allocated
    /// unreserved resources of it and its sub-roles); `role` is top-level.
    pub fn consumed_quota(&self, role: &str) -> Option<Quantities> {
        let key = self.role_key(role)?;
        Some(self.roles.get(key)?.consumed())
    }

    /// The weight set for `role` (1 when none).
    pub fn weight(&self, role: &str) -> f64 {
        self.weights.get(role).copied().unwrap_or(1.0)
    }
}
