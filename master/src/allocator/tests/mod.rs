//! Allocator unit tests: each builds a small cluster, drives the allocator
//! like the master would, and asserts on who was offered what.

mod drf;
mod filters;
mod lifecycle;
mod quota;
mod reservations;
mod resources;
mod sorter;

use super::{
    AgentOrder, Allocation, Allocator, FrameworkKey, FrameworkSpec, HierarchicalAllocator, Options,
    Resources,
};
use std::time::Instant;

/// Parses resources or fails the test.
pub(super) fn res(text: &str) -> Resources {
    Resources::parse(text).unwrap()
}

/// An allocator visiting agents in key order, so outcomes are easy to state.
pub(super) fn stable() -> HierarchicalAllocator {
    HierarchicalAllocator::new(Options {
        agent_order: AgentOrder::Stable,
        ..Options::default()
    })
}

/// Adds an active framework subscribed to `roles`.
pub(super) fn framework(alloc: &mut HierarchicalAllocator, roles: &[&str]) -> FrameworkKey {
    let spec = FrameworkSpec {
        roles: roles.iter().map(|r| r.to_string()).collect(),
        active: true,
        ..Default::default()
    };
    alloc.add_framework(&spec).unwrap()
}

/// Adds `n` agents with `total` each.
pub(super) fn agents(
    alloc: &mut HierarchicalAllocator,
    n: usize,
    total: &str,
) -> Vec<super::AgentKey> {
    let total = res(total);
    (0..n)
        .map(|_| alloc.add_agent(&total, &[]).unwrap())
        .collect()
}

/// Whole cpus offered to `framework` in `allocations`.
pub(super) fn cpus_to(allocations: &[Allocation], framework: FrameworkKey) -> f64 {
    allocations
        .iter()
        .filter(|a| a.framework == framework)
        .map(|a| a.resources.quantities().get("cpus"))
        .sum()
}

/// A fixed starting instant.
pub(super) fn t0() -> Instant {
    Instant::now()
}
