//! The `Sorter` interface (after Mesos' `sorter.hpp`): clients (roles, or
//! the frameworks of one role) with their allocations, kept in fair-share
//! order. The allocator keeps one sorter over roles and one per role over
//! its frameworks; [`DrfSorter`] is the dominant-resource-fairness one.

mod drf;
mod tree;

pub use drf::{DrfCursor, DrfSorter};

use super::error::SorterError;
use super::ids::AgentKey;
use super::resources::Quantities;
use std::fmt::Debug;
use std::hash::Hash;

/// Clients in fair-share order over a pool of resources.
///
/// Clients sit in a tree given by their `/`-separated path (for roles,
/// the role name; for frameworks, the empty path, a flat list). Added
/// clients start inactive; only active clients are sorted. Allocations are
/// tracked per client and agent; shares are taken against the total pool.
pub trait Sorter {
    /// What is sorted: a role or framework key.
    type Client: Copy + Eq + Hash + Ord + Debug;
    /// The state of one walk over the clients in order (see [`Sorter::next`]).
    type Cursor: Default + Debug;

    /// Adds an (inactive) client under `path`.
    fn add_client(&mut self, client: Self::Client, path: &str) -> Result<(), SorterError>;
    /// Removes a client, dropping what it still has allocated.
    fn remove_client(&mut self, client: Self::Client) -> Result<(), SorterError>;
    /// Includes the client in the order.
    fn activate(&mut self, client: Self::Client) -> Result<(), SorterError>;
    /// Leaves the client out of the order (its allocation still counts).
    fn deactivate(&mut self, client: Self::Client) -> Result<(), SorterError>;
    /// True when the client is known.
    fn contains(&self, client: Self::Client) -> bool;
    /// Whether the client is active; `None` for an unknown client.
    fn is_active(&self, client: Self::Client) -> Option<bool>;
    /// The number of clients.
    fn len(&self) -> usize;
    /// True when there is no client.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The number of active clients.
    fn active_count(&self) -> usize;

    /// Sets the weight of the subtree at `path` (default 1); remembered for
    /// a path without clients yet.
    fn set_weight(&mut self, path: &str, weight: f64);
    /// Grows the pool shares are taken against.
    fn add_total(&mut self, quantities: &Quantities);
    /// Shrinks the pool shares are taken against.
    fn remove_total(&mut self, quantities: &Quantities);
    /// The pool.
    fn total(&self) -> &Quantities;

    /// Records `quantities` allocated to the client on `agent`.
    fn allocated(
        &mut self,
        client: Self::Client,
        agent: AgentKey,
        quantities: &Quantities,
    ) -> Result<(), SorterError>;
    /// Records `quantities` given back by the client on `agent`.
    fn unallocated(
        &mut self,
        client: Self::Client,
        agent: AgentKey,
        quantities: &Quantities,
    ) -> Result<(), SorterError>;
    /// What the client holds in all.
    fn allocation(&self, client: Self::Client) -> Option<&Quantities>;
    /// What the client holds on `agent`.
    fn allocation_on(&self, client: Self::Client, agent: AgentKey) -> Option<&Quantities>;
    /// The client's weighted dominant share (of its own allocation).
    fn share(&self, client: Self::Client) -> Option<f64>;

    /// The active clients in order: ascending weighted dominant share,
    /// subtree by subtree; ties broken by allocation count, then age.
    fn sort(&mut self) -> Vec<Self::Client>;
    /// Starts a walk over the active clients in order without building the
    /// list: call [`Sorter::next`] until `None`. Allocating to the client
    /// last returned keeps the walk valid (that client is not returned
    /// again); adding, removing, (de)activating clients or changing the
    /// total during a walk does not.
    fn start(&mut self, cursor: &mut Self::Cursor);
    /// The next client of the walk.
    fn next(&mut self, cursor: &mut Self::Cursor) -> Option<Self::Client>;
    /// Appends up to `max` next clients of the walk to `out`. A batch is a
    /// snapshot: allocating to one of its clients does not reorder the rest
    /// of it (as with a sorted copy), and later batches go on from its end.
    fn next_batch(&mut self, cursor: &mut Self::Cursor, out: &mut Vec<Self::Client>, max: usize) {
        for _ in 0..max {
            match self.next(cursor) {
                Some(client) => out.push(client),
                None => return,
            }
        }
    }
}
