//! Port ranges: a set of ports kept as sorted, disjoint, non-adjacent
//! inclusive ranges, with the set operations the allocator needs (union,
//! difference, subset). An empty set holds no heap memory.

use std::fmt;

/// A set of ports as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct PortRanges {
    ranges: Vec<(u16, u16)>,
}

impl PortRanges {
    /// No ports.
    pub const fn new() -> Self {
        PortRanges { ranges: Vec::new() }
    }

    /// The ports `begin..=end`; empty when `begin > end`.
    pub fn range(begin: u16, end: u16) -> Self {
        let mut p = PortRanges::new();
        p.insert(begin, end);
        p
    }

    /// True when there is no port.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The number of ports.
    pub fn count(&self) -> u32 {
        self.ranges
            .iter()
            .map(|(b, e)| u32::from(*e - *b) + 1)
            .sum()
    }

    /// The ranges, sorted.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }

    /// Adds the ports `begin..=end`, merging with touching ranges.
    pub fn insert(&mut self, begin: u16, end: u16) {
        if begin > end {
            return;
        }
        // First range that ends at or after `begin - 1` (may touch).
        let lo = self
            .ranges
            .partition_point(|r| u32::from(r.1) + 1 < u32::from(begin));
        // First range that starts after `end + 1` (cannot touch).
        let hi = self
            .ranges
            .partition_point(|r| u32::from(r.0) <= u32::from(end) + 1);
        if lo == hi {
            self.ranges.insert(lo, (begin, end));
            return;
        }
        let merged = (begin.min(self.ranges[lo].0), end.max(self.ranges[hi - 1].1));
        self.ranges.splice(lo..hi, std::iter::once(merged));
    }

    /// Adds every port of `other`.
    pub fn add(&mut self, other: &PortRanges) {
        if self.ranges.is_empty() {
            self.ranges.clone_from(&other.ranges);
            return;
        }
        for (b, e) in &other.ranges {
            self.insert(*b, *e);
        }
    }

    /// Removes every port of `other` (ports `self` lacks are ignored).
    pub fn subtract(&mut self, other: &PortRanges) {
        if other.ranges.is_empty() || self.ranges.is_empty() {
            return;
        }
        if self.ranges == other.ranges {
            self.ranges.clear();
            return;
        }
        for (b, e) in &other.ranges {
            self.remove(*b, *e);
        }
    }

    /// True when every port of `other` is in `self`.
    pub fn contains(&self, other: &PortRanges) -> bool {
        other.ranges.iter().all(|(b, e)| {
            let i = self.ranges.partition_point(|r| r.1 < *b);
            self.ranges.get(i).is_some_and(|r| r.0 <= *b && *e <= r.1)
        })
    }

    fn remove(&mut self, begin: u16, end: u16) {
        let lo = self.ranges.partition_point(|r| r.1 < begin);
        let hi = self.ranges.partition_point(|r| r.0 <= end);
        if lo >= hi {
            return;
        }
        let first = self.ranges[lo];
        let last = self.ranges[hi - 1];
        let head = (first.0 < begin).then(|| (first.0, begin - 1));
        let tail = (last.1 > end).then(|| (end + 1, last.1));
        self.ranges.splice(lo..hi, head.into_iter().chain(tail));
    }
}

impl fmt::Debug for PortRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for PortRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, (b, e)) in self.ranges.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{b}-{e}")?;
        }
        f.write_str("]")
    }
}
