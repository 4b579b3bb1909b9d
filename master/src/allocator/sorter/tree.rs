//! The DRF sorter's tree: an arena of nodes, internal nodes for path
//! components and leaves for clients. Every node keeps its active children
//! in a `BTreeMap` by sort key, so moving one child after its share changed
//! is O(log n) and the first child in order is at hand; a node is listed in
//! its parent while its subtree holds an active leaf.

use crate::allocator::hash::FastMap;
use crate::allocator::ids::AgentKey;
use crate::allocator::resources::Quantities;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// The root's index.
pub(super) const ROOT: u32 = 0;
/// "No node" (the root's parent).
pub(super) const NONE: u32 = u32::MAX;

/// Where a node sorts among its siblings: weighted dominant share, then the
/// number of allocations it received, then its creation order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SortKey {
    share: f64,
    count: u64,
    seq: u64,
}

impl Eq for SortKey {}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.share
            .total_cmp(&other.share)
            .then(self.count.cmp(&other.count))
            .then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What a node is.
#[derive(Debug, Clone)]
pub(super) enum Kind<C> {
    /// A path component; children by name (leaves are not named).
    Internal { children: FastMap<Box<str>, u32> },
    /// A client, with what it holds per agent.
    Leaf {
        client: C,
        per_agent: FastMap<AgentKey, Quantities>,
    },
    /// A slot on the free list.
    Free,
}

/// One node of the tree.
#[derive(Debug, Clone)]
pub(super) struct Node<C> {
    pub parent: u32,
    /// The path of the node (a leaf has its parent's path).
    pub path: Box<str>,
    pub kind: Kind<C>,
    /// Children whose subtree holds an active leaf, by sort key.
    pub order: BTreeMap<SortKey, u32>,
    /// The key under which the node is listed in its parent.
    pub key: SortKey,
    /// Sum of the allocations of the subtree.
    pub allocation: Quantities,
    pub weight: f64,
    /// Active leaves in the subtree (0 or 1 for a leaf).
    pub active_leaves: u32,
    /// Children, named or not.
    pub child_count: u32,
    /// The walk (epoch) that last finished with this node.
    pub seen: u32,
}

/// The arena.
#[derive(Debug, Clone)]
pub(super) struct Tree<C> {
    pub nodes: Vec<Node<C>>,
    free: Vec<u32>,
    next_seq: u64,
    /// Weights by path, including paths without nodes yet.
    pub weights: HashMap<Box<str>, f64>,
}

impl<C> Tree<C> {
    pub fn new() -> Self {
        let mut tree = Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            weights: HashMap::new(),
        };
        let root = tree.node(
            NONE,
            "".into(),
            Kind::Internal {
                children: FastMap::default(),
            },
            1.0,
        );
        tree.nodes.push(root);
        tree
    }

    fn node(&mut self, parent: u32, path: Box<str>, kind: Kind<C>, weight: f64) -> Node<C> {
        self.next_seq += 1;
        Node {
            parent,
            path,
            kind,
            order: BTreeMap::new(),
            key: SortKey {
                share: 0.0,
                count: 0,
                seq: self.next_seq,
            },
            allocation: Quantities::new(),
            weight,
            active_leaves: 0,
            child_count: 0,
            seen: 0,
        }
    }

    fn push(&mut self, node: Node<C>) -> u32 {
        if let Some(i) = self.free.pop() {
            self.nodes[i as usize] = node;
            return i;
        }
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    /// The internal node for `path`, if present.
    pub fn find_path(&self, path: &str) -> Option<u32> {
        let mut at = ROOT;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let Kind::Internal { children } = &self.nodes[at as usize].kind else {
                return None;
            };
            at = *children.get(part)?;
        }
        Some(at)
    }

    /// The internal node for `path`, created with its ancestors as needed.
    pub fn ensure_path(&mut self, path: &str) -> u32 {
        let mut at = ROOT;
        let mut end = 0;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            end += part.len() + usize::from(end > 0);
            let found = match &self.nodes[at as usize].kind {
                Kind::Internal { children } => children.get(part).copied(),
                _ => None,
            };
            at = match found {
                Some(child) => child,
                None => self.add_internal(at, part, &path[..end]),
            };
        }
        at
    }

    fn add_internal(&mut self, parent: u32, name: &str, path: &str) -> u32 {
        let weight = self.weights.get(path).copied().unwrap_or(1.0);
        let kind = Kind::Internal {
            children: FastMap::default(),
        };
        let node = self.node(parent, path.into(), kind, weight);
        let index = self.push(node);
        let p = &mut self.nodes[parent as usize];
        p.child_count += 1;
        if let Kind::Internal { children } = &mut p.kind {
            children.insert(name.into(), index);
        }
        index
    }

    /// Adds a leaf for `client` under the internal node `parent`.
    pub fn add_leaf(&mut self, parent: u32, client: C) -> u32 {
        let p = &self.nodes[parent as usize];
        let weight = if parent == ROOT { 1.0 } else { p.weight };
        let path = p.path.clone();
        let kind = Kind::Leaf {
            client,
            per_agent: FastMap::default(),
        };
        let node = self.node(parent, path, kind, weight);
        let index = self.push(node);
        self.nodes[parent as usize].child_count += 1;
        index
    }

    /// Frees an inactive leaf whose allocation was already taken out of its
    /// ancestors, then every ancestor left without children.
    pub fn remove_leaf(&mut self, leaf: u32) {
        let mut at = leaf;
        loop {
            let parent = self.nodes[at as usize].parent;
            self.nodes[at as usize].kind = Kind::Free;
            self.nodes[at as usize].order.clear();
            self.free.push(at);
            let p = &mut self.nodes[parent as usize];
            p.child_count -= 1;
            if at != leaf
                && let Kind::Internal { children } = &mut p.kind
            {
                children.retain(|_, c| *c != at);
            }
            if parent == ROOT || p.child_count > 0 {
                return;
            }
            at = parent;
        }
    }

    /// Adds `delta` (±1) active leaves along the path from `leaf` to the
    /// root, listing nodes that gain their first and unlisting nodes that
    /// lose their last.
    pub fn adjust_active(&mut self, leaf: u32, delta: i32) {
        let mut at = leaf;
        while at != NONE {
            let node = &mut self.nodes[at as usize];
            let before = node.active_leaves;
            node.active_leaves = before.saturating_add_signed(delta);
            let (after, parent, key) = (node.active_leaves, node.parent, node.key);
            if parent != NONE {
                if before == 0 && after > 0 {
                    self.nodes[parent as usize].order.insert(key, at);
                } else if before > 0 && after == 0 {
                    self.nodes[parent as usize].order.remove(&key);
                }
            }
            at = parent;
        }
    }

    /// Recomputes the node's share against `total` and, when `resort`,
    /// moves it to its new place among its listed siblings.
    pub fn update_share(&mut self, at: u32, total: &Quantities, count: bool, resort: bool) {
        let node = &mut self.nodes[at as usize];
        let old = node.key;
        node.key.share = node.allocation.dominant_share(total) / node.weight;
        node.key.count += u64::from(count);
        let (new, parent, listed) = (node.key, node.parent, node.active_leaves > 0);
        if resort && listed && parent != NONE && new != old {
            let order = &mut self.nodes[parent as usize].order;
            order.remove(&old);
            order.insert(new, at);
        }
    }

    /// Recomputes every share and rebuilds every order (after the total or
    /// weights changed).
    pub fn rebuild(&mut self, total: &Quantities) {
        for i in 0..self.nodes.len() {
            self.nodes[i].order.clear();
            if !matches!(self.nodes[i].kind, Kind::Free) {
                self.update_share(i as u32, total, false, false);
            }
        }
        for i in 0..self.nodes.len() {
            let node = &self.nodes[i];
            if node.parent != NONE && node.active_leaves > 0 && !matches!(node.kind, Kind::Free) {
                let (parent, key) = (node.parent, node.key);
                self.nodes[parent as usize].order.insert(key, i as u32);
            }
        }
    }

    /// Applies a weight to the internal node at `path` and its direct leaves.
    pub fn apply_weight(&mut self, path: &str, weight: f64) {
        let Some(at) = self.find_path(path) else {
            return;
        };
        if at == ROOT {
            return;
        }
        for node in &mut self.nodes {
            if matches!(node.kind, Kind::Leaf { .. }) && node.parent == at {
                node.weight = weight;
            }
        }
        self.nodes[at as usize].weight = weight;
    }
}
