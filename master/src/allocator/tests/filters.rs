//! Decline filters, revive and suppress.

use super::{agents, framework, res, stable, t0};
use crate::allocator::Used;
use crate::allocator::{Allocator, AllocatorError};
use std::time::Duration;

#[test]
fn decline_filter_holds_until_it_expires() {
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:4;mem:4096")[0];
    let f = framework(&mut alloc, &["r"]);
    let start = t0();
    let offer = alloc.allocate(start).pop().unwrap();
    alloc
        .recover(
            f,
            "r",
            agent,
            &offer.resources,
            Some(Duration::from_secs(5)),
            start,
        )
        .unwrap();
    assert!(alloc.allocate(start + Duration::from_secs(1)).is_empty());
    assert!(
        alloc
            .allocate(start + Duration::from_millis(4999))
            .is_empty()
    );
    let back = alloc.allocate(start + Duration::from_secs(5));
    assert_eq!(back.len(), 1, "the filter lapsed");
    assert_eq!(back[0].resources, res("cpus:4;mem:4096"));
    assert_eq!(alloc.filter_count(f), Some(0), "expired filters are purged");
}

#[test]
fn a_filter_covers_only_what_was_declined() {
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:4;mem:4096")[0];
    let f = framework(&mut alloc, &["r"]);
    let start = t0();
    alloc.allocate(start);
    // Decline half with a long filter, keep the other half for a while.
    let half = res("cpus:2;mem:2048");
    alloc
        .recover(f, "r", agent, &half, Some(Duration::from_secs(3600)), start)
        .unwrap();
    assert!(
        alloc.allocate(start).is_empty(),
        "the declined half is filtered"
    );
    // The task on the other half ends: the agent now has more than was
    // declined, so it is offered again before the filter expires.
    alloc.recover(f, "r", agent, &half, None, start).unwrap();
    let offers = alloc.allocate(start);
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].resources, res("cpus:4;mem:4096"));
}

#[test]
fn a_filter_is_per_framework() {
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:4;mem:4096")[0];
    let f = framework(&mut alloc, &["r"]);
    let g = framework(&mut alloc, &["r"]);
    let offer = alloc.allocate(t0()).pop().unwrap();
    assert_eq!(offer.framework, f);
    alloc
        .recover(
            f,
            "r",
            agent,
            &offer.resources,
            Some(Duration::from_secs(60)),
            t0(),
        )
        .unwrap();
    let next = alloc.allocate(t0());
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].framework, g, "f declined, so g is offered");
}

#[test]
fn revive_clears_filters() {
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:4;mem:4096")[0];
    let f = framework(&mut alloc, &["r"]);
    let offer = alloc.allocate(t0()).pop().unwrap();
    alloc
        .recover(
            f,
            "r",
            agent,
            &offer.resources,
            Some(Duration::from_secs(3600)),
            t0(),
        )
        .unwrap();
    assert!(alloc.allocate(t0()).is_empty());
    alloc.revive(f, Some("r")).unwrap();
    assert_eq!(alloc.filters_on(agent), Some(0));
    assert_eq!(alloc.allocate(t0()).len(), 1);
}

#[test]
fn zero_filter_installs_nothing() {
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:4;mem:4096")[0];
    let f = framework(&mut alloc, &["r"]);
    let offer = alloc.allocate(t0()).pop().unwrap();
    alloc
        .recover(f, "r", agent, &offer.resources, Some(Duration::ZERO), t0())
        .unwrap();
    assert_eq!(alloc.filter_count(f), Some(0));
    assert_eq!(alloc.allocate(t0()).len(), 1);
}

#[test]
fn suppress_stops_offers_for_that_role_only() {
    let mut alloc = stable();
    agents(&mut alloc, 4, "cpus:1;mem:1024");
    let f = framework(&mut alloc, &["a", "b"]);
    let g = framework(&mut alloc, &["a"]);
    alloc.suppress(f, Some("a")).unwrap();
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 4);
    assert!(
        offers
            .iter()
            .filter(|o| o.framework == f)
            .all(|o| o.role.as_str() == "b")
    );
    assert!(
        offers.iter().any(|o| o.framework == f),
        "f still gets offers in b"
    );
    assert!(
        offers.iter().any(|o| o.framework == g),
        "g still gets offers in a"
    );
    assert_eq!(alloc.framework_order("a"), vec![g]);
    alloc.revive(f, None).unwrap();
    assert_eq!(alloc.framework_order("a").len(), 2);
}

#[test]
fn suppressing_every_role_stops_all_offers() {
    let mut alloc = stable();
    agents(&mut alloc, 2, "cpus:1;mem:1024");
    let f = framework(&mut alloc, &["a", "b"]);
    alloc.suppress(f, None).unwrap();
    assert!(alloc.allocate(t0()).is_empty());
    assert!(
        !alloc.role_order().iter().any(|r| r.as_str() == "a"),
        "a has no framework wanting offers"
    );
    alloc.revive(f, Some("b")).unwrap();
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 2);
    assert!(offers.iter().all(|o| o.role.as_str() == "b"));
}

#[test]
fn suppress_of_an_unsubscribed_role_is_an_error() {
    let mut alloc = stable();
    let f = framework(&mut alloc, &["a"]);
    let err = alloc.suppress(f, Some("b")).unwrap_err();
    assert!(matches!(err, AllocatorError::NotSubscribed { .. }), "{err}");
}

#[test]
fn inactive_frameworks_get_no_offers() {
    let mut alloc = stable();
    agents(&mut alloc, 2, "cpus:1;mem:1024");
    let f = framework(&mut alloc, &["a"]);
    alloc.deactivate_framework(f).unwrap();
    assert!(alloc.allocate(t0()).is_empty());
    alloc.activate_framework(f).unwrap();
    assert_eq!(alloc.allocate(t0()).len(), 2);
}

#[test]
fn filtered_frameworks_are_skipped_in_order() {
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:4;mem:4096")[0];
    let all: Vec<_> = (0..200).map(|_| framework(&mut alloc, &["r"])).collect();
    // Frameworks 0..150 decline the whole agent, one per pass.
    for _ in 0..150 {
        let offer = alloc.allocate(t0()).pop().unwrap();
        let hour = Some(Duration::from_secs(3600));
        alloc
            .recover(offer.framework, "r", agent, &offer.resources, hour, t0())
            .unwrap();
    }
    // The others now run something elsewhere, so the decliners (share 0)
    // come first in order: the pass must skip all 150 of them.
    let used: Vec<Used> = all[150..]
        .iter()
        .map(|&framework| Used {
            framework,
            role: "r".into(),
            resources: res("cpus:1;mem:64"),
        })
        .collect();
    let other = alloc.add_agent(&res("cpus:50;mem:3200"), &used).unwrap();
    assert_eq!(alloc.framework_order("r")[0], all[0]);
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 1);
    assert_eq!((offers[0].agent, offers[0].framework), (agent, all[150]));
    assert!(alloc.available(other).unwrap().is_empty());
}
