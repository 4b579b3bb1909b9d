//! Agent lifecycle: add (with resources already in use), remove (its
//! allocations are forgotten), update the total, activate/deactivate. The
//! pool totals of every sorter, the free headroom and the reservations
//! counted against quota follow each change.

use super::HierarchicalAllocator;
use super::state::Agent;
use crate::allocator::error::AllocatorError;
use crate::allocator::ids::{AgentKey, FrameworkKey, RoleKey};
use crate::allocator::interface::Used;
use crate::allocator::resources::{Quantities, Resources};
use crate::allocator::role::RoleName;
use crate::allocator::sorter::Sorter;

impl HierarchicalAllocator {
    pub(super) fn insert_agent(
        &mut self,
        total: &Resources,
        used: &[Used],
    ) -> Result<AgentKey, AllocatorError> {
        let mut uses: Vec<(FrameworkKey, RoleKey, &Resources)> = Vec::with_capacity(used.len());
        let mut sum = Resources::new();
        for u in used {
            uses.push((
                u.framework,
                self.subscribed_role(u.framework, &u.role)?,
                &u.resources,
            ));
            sum.add(&u.resources);
        }
        if !total.contains(&sum) {
            return Err(AllocatorError::UsedExceedsTotal {
                used: sum.to_string(),
                total: total.to_string(),
            });
        }
        self.change_totals(&Quantities::new(), &total.quantities());
        self.track_reservations(total, true);
        self.unreserved_free.add(&total.unreserved().scalars);
        let key = self.agents.insert(Agent::new(total));
        for (fw, role, res) in uses {
            self.track(fw, role, key, res);
        }
        Ok(key)
    }

    pub(super) fn drop_agent(&mut self, agent: AgentKey) -> Result<(), AllocatorError> {
        let held: Vec<_> = self
            .agent(agent)?
            .allocated
            .iter()
            .map(|(k, r)| (*k, r.clone()))
            .collect();
        for ((fw, role), res) in held {
            self.untrack(fw, role, agent, &res);
        }
        let Some(a) = self.agents.remove(agent) else {
            return Ok(());
        };
        self.change_totals(&a.total.quantities(), &Quantities::new());
        self.track_reservations(&a.total, false);
        self.unreserved_free
            .saturating_sub(&a.total.unreserved().scalars);
        Ok(())
    }

    pub(super) fn replace_agent_total(
        &mut self,
        agent: AgentKey,
        total: &Resources,
    ) -> Result<(), AllocatorError> {
        let a = self.agent(agent)?;
        let allocated = a.allocated_sum();
        if !total.contains(&allocated) {
            return Err(AllocatorError::TotalBelowAllocation {
                agent,
                total: total.to_string(),
                allocated: allocated.to_string(),
            });
        }
        let old = a.total.clone();
        let old_free = a.available.unreserved().scalars.clone();
        let mut available = total.clone();
        available.subtract(&allocated);
        self.unreserved_free.saturating_sub(&old_free);
        self.unreserved_free.add(&available.unreserved().scalars);
        self.change_totals(&old.quantities(), &total.quantities());
        self.track_reservations(total, true);
        self.track_reservations(&old, false);
        if let Some(a) = self.agents.get_mut(agent) {
            // Allocations, activity and decline filters stay (as in Mesos,
            // a new total alone does not lift filters).
            *a = Agent {
                allocated: std::mem::take(&mut a.allocated),
                filters: std::mem::take(&mut a.filters),
                active: a.active,
                ..Agent::new(total)
            };
            a.available = available;
        }
        Ok(())
    }

    pub(super) fn set_agent_active(
        &mut self,
        agent: AgentKey,
        active: bool,
    ) -> Result<(), AllocatorError> {
        let a = self
            .agents
            .get_mut(agent)
            .ok_or(AllocatorError::UnknownAgent(agent))?;
        a.active = active;
        Ok(())
    }

    /// Replaces `old` by `new` in the pool of every sorter.
    fn change_totals(&mut self, old: &Quantities, new: &Quantities) {
        self.total.saturating_sub(old);
        self.total.add(new);
        self.role_sorter.remove_total(old);
        self.role_sorter.add_total(new);
        for (_, r) in self.roles.iter_mut() {
            r.sorter.remove_total(old);
            r.sorter.add_total(new);
        }
    }

    /// Counts (or stops counting) the reservations of `total` against
    /// their top-level roles' quota.
    pub(super) fn track_reservations(&mut self, total: &Resources, add: bool) {
        if !total.has_reservations() {
            return;
        }
        let tops: Vec<(RoleName, Quantities)> = total
            .reservations()
            .filter_map(|(role, pool)| {
                Some((RoleName::new(role.top_level()).ok()?, pool.scalars.clone()))
            })
            .collect();
        for (top, scalars) in tops {
            let key = self.intern_role(&top);
            if let Some(t) = self.roles.get_mut(key) {
                if add {
                    t.reserved.add(&scalars);
                    t.reservations += 1;
                } else {
                    t.reserved.saturating_sub(&scalars);
                    t.reservations = t.reservations.saturating_sub(1);
                }
            }
            if !add {
                self.gc_role(key);
            }
        }
    }
}
