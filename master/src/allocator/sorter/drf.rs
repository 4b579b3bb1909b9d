//! Hierarchical dominant resource fairness (after Mesos' DRF sorter): a
//! node's share is the largest fraction of any resource of the pool that
//! its subtree holds, divided by its weight; siblings sort by ascending
//! share and the order of clients is the pre-order walk of the tree.
//!
//! Incremental: an allocation updates the shares of the client and its
//! ancestors and moves each within its parent's ordered map (O(depth·log
//! n)). Only a change of the pool total or of a weight — which changes
//! every share — marks the tree dirty for one full rebuild, done lazily at
//! the next sort or walk. Walks are lazy too: the allocator asks for the
//! next client instead of receiving a sorted copy of all of them.

use super::Sorter;
use super::tree::{Kind, NONE, ROOT, SortKey, Tree};
use crate::allocator::error::SorterError;
use crate::allocator::hash::FastMap;
use crate::allocator::ids::AgentKey;
use crate::allocator::resources::Quantities;
use std::fmt::Debug;
use std::hash::Hash;
use std::ops::Bound;

/// A DRF sorter over clients of type `C`.
#[derive(Debug, Clone)]
pub struct DrfSorter<C> {
    tree: Tree<C>,
    clients: FastMap<C, u32>,
    total: Quantities,
    dirty: bool,
    epoch: u32,
}

/// The state of one walk over a [`DrfSorter`]: the path of nodes being
/// explored and the key of the child last taken at each level.
#[derive(Debug, Default, Clone)]
pub struct DrfCursor {
    epoch: u32,
    stack: Vec<(u32, Option<SortKey>)>,
    /// Leaves of the last batch, to mark as visited.
    leaves: Vec<u32>,
}

impl<C: Copy + Eq + Hash + Ord + Debug> Default for DrfSorter<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Copy + Eq + Hash + Ord + Debug> DrfSorter<C> {
    /// An empty sorter over an empty pool.
    pub fn new() -> Self {
        DrfSorter {
            tree: Tree::new(),
            clients: FastMap::default(),
            total: Quantities::new(),
            dirty: false,
            epoch: 0,
        }
    }

    fn leaf(&self, client: C) -> Result<u32, SorterError> {
        self.clients
            .get(&client)
            .copied()
            .ok_or_else(|| SorterError::UnknownClient {
                client: format!("{client:?}"),
            })
    }

    fn clean(&mut self) {
        if self.dirty {
            self.tree.rebuild(&self.total);
            self.dirty = false;
        }
    }

    /// Walks from `leaf` to the root adding (or removing) `q` and moving
    /// every node on the way to its new place.
    fn propagate(&mut self, leaf: u32, q: &Quantities, add: bool) {
        let resort = !self.dirty;
        let mut at = leaf;
        while at != NONE {
            let node = &mut self.tree.nodes[at as usize];
            if add {
                node.allocation.add(q);
            } else {
                node.allocation.saturating_sub(q);
            }
            let parent = node.parent;
            if at != ROOT {
                self.tree.update_share(at, &self.total, add, resort);
            }
            at = parent;
        }
    }

    fn set_active(&mut self, client: C, active: bool) -> Result<(), SorterError> {
        let leaf = self.leaf(client)?;
        let is_active = self.tree.nodes[leaf as usize].active_leaves > 0;
        if is_active != active {
            self.tree.adjust_active(leaf, if active { 1 } else { -1 });
        }
        Ok(())
    }

    fn collect(&self, at: u32, out: &mut Vec<C>) {
        for &child in self.tree.nodes[at as usize].order.values() {
            match &self.tree.nodes[child as usize].kind {
                Kind::Leaf { client, .. } => out.push(*client),
                Kind::Internal { .. } => self.collect(child, out),
                Kind::Free => {}
            }
        }
    }
}

impl<C: Copy + Eq + Hash + Ord + Debug> Sorter for DrfSorter<C> {
    type Client = C;
    type Cursor = DrfCursor;

    fn add_client(&mut self, client: C, path: &str) -> Result<(), SorterError> {
        if self.clients.contains_key(&client) {
            return Err(SorterError::Duplicate {
                client: format!("{client:?}"),
            });
        }
        if !path.is_empty() && path.split('/').any(str::is_empty) {
            return Err(SorterError::InvalidPath {
                path: path.to_owned(),
            });
        }
        let parent = self.tree.ensure_path(path);
        let leaf = self.tree.add_leaf(parent, client);
        self.clients.insert(client, leaf);
        Ok(())
    }

    fn remove_client(&mut self, client: C) -> Result<(), SorterError> {
        let leaf = self.leaf(client)?;
        self.set_active(client, false)?;
        let held = self.tree.nodes[leaf as usize].allocation.clone();
        if !held.is_empty() {
            // Take what the client still holds out of its ancestors.
            self.propagate(leaf, &held, false);
        }
        self.tree.remove_leaf(leaf);
        self.clients.remove(&client);
        Ok(())
    }

    fn activate(&mut self, client: C) -> Result<(), SorterError> {
        self.set_active(client, true)
    }

    fn deactivate(&mut self, client: C) -> Result<(), SorterError> {
        self.set_active(client, false)
    }

    fn contains(&self, client: C) -> bool {
        self.clients.contains_key(&client)
    }

    fn is_active(&self, client: C) -> Option<bool> {
        let leaf = *self.clients.get(&client)?;
        Some(self.tree.nodes[leaf as usize].active_leaves > 0)
    }

    fn len(&self) -> usize {
        self.clients.len()
    }

    fn active_count(&self) -> usize {
        self.tree.nodes[ROOT as usize].active_leaves as usize
    }

    fn set_weight(&mut self, path: &str, weight: f64) {
        self.tree.weights.insert(path.into(), weight);
        self.tree.apply_weight(path, weight);
        self.dirty = true;
    }

    fn add_total(&mut self, quantities: &Quantities) {
        if !quantities.is_empty() {
            self.total.add(quantities);
            self.dirty = true;
        }
    }

    fn remove_total(&mut self, quantities: &Quantities) {
        if !quantities.is_empty() {
            self.total.saturating_sub(quantities);
            self.dirty = true;
        }
    }

    fn total(&self) -> &Quantities {
        &self.total
    }

    fn allocated(&mut self, client: C, agent: AgentKey, q: &Quantities) -> Result<(), SorterError> {
        let leaf = self.leaf(client)?;
        if let Kind::Leaf { per_agent, .. } = &mut self.tree.nodes[leaf as usize].kind {
            per_agent.entry(agent).or_default().add(q);
        }
        self.propagate(leaf, q, true);
        Ok(())
    }

    fn unallocated(
        &mut self,
        client: C,
        agent: AgentKey,
        q: &Quantities,
    ) -> Result<(), SorterError> {
        let leaf = self.leaf(client)?;
        if let Kind::Leaf { per_agent, .. } = &mut self.tree.nodes[leaf as usize].kind {
            let held = per_agent.get_mut(&agent);
            match held {
                Some(held) if held.contains(q) => {
                    held.saturating_sub(q);
                    if held.is_empty() {
                        per_agent.remove(&agent);
                    }
                }
                _ => {
                    return Err(SorterError::NotAllocated {
                        client: format!("{client:?}"),
                        agent,
                        requested: q.to_string(),
                        held: held.map_or_else(|| "{}".to_owned(), |h| h.to_string()),
                    });
                }
            }
        }
        self.propagate(leaf, q, false);
        Ok(())
    }

    fn allocation(&self, client: C) -> Option<&Quantities> {
        let leaf = *self.clients.get(&client)?;
        Some(&self.tree.nodes[leaf as usize].allocation)
    }

    fn allocation_on(&self, client: C, agent: AgentKey) -> Option<&Quantities> {
        let leaf = *self.clients.get(&client)?;
        match &self.tree.nodes[leaf as usize].kind {
            Kind::Leaf { per_agent, .. } => per_agent.get(&agent),
            _ => None,
        }
    }

    fn share(&self, client: C) -> Option<f64> {
        let node = &self.tree.nodes[*self.clients.get(&client)? as usize];
        Some(node.allocation.dominant_share(&self.total) / node.weight)
    }

    fn sort(&mut self) -> Vec<C> {
        self.clean();
        let mut out = Vec::with_capacity(self.active_count());
        self.collect(ROOT, &mut out);
        out
    }

    fn start(&mut self, cursor: &mut DrfCursor) {
        self.clean();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Wrapped: forget every old mark so none equals a new epoch.
            self.tree.nodes.iter_mut().for_each(|n| n.seen = 0);
            self.epoch = 1;
        }
        cursor.epoch = self.epoch;
        cursor.stack.clear();
        cursor.stack.push((ROOT, None));
    }

    fn next_batch(&mut self, cursor: &mut DrfCursor, out: &mut Vec<C>, max: usize) {
        let epoch = cursor.epoch;
        let mut taken = 0;
        while taken < max {
            let Some(&(at, last)) = cursor.stack.last() else {
                break;
            };
            let nodes = &self.tree.nodes;
            let lower = last.map_or(Bound::Unbounded, Bound::Excluded);
            let (mut newest, mut descend) = (last, None);
            for (key, &c) in nodes[at as usize].order.range((lower, Bound::Unbounded)) {
                if nodes[c as usize].seen == epoch {
                    continue;
                }
                newest = Some(*key);
                if let Kind::Leaf { client, .. } = &nodes[c as usize].kind {
                    out.push(*client);
                    cursor.leaves.push(c);
                    taken += 1;
                    if taken == max {
                        break;
                    }
                } else {
                    descend = Some(c);
                    break;
                }
            }
            if let Some(top) = cursor.stack.last_mut() {
                top.1 = newest;
            }
            match descend {
                Some(child) => cursor.stack.push((child, None)),
                None if taken < max => {
                    // This node is exhausted.
                    self.tree.nodes[at as usize].seen = epoch;
                    cursor.stack.pop();
                }
                None => {}
            }
        }
        for leaf in cursor.leaves.drain(..) {
            self.tree.nodes[leaf as usize].seen = epoch;
        }
    }

    fn next(&mut self, cursor: &mut DrfCursor) -> Option<C> {
        let epoch = cursor.epoch;
        while let Some(&(at, last)) = cursor.stack.last() {
            let order = &self.tree.nodes[at as usize].order;
            let lower = last.map_or(Bound::Unbounded, Bound::Excluded);
            let found = order
                .range((lower, Bound::Unbounded))
                .find(|(_, c)| self.tree.nodes[**c as usize].seen != epoch)
                .map(|(k, c)| (*k, *c));
            let Some((key, child)) = found else {
                self.tree.nodes[at as usize].seen = epoch;
                cursor.stack.pop();
                continue;
            };
            if let Some(top) = cursor.stack.last_mut() {
                top.1 = Some(key);
            }
            match &self.tree.nodes[child as usize].kind {
                Kind::Leaf { client, .. } => {
                    let client = *client;
                    self.tree.nodes[child as usize].seen = epoch;
                    return Some(client);
                }
                _ => cursor.stack.push((child, None)),
            }
        }
        None
    }
}
