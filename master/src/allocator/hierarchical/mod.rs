//! The hierarchical allocator (after Mesos' `HierarchicalAllocatorProcess`):
//! frameworks in roles, roles in a tree, one DRF sorter over roles and one
//! per role over its frameworks, offer filters, suppression, weights and
//! quota. `allocate` runs the two-stage pass in `pass.rs`; the other files
//! keep the books.

mod agents;
mod frameworks;
mod inspect;
mod offer;
mod pass;
mod roles;
mod state;
mod track;
mod update;

use super::error::AllocatorError;
use super::hash::FastMap;
use super::ids::{AgentKey, FrameworkKey, RoleKey, Slab};
use super::interface::{AgentOrder, Allocation, Allocator, FrameworkSpec, Options, Used};
use super::quota::Quota;
use super::resources::{Quantities, Resources};
use super::role::RoleName;
use super::sorter::{DrfCursor, DrfSorter};
use state::{Agent, Framework, Role};
use std::time::{Duration, Instant};

/// The hierarchical DRF allocator.
#[derive(Debug, Clone)]
pub struct HierarchicalAllocator {
    options: Options,
    frameworks: Slab<FrameworkKey, Framework>,
    agents: Slab<AgentKey, Agent>,
    roles: Slab<RoleKey, Role>,
    role_keys: FastMap<RoleName, RoleKey>,
    /// Roles with frameworks, in DRF order.
    role_sorter: DrfSorter<RoleKey>,
    /// Scalars of every agent's total.
    total: Quantities,
    /// Unreserved scalars neither offered nor allocated, on all agents:
    /// the headroom quota guarantees draw on.
    unreserved_free: Quantities,
    /// Top-level roles that have a quota.
    quota_roles: Vec<RoleKey>,
    /// Weights set, by role.
    weights: FastMap<RoleName, f64>,
    /// State of the agent-order generator.
    rng: u64,
    scratch: Scratch,
}

/// Buffers reused by every pass, so a pass allocates only its output.
#[derive(Debug, Clone, Default)]
struct Scratch {
    order: Vec<AgentKey>,
    roles: DrfCursor,
    frameworks: DrfCursor,
    /// Frameworks of the current batch.
    batch: Vec<FrameworkKey>,
    /// Stage-1 allocations by (framework, role, agent), for merging.
    merged: FastMap<(FrameworkKey, RoleKey, AgentKey), usize>,
}

impl Default for HierarchicalAllocator {
    fn default() -> Self {
        Self::new(Options::default())
    }
}

impl HierarchicalAllocator {
    /// An allocator without agents or frameworks.
    pub fn new(options: Options) -> Self {
        let rng = match options.agent_order {
            AgentOrder::Stable => 0,
            AgentOrder::Shuffled { seed } => seed | 1,
        };
        HierarchicalAllocator {
            options,
            frameworks: Slab::default(),
            agents: Slab::default(),
            roles: Slab::default(),
            role_keys: FastMap::default(),
            role_sorter: DrfSorter::new(),
            total: Quantities::new(),
            unreserved_free: Quantities::new(),
            quota_roles: Vec::new(),
            weights: FastMap::default(),
            rng,
            scratch: Scratch::default(),
        }
    }

    /// The settings.
    pub fn options(&self) -> &Options {
        &self.options
    }

    fn framework(&self, key: FrameworkKey) -> Result<&Framework, AllocatorError> {
        self.frameworks
            .get(key)
            .ok_or(AllocatorError::UnknownFramework(key))
    }

    fn agent(&self, key: AgentKey) -> Result<&Agent, AllocatorError> {
        self.agents
            .get(key)
            .ok_or(AllocatorError::UnknownAgent(key))
    }
}

impl Allocator for HierarchicalAllocator {
    fn add_framework(&mut self, spec: &FrameworkSpec) -> Result<FrameworkKey, AllocatorError> {
        self.insert_framework(spec)
    }

    fn remove_framework(&mut self, framework: FrameworkKey) -> Result<(), AllocatorError> {
        self.drop_framework(framework)
    }

    fn activate_framework(&mut self, framework: FrameworkKey) -> Result<(), AllocatorError> {
        self.set_framework_active(framework, true)
    }

    fn deactivate_framework(&mut self, framework: FrameworkKey) -> Result<(), AllocatorError> {
        self.set_framework_active(framework, false)
    }

    fn add_agent(&mut self, total: &Resources, used: &[Used]) -> Result<AgentKey, AllocatorError> {
        self.insert_agent(total, used)
    }

    fn remove_agent(&mut self, agent: AgentKey) -> Result<(), AllocatorError> {
        self.drop_agent(agent)
    }

    fn update_agent(&mut self, agent: AgentKey, total: &Resources) -> Result<(), AllocatorError> {
        self.replace_agent_total(agent, total)
    }

    fn activate_agent(&mut self, agent: AgentKey) -> Result<(), AllocatorError> {
        self.set_agent_active(agent, true)
    }

    fn deactivate_agent(&mut self, agent: AgentKey) -> Result<(), AllocatorError> {
        self.set_agent_active(agent, false)
    }

    fn recover(
        &mut self,
        framework: FrameworkKey,
        role: &str,
        agent: AgentKey,
        resources: &Resources,
        filter: Option<Duration>,
        now: Instant,
    ) -> Result<(), AllocatorError> {
        self.give_back(framework, role, agent, resources, filter, now)
    }

    fn update_allocation(
        &mut self,
        framework: FrameworkKey,
        role: &str,
        agent: AgentKey,
        from: &Resources,
        to: &Resources,
    ) -> Result<(), AllocatorError> {
        self.convert_held(framework, role, agent, from, to)
    }

    fn suppress(
        &mut self,
        framework: FrameworkKey,
        role: Option<&str>,
    ) -> Result<(), AllocatorError> {
        self.set_suppressed(framework, role, true)
    }

    fn revive(
        &mut self,
        framework: FrameworkKey,
        role: Option<&str>,
    ) -> Result<(), AllocatorError> {
        self.set_suppressed(framework, role, false)
    }

    fn set_weight(&mut self, role: &str, weight: f64) -> Result<(), AllocatorError> {
        self.apply_weight(role, weight)
    }

    fn set_quota(&mut self, role: &str, quota: Quota) -> Result<(), AllocatorError> {
        self.apply_quota(role, quota)
    }

    fn allocate(&mut self, now: Instant) -> Vec<Allocation> {
        self.run_pass(now)
    }
}
