//! Bookkeeping of allocations: one place that moves resources between an
//! agent's available pool and a framework's holding, and keeps the two
//! sorters, quota consumption and the free headroom in step. `recover`
//! (give back, with an optional decline filter) is built on it.

use super::HierarchicalAllocator;
use crate::allocator::error::AllocatorError;
use crate::allocator::ids::{AgentKey, FrameworkKey, RoleKey};
use crate::allocator::resources::Resources;
use crate::allocator::sorter::Sorter;
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// A sorter call that cannot fail when the allocator's books are right; a
/// failure is a bug, caught by tests in debug builds.
fn expect_ok<E: Debug>(result: Result<(), E>) {
    debug_assert!(result.is_ok(), "allocator bookkeeping: {result:?}");
}

impl HierarchicalAllocator {
    /// Records `res`, taken from `agent`'s available pool, as allocated to
    /// `fw` in `role`. The caller checked that the agent has it.
    pub(super) fn track(
        &mut self,
        fw: FrameworkKey,
        role: RoleKey,
        agent: AgentKey,
        res: &Resources,
    ) {
        let q = res.quantities();
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        a.available.subtract(res);
        let held = a.allocated.get_or_default((fw, role));
        let first = held.is_empty();
        held.add(res);
        if first && let Some(f) = self.frameworks.get_mut(fw) {
            *f.agents.entry(agent).or_default() += 1;
        }
        let unreserved = &res.unreserved().scalars;
        self.unreserved_free.saturating_sub(unreserved);
        if let Some(r) = self.roles.get_mut(role) {
            expect_ok(r.sorter.allocated(fw, agent, &q));
            let top = r.top;
            if let Some(t) = self.roles.get_mut(top) {
                t.allocated_unreserved.add(unreserved);
            }
        }
        expect_ok(self.role_sorter.allocated(role, agent, &q));
    }

    /// Returns `res`, held by `fw` in `role` on `agent`, to the agent's
    /// available pool. The caller checked that the framework holds it.
    pub(super) fn untrack(
        &mut self,
        fw: FrameworkKey,
        role: RoleKey,
        agent: AgentKey,
        res: &Resources,
    ) {
        let q = res.quantities();
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        a.available.add(res);
        let mut emptied = false;
        if let Some(held) = a.allocated.get_mut(&(fw, role)) {
            held.subtract(res);
            emptied = held.is_empty();
        }
        if emptied {
            a.allocated.remove(&(fw, role));
            if let Some(f) = self.frameworks.get_mut(fw)
                && let Some(n) = f.agents.get_mut(&agent)
            {
                *n -= 1;
                if *n == 0 {
                    f.agents.remove(&agent);
                }
            }
        }
        let unreserved = &res.unreserved().scalars;
        self.unreserved_free.add(unreserved);
        if let Some(r) = self.roles.get_mut(role) {
            expect_ok(r.sorter.unallocated(fw, agent, &q));
            let top = r.top;
            if let Some(t) = self.roles.get_mut(top) {
                t.allocated_unreserved.saturating_sub(unreserved);
            }
        }
        expect_ok(self.role_sorter.unallocated(role, agent, &q));
    }

    /// The role `fw` subscribes to under `role`, or why not.
    pub(super) fn subscribed_role(
        &self,
        fw: FrameworkKey,
        role: &str,
    ) -> Result<RoleKey, AllocatorError> {
        let framework = self.framework(fw)?;
        let not = || AllocatorError::NotSubscribed {
            framework: fw,
            role: role.to_owned(),
        };
        let key = self.role_key(role).ok_or_else(not)?;
        framework.role_index(key).map(|_| key).ok_or_else(not)
    }

    /// Checks that `fw` holds `res` in `role` on `agent`.
    pub(super) fn check_held(
        &self,
        fw: FrameworkKey,
        role: RoleKey,
        agent: AgentKey,
        res: &Resources,
    ) -> Result<(), AllocatorError> {
        let a = self.agent(agent)?;
        let held = a.allocated.get(&(fw, role));
        if held.is_some_and(|h| h.contains(res)) {
            return Ok(());
        }
        Err(AllocatorError::NotAllocated {
            framework: fw,
            role: self
                .roles
                .get(role)
                .map(|r| r.name.to_string())
                .unwrap_or_default(),
            agent,
            resources: res.to_string(),
            held: held.map_or_else(|| "{}".to_owned(), Resources::to_string),
        })
    }

    pub(super) fn give_back(
        &mut self,
        fw: FrameworkKey,
        role: &str,
        agent: AgentKey,
        res: &Resources,
        filter: Option<Duration>,
        now: Instant,
    ) -> Result<(), AllocatorError> {
        let role = self.subscribed_role(fw, role)?;
        self.check_held(fw, role, agent, res)?;
        if res.is_empty() {
            return Ok(());
        }
        self.untrack(fw, role, agent, res);
        let Some(filter) = filter.filter(|f| !f.is_zero()) else {
            return Ok(());
        };
        let filter = filter.min(self.options.max_filter);
        let expires = now.checked_add(filter).unwrap_or(now);
        if let Some(a) = self.agents.get_mut(agent) {
            a.filters.add(fw, role, res.clone(), expires);
        }
        if let Some(f) = self.frameworks.get_mut(fw) {
            f.filtered_on.insert(agent);
        }
        Ok(())
    }
}
