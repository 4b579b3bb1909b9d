//! Dynamic reservations: offered to their role and its sub-roles only.

use super::{framework, res, stable, t0};
use crate::allocator::{Allocator, AllocatorError};
use std::time::Duration;

#[test]
fn reserved_resources_are_offered_only_to_their_role() {
    let mut alloc = stable();
    let agent = alloc
        .add_agent(&res("cpus:1;mem:1024;cpus(eng):4;mem(eng):4096"), &[])
        .unwrap();
    let ops = framework(&mut alloc, &["ops"]);
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 1);
    assert_eq!(
        (offers[0].framework, &offers[0].resources),
        (ops, &res("cpus:1;mem:1024"))
    );
    // Nothing else is offered to ops: the rest is eng's.
    assert!(alloc.allocate(t0()).is_empty());
    let eng = framework(&mut alloc, &["eng"]);
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 1);
    assert_eq!(
        (offers[0].framework, &offers[0].resources),
        (eng, &res("cpus(eng):4;mem(eng):4096"))
    );
    assert!(alloc.available(agent).unwrap().is_empty());
}

#[test]
fn sub_roles_get_their_ancestors_reservations_but_not_the_reverse() {
    let mut alloc = stable();
    alloc
        .add_agent(&res("cpus(eng):2;mem(eng):2048"), &[])
        .unwrap();
    alloc
        .add_agent(&res("cpus(eng/ml):2;mem(eng/ml):2048"), &[])
        .unwrap();
    let eng = framework(&mut alloc, &["eng"]);
    let offers = alloc.allocate(t0());
    assert_eq!(
        offers.len(),
        1,
        "eng/ml's reservation is not offered to eng"
    );
    assert_eq!(offers[0].framework, eng);
    let ml = framework(&mut alloc, &["eng/ml"]);
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 1);
    assert_eq!(
        (offers[0].framework, &offers[0].resources),
        (ml, &res("cpus(eng/ml):2;mem(eng/ml):2048"))
    );
}

#[test]
fn reservations_and_unreserved_come_in_one_offer() {
    let mut alloc = stable();
    alloc
        .add_agent(&res("cpus:1;mem:512;ports:[31000-31010];cpus(r):2"), &[])
        .unwrap();
    let f = framework(&mut alloc, &["r"]);
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].framework, f);
    assert_eq!(
        offers[0].resources,
        res("cpus:1;mem:512;ports:[31000-31010];cpus(r):2")
    );
}

#[test]
fn reserving_offered_resources_changes_the_agent_and_what_later_offers_hold() {
    let mut alloc = stable();
    let agent = alloc.add_agent(&res("cpus:4;mem:1024"), &[]).unwrap();
    let eng = framework(&mut alloc, &["eng"]);
    let offer = alloc.allocate(t0()).remove(0);
    assert_eq!(offer.framework, eng);
    let (from, to) = (res("cpus:2;mem:512"), res("cpus(eng):2;mem(eng):512"));
    alloc
        .update_allocation(eng, "eng", agent, &from, &to)
        .unwrap();
    assert_eq!(
        alloc.allocated(eng, "eng", agent).unwrap(),
        &res("cpus:2;mem:512;cpus(eng):2;mem(eng):512")
    );
    let consumed = alloc.consumed_quota("eng").unwrap();
    assert_eq!(consumed.get("cpus"), 4.0, "reserved 2 + unreserved 2");
    let held = alloc.allocated(eng, "eng", agent).unwrap().clone();
    alloc
        .recover(
            eng,
            "eng",
            agent,
            &held,
            Some(Duration::from_secs(60)),
            t0(),
        )
        .unwrap();
    assert_eq!(
        alloc.consumed_quota("eng").unwrap().get("cpus"),
        2.0,
        "an unused reservation still counts against the role"
    );
    let ops = framework(&mut alloc, &["ops"]);
    let offers = alloc.allocate(t0());
    assert_eq!(
        offers.len(),
        1,
        "eng filtered the agent for 60 s: {offers:?}"
    );
    assert_eq!(
        (offers[0].framework, &offers[0].resources),
        (ops, &res("cpus:2;mem:512")),
        "ops never sees eng's reservation"
    );
    alloc.revive(eng, None).unwrap();
    let offers = alloc.allocate(t0());
    assert_eq!(
        (offers[0].framework, &offers[0].resources),
        (eng, &res("cpus(eng):2;mem(eng):512"))
    );
}

#[test]
fn unreserving_returns_resources_to_the_unreserved_pool() {
    let mut alloc = stable();
    let agent = alloc
        .add_agent(&res("cpus:1;cpus(eng):2;mem(eng):256"), &[])
        .unwrap();
    let eng = framework(&mut alloc, &["eng"]);
    let offer = alloc.allocate(t0()).remove(0);
    let (from, to) = (res("cpus(eng):2;mem(eng):256"), res("cpus:2;mem:256"));
    alloc
        .update_allocation(eng, "eng", agent, &from, &to)
        .unwrap();
    let mut held = offer.resources.clone();
    held.subtract(&from);
    held.add(&to);
    alloc.recover(eng, "eng", agent, &held, None, t0()).unwrap();
    assert!(
        alloc.consumed_quota("eng").unwrap().is_empty(),
        "nothing counts against eng any more"
    );
    assert_eq!(alloc.available(agent).unwrap(), &res("cpus:3;mem:256"));
    assert_eq!(alloc.unreserved_free().get("cpus"), 3.0);
    assert_eq!(alloc.total().get("cpus"), 3.0);
}

#[test]
fn a_conversion_that_changes_quantities_or_is_not_held_is_refused() {
    let mut alloc = stable();
    let agent = alloc.add_agent(&res("cpus:4;mem:1024"), &[]).unwrap();
    let eng = framework(&mut alloc, &["eng"]);
    alloc.allocate(t0());
    let before = alloc.allocated(eng, "eng", agent).unwrap().clone();
    let e = alloc
        .update_allocation(eng, "eng", agent, &res("cpus:2"), &res("cpus(eng):3"))
        .unwrap_err();
    assert!(
        matches!(e, AllocatorError::ConversionMismatch { .. }),
        "{e}"
    );
    let e = alloc
        .update_allocation(eng, "eng", agent, &res("cpus:8"), &res("cpus(eng):8"))
        .unwrap_err();
    assert!(matches!(e, AllocatorError::NotAllocated { .. }), "{e}");
    assert_eq!(alloc.allocated(eng, "eng", agent).unwrap(), &before);
    assert_eq!(alloc.consumed_quota("eng").unwrap().get("cpus"), 4.0);
}
