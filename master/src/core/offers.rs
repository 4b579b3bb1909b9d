//! Offers: one allocation pass turned into OFFERS events (one event per
//! framework), DECLINE with its filter, offers taken back when they time
//! out (RESCIND) or when their framework or agent goes away.

use super::{Master, Offer};
use crate::allocator::Allocator;
use corral_api::scheduler::Event;
use corral_api::v1::AllocationInfo;
use corral_api::{FrameworkId, OfferId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Mesos' default decline filter.
pub const DEFAULT_REFUSE: Duration = Duration::from_secs(5);

impl Master {
    /// One allocation pass; each framework gets one OFFERS event.
    pub(super) fn allocate(&mut self, now: Instant) {
        let started = Instant::now();
        let allocations = self.allocator.allocate(now);
        self.counters
            .allocation_seconds
            .push(started.elapsed().as_secs_f64());
        if self.counters.allocation_seconds.len() > 4096 {
            self.counters.allocation_seconds.drain(..2048);
        }
        let mut by_framework: HashMap<FrameworkId, Vec<corral_api::v1::Offer>> = HashMap::new();
        for a in allocations {
            let (Some(fid), Some(aid)) = (
                self.framework_keys.get(&a.framework).cloned(),
                self.agent_keys.get(&a.agent).cloned(),
            ) else {
                continue;
            };
            let id = OfferId::new(self.next_id("O"));
            let role = a.role.as_str().to_string();
            let agent = &self.agents[&aid];
            let wire = corral_api::v1::Offer {
                id: id.clone(),
                framework_id: fid.clone(),
                agent_id: aid.clone(),
                hostname: agent.info.hostname.clone(),
                resources: agent.reservations.render(&a.resources, Some(&role)),
                attributes: agent.info.attributes.clone(),
                allocation_info: Some(AllocationInfo {
                    role: Some(role.clone()),
                }),
                ..Default::default()
            };
            self.offers.insert(
                id.clone(),
                Offer {
                    framework: fid.clone(),
                    agent: aid.clone(),
                    role,
                    resources: a.resources,
                    expires: self.config.offer_timeout.map(|t| now + t),
                },
            );
            if let Some(f) = self.frameworks.get_mut(&fid) {
                f.offers.insert(id.clone());
            }
            if let Some(ag) = self.agents.get_mut(&aid) {
                ag.offers.insert(id);
            }
            by_framework.entry(fid).or_default().push(wire);
        }
        for (fid, offers) in by_framework {
            self.counters.offers_sent += offers.len() as u64;
            self.to_framework(&fid, &Event::offers(offers));
        }
    }

    /// Takes offer `id` out of the books and returns it; its resources are
    /// the caller's to use or recover.
    pub(crate) fn take_offer(&mut self, id: &OfferId) -> Option<Offer> {
        let offer = self.offers.remove(id)?;
        if let Some(f) = self.frameworks.get_mut(&offer.framework) {
            f.offers.remove(id);
        }
        if let Some(a) = self.agents.get_mut(&offer.agent) {
            a.offers.remove(id);
        }
        Some(offer)
    }

    /// Gives an offer's (remaining) resources back to the allocator.
    pub(crate) fn recover(
        &mut self,
        framework: &FrameworkId,
        agent: &corral_api::AgentId,
        role: &str,
        resources: &crate::allocator::Resources,
        filter: Option<Duration>,
        now: Instant,
    ) {
        if resources.is_empty() {
            return;
        }
        let (Some(f), Some(a)) = (self.frameworks.get(framework), self.agents.get(agent)) else {
            return; // Removing either already returned everything.
        };
        let (fk, ak) = (f.key, a.key);
        let _ = self.allocator.recover(fk, role, ak, resources, filter, now);
    }

    /// Declines offers: recovered with the filter (default 5 s).
    pub(super) fn decline(
        &mut self,
        framework: &FrameworkId,
        ids: &[OfferId],
        refuse: Option<f64>,
        now: Instant,
    ) {
        let filter = refuse_filter(refuse);
        for id in ids {
            // Mesos ignores offers that are unknown or someone else's.
            if self
                .offers
                .get(id)
                .is_some_and(|o| &o.framework == framework)
            {
                let o = self.take_offer(id).expect("just checked");
                self.counters.offers_declined += 1;
                self.recover(&o.framework, &o.agent, &o.role, &o.resources, filter, now);
            }
        }
    }

    /// Removes every offer of a framework, recovering it; with `rescind`
    /// the framework is told.
    pub(crate) fn remove_offers_of(
        &mut self,
        framework: &FrameworkId,
        now: Instant,
        rescind: bool,
    ) {
        let ids: Vec<OfferId> = self
            .frameworks
            .get(framework)
            .map(|f| f.offers.iter().cloned().collect())
            .unwrap_or_default();
        for id in ids {
            self.rescind(&id, now, rescind);
        }
    }

    /// Takes an offer back, recovering its resources (no filter).
    pub(crate) fn rescind(&mut self, id: &OfferId, now: Instant, tell: bool) {
        if let Some(o) = self.take_offer(id) {
            if tell {
                self.counters.offers_rescinded += 1;
                self.to_framework(&o.framework, &Event::rescind(id.clone()));
            }
            self.recover(&o.framework, &o.agent, &o.role, &o.resources, None, now);
        }
    }

    pub(super) fn expire_offers(&mut self, now: Instant) {
        let expired: Vec<OfferId> = self
            .offers
            .iter()
            .filter(|(_, o)| o.expires.is_some_and(|e| e <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.rescind(&id, now, true);
        }
    }
}

/// The filter of a DECLINE or ACCEPT: `refuse_seconds` (default 5 s); zero
/// or less means none.
pub(crate) fn refuse_filter(refuse: Option<f64>) -> Option<Duration> {
    match refuse {
        None => Some(DEFAULT_REFUSE),
        Some(s) if s > 0.0 => Some(Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX / 4)),
        Some(_) => None,
    }
}
