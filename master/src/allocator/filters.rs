//! Offer filters: after a framework declines (or otherwise gives back)
//! resources with `refuse_seconds`, it is not offered resources from that
//! agent, in that role, that the declined resources contain, until the
//! filter expires. Time is passed in, never read here.
//!
//! Filters are stored on the agent they are about, keyed by framework and
//! role: a pass works agent by agent, so the filters it checks for one
//! agent sit together in one small table instead of being scattered across
//! one large table per framework.

use super::hash::FastMap;
use super::ids::{FrameworkKey, RoleKey};
use super::resources::Resources;
use std::time::Instant;

/// One refusal: the declined resources and when the refusal lapses.
#[derive(Debug, Clone)]
struct Refusal {
    resources: Resources,
    expires: Instant,
}

/// The refusals of one framework in one role on one agent: nearly always
/// one, kept inline.
#[derive(Debug, Clone)]
struct Refusals {
    first: Refusal,
    more: Vec<Refusal>,
}

impl Refusals {
    fn iter(&self) -> impl Iterator<Item = &Refusal> {
        std::iter::once(&self.first).chain(&self.more)
    }

    /// Drops the expired refusals; false when none is left.
    fn expire(&mut self, now: Instant) -> bool {
        self.more.retain(|r| now < r.expires);
        if self.first.expires <= now {
            match self.more.pop() {
                Some(next) => self.first = next,
                None => return false,
            }
        }
        true
    }
}

/// The filters on one agent, by framework and role.
#[derive(Debug, Clone, Default)]
pub struct AgentFilters {
    by_framework: FastMap<(FrameworkKey, RoleKey), Refusals>,
    /// The earliest expiry, so a pass with nothing to expire costs O(1).
    earliest: Option<Instant>,
}

impl AgentFilters {
    /// The number of filters.
    pub fn len(&self) -> usize {
        self.by_framework.values().map(|r| 1 + r.more.len()).sum()
    }

    /// The number of filters of `framework`.
    pub fn count(&self, framework: FrameworkKey) -> usize {
        let mine = self
            .by_framework
            .iter()
            .filter(|((f, _), _)| *f == framework);
        mine.map(|(_, r)| 1 + r.more.len()).sum()
    }

    /// Refuses offers to `framework` in `role` contained in `resources`
    /// until `expires`.
    pub fn add(
        &mut self,
        framework: FrameworkKey,
        role: RoleKey,
        resources: Resources,
        expires: Instant,
    ) {
        let refusal = Refusal { resources, expires };
        match self.by_framework.get_mut(&(framework, role)) {
            Some(refusals) => refusals.more.push(refusal),
            None => {
                let refusals = Refusals {
                    first: refusal,
                    more: Vec::new(),
                };
                self.by_framework.insert((framework, role), refusals);
            }
        }
        self.earliest = Some(self.earliest.map_or(expires, |e| e.min(expires)));
    }

    /// True when an unexpired filter of `framework` in `role` covers `offer`.
    pub fn filters(
        &self,
        framework: FrameworkKey,
        role: RoleKey,
        offer: &Resources,
        now: Instant,
    ) -> bool {
        if self.by_framework.is_empty() {
            return false;
        }
        let Some(refusals) = self.by_framework.get(&(framework, role)) else {
            return false;
        };
        refusals
            .iter()
            .any(|r| now < r.expires && r.resources.contains(offer))
    }

    /// Drops the filters that expired by `now`.
    pub fn expire(&mut self, now: Instant) {
        if self.earliest.is_none_or(|e| now < e) {
            return;
        }
        let mut earliest: Option<Instant> = None;
        self.by_framework.retain(|_, refusals| {
            let keep = refusals.expire(now);
            for r in refusals.iter() {
                earliest = Some(earliest.map_or(r.expires, |e| e.min(r.expires)));
            }
            keep
        });
        self.earliest = earliest;
    }

    /// Drops the filters of `framework` in `role`, or in every role.
    pub fn clear(&mut self, framework: FrameworkKey, role: Option<RoleKey>) {
        self.by_framework
            .retain(|(f, r), _| *f != framework || role.is_some_and(|role| role != *r));
        if self.by_framework.is_empty() {
            self.earliest = None;
        }
    }
}
