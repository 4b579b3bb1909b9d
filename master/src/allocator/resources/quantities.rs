//! Scalar quantities in fixed point: the well-known scalars (cpus, mem, disk,
//! gpus) in a fixed array, any other named scalar in a short sorted list.
//! Counting in thousandths (Mesos compares scalars to three decimals) makes
//! every sum and difference exact, and unsigned integers make a negative
//! quantity unrepresentable. Used for shares, quota and headroom.

use std::fmt;
use std::sync::Arc;

/// Units per whole: quantities are counted in thousandths.
pub const SCALE: u64 = 1000;

/// Names of the well-known scalars, in their array order.
pub const KNOWN: [&str; 4] = ["cpus", "mem", "disk", "gpus"];

/// Index of `cpus` in the well-known array.
pub const CPUS: usize = 0;
/// Index of `mem` (megabytes) in the well-known array.
pub const MEM: usize = 1;
/// Index of `disk` (megabytes) in the well-known array.
pub const DISK: usize = 2;
/// Index of `gpus` in the well-known array.
pub const GPUS: usize = 3;

/// Converts a whole-unit value to thousandths, rounding to the nearest;
/// `None` for a negative, non-finite or out-of-range value.
pub fn to_milli(value: f64) -> Option<u64> {
    let scaled = (value * SCALE as f64).round();
    (value.is_finite() && scaled >= 0.0 && scaled < u64::MAX as f64).then_some(scaled as u64)
}

/// The name of a scalar that is not one of [`KNOWN`]; cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScalarName(Arc<str>);

impl ScalarName {
    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ScalarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Scalar quantities by name, in thousandths. Invariant: `extra` is sorted by
/// name and holds no zero, so equal quantities compare equal.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Quantities {
    known: [u64; 4],
    extra: Vec<(ScalarName, u64)>,
}

impl Quantities {
    /// No quantity of anything.
    pub const fn new() -> Self {
        Quantities {
            known: [0; 4],
            extra: Vec::new(),
        }
    }

    /// These quantities plus `milli` thousandths of `name`.
    #[must_use]
    pub fn with_milli(mut self, name: &str, milli: u64) -> Self {
        self.add_milli(name, milli);
        self
    }

    /// Thousandths of `name` (zero when absent).
    pub fn milli(&self, name: &str) -> u64 {
        match known_index(name) {
            Some(i) => self.known[i],
            None => self.extra_slot(name).map_or(0, |i| self.extra[i].1),
        }
    }

    /// Whole units of `name` (zero when absent).
    pub fn get(&self, name: &str) -> f64 {
        self.milli(name) as f64 / SCALE as f64
    }

    /// Thousandths of the well-known scalar at `index` ([`CPUS`], [`MEM`]…).
    pub fn known(&self, index: usize) -> u64 {
        self.known[index]
    }

    /// True when every quantity is zero.
    pub fn is_empty(&self) -> bool {
        self.known == [0; 4] && self.extra.is_empty()
    }

    /// Every non-zero quantity as (name, thousandths), well-known first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        let known = KNOWN.iter().zip(self.known).filter(|(_, v)| *v > 0);
        let known = known.map(|(n, v)| (*n, v));
        known.chain(self.extra.iter().map(|(n, v)| (n.as_str(), *v)))
    }

    /// Adds `milli` thousandths of `name`.
    pub fn add_milli(&mut self, name: &str, milli: u64) {
        if milli == 0 {
            return;
        }
        match known_index(name) {
            Some(i) => self.known[i] = self.known[i].saturating_add(milli),
            None => match self.extra.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
                Ok(i) => self.extra[i].1 = self.extra[i].1.saturating_add(milli),
                Err(i) => self.extra.insert(i, (ScalarName(Arc::from(name)), milli)),
            },
        }
    }

    /// Adds every quantity of `other`.
    #[inline]
    pub fn add(&mut self, other: &Quantities) {
        for (a, b) in self.known.iter_mut().zip(other.known) {
            *a = a.saturating_add(b);
        }
        if other.extra.is_empty() {
            return;
        }
        for (name, v) in &other.extra {
            match self.extra.binary_search_by(|(n, _)| n.cmp(name)) {
                Ok(i) => self.extra[i].1 = self.extra[i].1.saturating_add(*v),
                Err(i) => self.extra.insert(i, (name.clone(), *v)),
            }
        }
    }

    /// Subtracts every quantity of `other`, stopping each at zero.
    pub fn saturating_sub(&mut self, other: &Quantities) {
        for (a, b) in self.known.iter_mut().zip(other.known) {
            *a = a.saturating_sub(b);
        }
        if self.extra.is_empty() {
            return;
        }
        for (name, v) in &other.extra {
            if let Ok(i) = self.extra.binary_search_by(|(n, _)| n.cmp(name)) {
                self.extra[i].1 = self.extra[i].1.saturating_sub(*v);
            }
        }
        self.extra.retain(|(_, v)| *v > 0);
    }

    /// True when `self` has at least every quantity of `other`.
    pub fn contains(&self, other: &Quantities) -> bool {
        self.known.iter().zip(other.known).all(|(a, b)| *a >= b)
            && other
                .extra
                .iter()
                .all(|(name, v)| self.extra_of(name) >= *v)
    }

    /// Lowers each quantity to at most the one in `cap`; a name absent from
    /// `cap` drops to zero.
    pub fn min_with(&mut self, cap: &Quantities) {
        for (a, b) in self.known.iter_mut().zip(cap.known) {
            *a = (*a).min(b);
        }
        if self.extra.is_empty() {
            return;
        }
        for (name, v) in &mut self.extra {
            *v = (*v).min(cap.extra_of(name));
        }
        self.extra.retain(|(_, v)| *v > 0);
    }

    /// Lowers the quantity of `name` to at most `max` thousandths.
    pub fn cap(&mut self, name: &str, max: u64) {
        match known_index(name) {
            Some(i) => self.cap_known(i, max),
            None => {
                if let Some(i) = self.extra_slot(name) {
                    self.extra[i].1 = self.extra[i].1.min(max);
                    if self.extra[i].1 == 0 {
                        self.extra.remove(i);
                    }
                }
            }
        }
    }

    /// Lowers the well-known scalar at `index` to at most `max` thousandths.
    pub fn cap_known(&mut self, index: usize, max: u64) {
        self.known[index] = self.known[index].min(max);
    }

    /// The largest fraction `self / total` over the names `total` has, in
    /// [0, ∞): the dominant share of an allocation within a pool.
    pub fn dominant_share(&self, total: &Quantities) -> f64 {
        let mut share: f64 = 0.0;
        for (a, t) in self.known.iter().zip(total.known) {
            if t > 0 {
                share = share.max(*a as f64 / t as f64);
            }
        }
        for (name, v) in &self.extra {
            let t = total.extra_of(name);
            if t > 0 {
                share = share.max(*v as f64 / t as f64);
            }
        }
        share
    }

    fn extra_slot(&self, name: &str) -> Option<usize> {
        self.extra
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
    }

    fn extra_of(&self, name: &ScalarName) -> u64 {
        match self.extra.binary_search_by(|(n, _)| n.cmp(name)) {
            Ok(i) => self.extra[i].1,
            Err(_) => 0,
        }
    }
}

impl fmt::Debug for Quantities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Quantities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("{}");
        }
        for (i, (name, v)) in self.iter().enumerate() {
            let sep = if i == 0 { "" } else { ";" };
            write!(f, "{sep}{name}:{}", v as f64 / SCALE as f64)?;
        }
        Ok(())
    }
}

/// The array index of a well-known scalar name.
pub fn known_index(name: &str) -> Option<usize> {
    KNOWN.iter().position(|k| *k == name)
}
