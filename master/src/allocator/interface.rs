//! The `Allocator` interface the master drives, and the values that cross
//! it: framework and agent descriptions in, allocations out. Every call is
//! synchronous and pure bookkeeping; time is passed in as an `Instant`.

use super::error::AllocatorError;
use super::ids::{AgentKey, FrameworkKey};
use super::quota::Quota;
use super::resources::{Quantities, Resources};
use super::role::RoleName;
use std::time::{Duration, Instant};

/// Framework capabilities the allocator looks at (multi-role is implicit:
/// every framework may have several roles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Mesos' `GPU_RESOURCES`: without it a framework is not offered
    /// anything from agents that have GPUs (when
    /// [`Options::filter_gpu_resources`] is on).
    pub gpu_resources: bool,
}

/// A framework as the allocator sees it.
#[derive(Debug, Clone, Default)]
pub struct FrameworkSpec {
    /// The roles it subscribes to (at least one).
    pub roles: Vec<String>,
    /// Roles (among `roles`) it wants no offers for.
    pub suppressed_roles: Vec<String>,
    /// Its capabilities.
    pub capabilities: Capabilities,
    /// Whether it is connected (only active frameworks receive offers).
    pub active: bool,
}

/// Resources already in use on an agent when it is added.
#[derive(Debug, Clone)]
pub struct Used {
    /// The framework running them.
    pub framework: FrameworkKey,
    /// The role they are allocated to.
    pub role: String,
    /// The resources.
    pub resources: Resources,
}

/// One offer decided by an allocation pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Who gets it.
    pub framework: FrameworkKey,
    /// Under which of its roles.
    pub role: RoleName,
    /// From where.
    pub agent: AgentKey,
    /// What.
    pub resources: Resources,
}

/// In which order an allocation pass visits agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentOrder {
    /// Ascending agent key: reproducible, packs low keys first.
    Stable,
    /// A fresh pseudo-random permutation each stage, from a seeded
    /// generator (so a given seed and call sequence give the same
    /// offers): spreads load across agents as Mesos does.
    Shuffled {
        /// Seed of the generator.
        seed: u64,
    },
}

/// Allocator settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// An offer must contain at least one of these (Mesos' default:
    /// `cpus:0.01` or `mem:32`); empty means any non-empty offer.
    pub min_allocatable: Vec<Quantities>,
    /// Agent visiting order.
    pub agent_order: AgentOrder,
    /// Offer agents with GPUs only to GPU-capable frameworks.
    pub filter_gpu_resources: bool,
    /// Longest decline filter; longer ones are cut to this (Mesos: 365 days).
    pub max_filter: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_allocatable: vec![
                Quantities::new().with_milli("cpus", 10),
                Quantities::new().with_milli("mem", 32_000),
            ],
            agent_order: AgentOrder::Shuffled {
                seed: 0x0c0f_fee5_eed5,
            },
            filter_gpu_resources: true,
            max_filter: Duration::from_secs(365 * 24 * 3600),
        }
    }
}

/// What the master asks of an allocator. Unknown keys and invalid roles
/// are typed errors that leave the state unchanged.
pub trait Allocator {
    /// Adds a framework and returns its key.
    fn add_framework(&mut self, spec: &FrameworkSpec) -> Result<FrameworkKey, AllocatorError>;
    /// Removes a framework; what it held returns to the agents.
    fn remove_framework(&mut self, framework: FrameworkKey) -> Result<(), AllocatorError>;
    /// Marks a framework connected: it receives offers again.
    fn activate_framework(&mut self, framework: FrameworkKey) -> Result<(), AllocatorError>;
    /// Marks a framework disconnected: no offers, allocations kept.
    fn deactivate_framework(&mut self, framework: FrameworkKey) -> Result<(), AllocatorError>;

    /// Adds an agent with its total resources and what already runs there.
    fn add_agent(&mut self, total: &Resources, used: &[Used]) -> Result<AgentKey, AllocatorError>;
    /// Removes an agent; allocations on it are forgotten.
    fn remove_agent(&mut self, agent: AgentKey) -> Result<(), AllocatorError>;
    /// Replaces an agent's total (it must still contain what is allocated).
    fn update_agent(&mut self, agent: AgentKey, total: &Resources) -> Result<(), AllocatorError>;
    /// Offers from the agent resume.
    fn activate_agent(&mut self, agent: AgentKey) -> Result<(), AllocatorError>;
    /// No offers from the agent (e.g. it is draining or unreachable).
    fn deactivate_agent(&mut self, agent: AgentKey) -> Result<(), AllocatorError>;

    /// Gives back resources a framework held in `role` on `agent` (declined
    /// or rescinded offers, finished tasks); with `filter`, refuses them
    /// (or any part of them) to that framework and role until `now + filter`.
    fn recover(
        &mut self,
        framework: FrameworkKey,
        role: &str,
        agent: AgentKey,
        resources: &Resources,
        filter: Option<Duration>,
        now: Instant,
    ) -> Result<(), AllocatorError>;
    /// Converts resources `framework` holds in `role` on `agent` from `from`
    /// to `to` — a RESERVE or UNRESERVE applied to offered resources
    /// (Mesos' `updateAllocation`). Both must hold the same resources,
    /// only their reservations differ; the agent's total changes with them,
    /// so quota consumption follows while shares stay put.
    fn update_allocation(
        &mut self,
        framework: FrameworkKey,
        role: &str,
        agent: AgentKey,
        from: &Resources,
        to: &Resources,
    ) -> Result<(), AllocatorError>;
    /// Stops offers to the framework for `role` (all its roles when `None`).
    fn suppress(
        &mut self,
        framework: FrameworkKey,
        role: Option<&str>,
    ) -> Result<(), AllocatorError>;
    /// Resumes offers for `role` (all when `None`) and clears its filters.
    fn revive(&mut self, framework: FrameworkKey, role: Option<&str>)
    -> Result<(), AllocatorError>;

    /// Sets a role's weight (default 1): its fair share scales with it.
    fn set_weight(&mut self, role: &str, weight: f64) -> Result<(), AllocatorError>;
    /// Sets a top-level role's quota; the default quota removes it.
    fn set_quota(&mut self, role: &str, quota: Quota) -> Result<(), AllocatorError>;

    /// One allocation pass over every agent at time `now`.
    fn allocate(&mut self, now: Instant) -> Vec<Allocation>;
}
