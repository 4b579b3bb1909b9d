//! What one role may be offered on one agent, in each stage of a pass:
//! the role's reservations and the agent's ports always; unreserved
//! scalars cut to the role's quota limit and to the headroom other roles'
//! unsatisfied guarantees need; in the guarantee stage, the part that
//! serves the role's own guarantee first and regardless of headroom.

use super::HierarchicalAllocator;
use crate::allocator::ids::{AgentKey, RoleKey};
use crate::allocator::resources::{Pool, Quantities, Resources};

/// The two stages of a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Stage 1: roles below their quota guarantee.
    Guarantees,
    /// Stage 2: every role, in fair-share order.
    FairShare,
}

impl HierarchicalAllocator {
    /// The resources any framework of `role` may be offered on `agent` now,
    /// or `None` when that is nothing allocatable.
    pub(super) fn role_offer(
        &self,
        agent: AgentKey,
        role: RoleKey,
        stage: Stage,
    ) -> Option<Resources> {
        let a = self.agents.get(agent)?;
        let r = self.roles.get(role)?;
        let quota = self.roles.get(r.top)?.quota.as_ref();
        let unreserved = &a.available.unreserved().scalars;
        let scalars = match (stage, quota) {
            (Stage::Guarantees, None) => return None,
            (Stage::Guarantees, Some(quota)) => {
                let consumed = self.consumed(r.top);
                let unsatisfied = quota.unsatisfied(&consumed);
                let mut guaranteed = unreserved.clone();
                guaranteed.min_with(&unsatisfied);
                if guaranteed.is_empty() {
                    return None;
                }
                // Beyond the guarantee: within the limit and the headroom.
                let mut more = unreserved.clone();
                more.saturating_sub(&guaranteed);
                let mut after = consumed;
                after.add(&guaranteed);
                quota.limits.shrink(&mut more, &after);
                self.shrink_to_headroom(&mut more);
                guaranteed.add(&more);
                guaranteed
            }
            (Stage::FairShare, quota) => {
                let mut scalars = unreserved.clone();
                if let Some(quota) = quota {
                    quota.limits.shrink(&mut scalars, &self.consumed(r.top));
                }
                self.shrink_to_headroom(&mut scalars);
                scalars
            }
        };
        let ports = a.available.unreserved().ports.clone();
        let mut offer = Resources::unreserved_pool(Pool { scalars, ports });
        if a.available.has_reservations() {
            offer.add(&a.available.reservations_for(r.name.as_str()));
        }
        self.allocatable(&offer).then_some(offer)
    }

    /// True when `res` holds at least one of the minimal allocatable sets.
    pub(super) fn allocatable(&self, res: &Resources) -> bool {
        if res.is_empty() {
            return false;
        }
        let min = &self.options.min_allocatable;
        if min.is_empty() {
            return true;
        }
        if res.has_reservations() {
            let q = res.quantities();
            return min.iter().any(|m| q.contains(m));
        }
        min.iter().any(|m| res.unreserved().scalars.contains(m))
    }

    /// What counts against the quota of the top-level role `top`.
    pub(super) fn consumed(&self, top: RoleKey) -> Quantities {
        self.roles
            .get(top)
            .map(|t| t.consumed())
            .unwrap_or_default()
    }

    /// Unsatisfied guarantees of all roles: the unreserved resources that
    /// must stay free for them.
    pub(super) fn required_headroom(&self) -> Quantities {
        let mut required = Quantities::new();
        for &key in &self.quota_roles {
            if let Some(quota) = self.roles.get(key).and_then(|r| r.quota.as_ref()) {
                required.add(&quota.unsatisfied(&self.consumed(key)));
            }
        }
        required
    }

    /// Cuts `q` to the free unreserved resources beyond the required
    /// headroom.
    fn shrink_to_headroom(&self, q: &mut Quantities) {
        if self.quota_roles.is_empty() || q.is_empty() {
            return;
        }
        let required = self.required_headroom();
        if required.is_empty() {
            return;
        }
        let mut surplus = self.unreserved_free.clone();
        surplus.saturating_sub(&required);
        // Only the names the headroom is about are cut.
        for (name, _) in required.iter() {
            q.cap(name, surplus.milli(name));
        }
    }
}
