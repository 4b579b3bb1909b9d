//! Quota: per top-level role, guarantees (resources the role is promised:
//! served first, and held back from other roles as headroom until the role
//! has them) and limits (caps its consumption never exceeds). Consumption
//! counts the role's reservations, allocated or not, plus its allocated
//! unreserved resources, sub-roles included.

use super::error::ResourceError;
use super::resources::{KNOWN, Quantities, to_milli};

/// Caps per resource name; a name without a cap is unlimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Caps of the well-known scalars in thousandths, `u64::MAX` = none.
    known: [u64; 4],
    /// Caps of other scalars, sorted by name.
    extra: Vec<(Box<str>, u64)>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::unlimited()
    }
}

impl Limits {
    /// No cap on anything.
    pub const fn unlimited() -> Self {
        Limits {
            known: [u64::MAX; 4],
            extra: Vec::new(),
        }
    }

    /// These limits with `name` capped at `milli` thousandths.
    #[must_use]
    pub fn with_milli(mut self, name: &str, milli: u64) -> Self {
        match KNOWN.iter().position(|k| *k == name) {
            Some(i) => self.known[i] = milli,
            None => match self.extra.binary_search_by(|(n, _)| (**n).cmp(name)) {
                Ok(i) => self.extra[i].1 = milli,
                Err(i) => self.extra.insert(i, (name.into(), milli)),
            },
        }
        self
    }

    /// Parses `name:value` caps separated by `;` (`cpus:10;mem:4096`); a
    /// cap of 0 is kept (nothing of that resource).
    pub fn parse(text: &str) -> Result<Limits, ResourceError> {
        let mut limits = Limits::unlimited();
        for item in text.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let bad = |reason| ResourceError {
                item: item.to_owned(),
                reason,
            };
            let (name, value) = item
                .split_once(':')
                .ok_or_else(|| bad("expected name:value"))?;
            let value: f64 = value.trim().parse().map_err(|_| bad("expected a number"))?;
            let milli =
                to_milli(value).ok_or_else(|| bad("a limit must be finite and not negative"))?;
            limits = limits.with_milli(name.trim(), milli);
        }
        Ok(limits)
    }

    /// True when nothing is capped.
    pub fn is_unlimited(&self) -> bool {
        self.known == [u64::MAX; 4] && self.extra.is_empty()
    }

    /// The cap of `name` in thousandths, `None` when unlimited.
    pub fn get(&self, name: &str) -> Option<u64> {
        match KNOWN.iter().position(|k| *k == name) {
            Some(i) => (self.known[i] != u64::MAX).then_some(self.known[i]),
            None => self
                .extra
                .iter()
                .find(|(n, _)| &**n == name)
                .map(|(_, v)| *v),
        }
    }

    /// Lowers `q` to fit in what the caps leave after `consumed`.
    pub fn shrink(&self, q: &mut Quantities, consumed: &Quantities) {
        for (i, cap) in self.known.iter().enumerate() {
            if *cap != u64::MAX {
                q.cap_known(i, cap.saturating_sub(consumed.known(i)));
            }
        }
        for (name, cap) in &self.extra {
            q.cap(name, cap.saturating_sub(consumed.milli(name)));
        }
    }

    /// True when `q` fits under every cap.
    pub fn admits(&self, q: &Quantities) -> bool {
        let known = self
            .known
            .iter()
            .enumerate()
            .all(|(i, cap)| q.known(i) <= *cap);
        known && self.extra.iter().all(|(name, cap)| q.milli(name) <= *cap)
    }
}

/// A top-level role's quota.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quota {
    /// What the role is promised.
    pub guarantees: Quantities,
    /// What it may never exceed.
    pub limits: Limits,
}

impl Quota {
    /// True for the default quota (no guarantee, no limit).
    pub fn is_default(&self) -> bool {
        self.guarantees.is_empty() && self.limits.is_unlimited()
    }

    /// The first resource whose guarantee exceeds its limit.
    pub fn guarantee_above_limit(&self) -> Option<&str> {
        self.guarantees
            .iter()
            .find(|(name, v)| self.limits.get(name).is_some_and(|cap| *v > cap))
            .map(|(n, _)| n)
    }

    /// The part of the guarantees `consumed` does not cover yet.
    pub fn unsatisfied(&self, consumed: &Quantities) -> Quantities {
        let mut q = self.guarantees.clone();
        q.saturating_sub(consumed);
        q
    }
}
