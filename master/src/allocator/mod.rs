//! The master's allocator: decides which framework is offered which
//! agent's free resources. Pure bookkeeping with no I/O and no clock (time
//! is passed in), so every decision is reproducible in a unit test.
//!
//! - [`resources`]: the compact resource type (fixed-point scalars, port
//!   ranges, dynamic reservations) and its arithmetic.
//! - [`sorter`]: the [`Sorter`] interface and the hierarchical DRF sorter.
//! - [`HierarchicalAllocator`]: the two-stage allocator (quota guarantees,
//!   then fair share) with weights, quota limits and headroom, decline
//!   filters and suppression, behind the [`Allocator`] trait.
//!
//! See `docs/allocator.md` for the algorithm and the benchmark.

mod error;
mod filters;
mod hash;
mod hierarchical;
mod ids;
mod interface;
mod quota;
pub mod resources;
mod role;
pub mod sorter;
mod vecmap;

#[cfg(test)]
mod tests;

pub use error::{AllocatorError, ResourceError, RoleError, SorterError};
pub use hierarchical::HierarchicalAllocator;
pub use ids::{AgentKey, FrameworkKey, RoleKey};
pub use interface::{
    AgentOrder, Allocation, Allocator, Capabilities, FrameworkSpec, Options, Used,
};
pub use quota::{Limits, Quota};
pub use resources::{Pool, PortRanges, Quantities, Resources};
pub use role::RoleName;
pub use sorter::{DrfSorter, Sorter};
