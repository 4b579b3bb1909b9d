//! One allocation pass: expire filters, list the agents with something
//! free, then two stages over them. Stage 1 (only while some role is below
//! its quota guarantee) offers to those roles first; stage 2 offers to all
//! roles in DRF order. On each agent the roles are walked in fair-share
//! order and, within a role, its frameworks; the first framework that is
//! neither filtered nor incapable gets the role's offer, the shares move,
//! and the walk goes on with what is left. Walks are lazy cursors over the
//! sorters, so an agent costs O(log n) when its first candidate takes it.

use super::offer::Stage;
use super::{HierarchicalAllocator, Scratch};
use crate::allocator::ids::{AgentKey, FrameworkKey, RoleKey};
use crate::allocator::interface::{AgentOrder, Allocation};
use crate::allocator::resources::Resources;
use crate::allocator::sorter::Sorter;
use std::time::Instant;

/// Frameworks fetched per batch after the first one declined the offer.
const BATCH: usize = 64;

/// The agent being offered, in which stage, at what time.
#[derive(Debug, Clone, Copy)]
struct Visit {
    agent: AgentKey,
    stage: Stage,
    now: Instant,
}

impl HierarchicalAllocator {
    pub(super) fn run_pass(&mut self, now: Instant) -> Vec<Allocation> {
        let mut out = Vec::new();
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.order.clear();
        // One sweep: expire filters, list the agents with something free.
        for (key, a) in self.agents.iter_mut() {
            a.filters.expire(now);
            if a.active && !a.available.is_empty() {
                scratch.order.push(key);
            }
        }
        if !scratch.order.is_empty() && self.role_sorter.active_count() > 0 {
            out.reserve(scratch.order.len());
            if !self.required_headroom().is_empty() {
                self.shuffle(&mut scratch.order);
                self.stage(Stage::Guarantees, now, &mut scratch, &mut out);
            }
            self.shuffle(&mut scratch.order);
            self.stage(Stage::FairShare, now, &mut scratch, &mut out);
        }
        scratch.merged.clear();
        self.scratch = scratch;
        out
    }

    fn stage(
        &mut self,
        stage: Stage,
        now: Instant,
        scratch: &mut Scratch,
        out: &mut Vec<Allocation>,
    ) {
        for i in 0..scratch.order.len() {
            let agent = scratch.order[i];
            if self.offerable(agent) {
                self.allocate_agent(Visit { agent, stage, now }, scratch, out);
            }
        }
    }

    /// True when the agent is active and has something allocatable free.
    fn offerable(&self, agent: AgentKey) -> bool {
        self.agents
            .get(agent)
            .is_some_and(|a| a.active && self.allocatable(&a.available))
    }

    /// Offers the agent to its roles in fair-share order.
    fn allocate_agent(&mut self, visit: Visit, scratch: &mut Scratch, out: &mut Vec<Allocation>) {
        self.role_sorter.start(&mut scratch.roles);
        while let Some(role) = self.role_sorter.next(&mut scratch.roles) {
            let Some(offer) = self.role_offer(visit.agent, role, visit.stage) else {
                continue;
            };
            if !self.offer_in_role(visit, role, offer, scratch, out) {
                return;
            }
        }
    }

    /// Offers the role's share of the agent to its frameworks in order,
    /// fetched in batches; false when the agent has nothing left.
    fn offer_in_role(
        &mut self,
        visit: Visit,
        role: RoleKey,
        mut offer: Resources,
        scratch: &mut Scratch,
        out: &mut Vec<Allocation>,
    ) -> bool {
        let mut batch = std::mem::take(&mut scratch.batch);
        let (mut size, mut agent_left) = (1, true);
        if let Some(r) = self.roles.get_mut(role) {
            r.sorter.start(&mut scratch.frameworks);
        }
        'walk: loop {
            batch.clear();
            if let Some(r) = self.roles.get_mut(role) {
                r.sorter
                    .next_batch(&mut scratch.frameworks, &mut batch, size);
            }
            // Usually the first framework takes the offer; fetch more only
            // when it did not.
            size = BATCH;
            for &fw in &batch {
                if !self.may_offer(fw, role, visit, &offer) {
                    continue;
                }
                self.grant(fw, role, visit, offer, scratch, out);
                if !self.offerable(visit.agent) {
                    agent_left = false;
                    break 'walk;
                }
                match self.role_offer(visit.agent, role, visit.stage) {
                    Some(rest) => offer = rest,
                    None => break 'walk,
                }
            }
            if batch.is_empty() {
                break;
            }
        }
        scratch.batch = batch;
        agent_left
    }

    /// True unless the framework filters `offer` or cannot take this agent.
    fn may_offer(&self, fw: FrameworkKey, role: RoleKey, visit: Visit, offer: &Resources) -> bool {
        let (Some(f), Some(a)) = (self.frameworks.get(fw), self.agents.get(visit.agent)) else {
            return false;
        };
        if a.has_gpus && self.options.filter_gpu_resources && !f.capabilities.gpu_resources {
            return false;
        }
        !a.filters.filters(fw, role, offer, visit.now)
    }

    fn grant(
        &mut self,
        fw: FrameworkKey,
        role: RoleKey,
        visit: Visit,
        offer: Resources,
        scratch: &mut Scratch,
        out: &mut Vec<Allocation>,
    ) {
        let agent = visit.agent;
        self.track(fw, role, agent, &offer);
        let place = (fw, role, agent);
        if !scratch.merged.is_empty()
            && let Some(&i) = scratch.merged.get(&place)
        {
            out[i].resources.add(&offer);
            return;
        }
        if visit.stage == Stage::Guarantees {
            scratch.merged.insert(place, out.len());
        }
        let Some(name) = self.roles.get(role).map(|r| r.name.clone()) else {
            return;
        };
        out.push(Allocation {
            framework: fw,
            role: name,
            agent,
            resources: offer,
        });
    }

    /// Permutes `order` when agents are visited shuffled (xorshift64*,
    /// Fisher–Yates); keeps slot order when stable.
    fn shuffle(&mut self, order: &mut [AgentKey]) {
        if self.options.agent_order == AgentOrder::Stable {
            return;
        }
        for i in (1..order.len()).rev() {
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
            let j = ((r >> 32) * (i as u64 + 1)) >> 32;
            order.swap(i, j as usize);
        }
    }
}
