//! Converting allocated resources between reservation states (a RESERVE or
//! UNRESERVE applied to an offer being accepted): the agent's total and the
//! framework's holding change together, reservations counted against quota
//! follow, and nothing else moves — the quantities are the same, so the
//! sorters' shares and the free headroom stay as they were.

use super::HierarchicalAllocator;
use crate::allocator::error::AllocatorError;
use crate::allocator::ids::{AgentKey, FrameworkKey};
use crate::allocator::resources::Resources;

impl HierarchicalAllocator {
    pub(super) fn convert_held(
        &mut self,
        fw: FrameworkKey,
        role: &str,
        agent: AgentKey,
        from: &Resources,
        to: &Resources,
    ) -> Result<(), AllocatorError> {
        let role = self.subscribed_role(fw, role)?;
        self.check_held(fw, role, agent, from)?;
        if from.flattened() != to.flattened() {
            return Err(AllocatorError::ConversionMismatch {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        if from == to {
            return Ok(());
        }
        let old = self.agent(agent)?.total.clone();
        let mut total = old.clone();
        total.subtract(from);
        total.add(to);
        // Count the new reservations before dropping the old ones, so a
        // role that keeps some is not collected in between.
        self.track_reservations(&total, true);
        self.track_reservations(&old, false);
        if let Some(top) = self.roles.get(role).map(|r| r.top)
            && let Some(t) = self.roles.get_mut(top)
        {
            t.allocated_unreserved
                .saturating_sub(&from.unreserved().scalars);
            t.allocated_unreserved.add(&to.unreserved().scalars);
        }
        if let Some(a) = self.agents.get_mut(agent) {
            a.total = total;
            if let Some(held) = a.allocated.get_mut(&(fw, role)) {
                held.subtract(from);
                held.add(to);
            }
        }
        Ok(())
    }
}
