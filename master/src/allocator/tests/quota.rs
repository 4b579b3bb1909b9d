//! Quota: guarantees served first, limits never exceeded, headroom held
//! back for other roles' unsatisfied guarantees.

use super::{agents, cpus_to, framework, res, stable, t0};
use crate::allocator::{Allocator, AllocatorError, Limits, Quantities, Quota, Used};

fn guarantee(text: &str) -> Quota {
    Quota {
        guarantees: Quantities::parse(text).unwrap(),
        limits: Limits::unlimited(),
    }
}

fn limit(text: &str) -> Quota {
    Quota {
        guarantees: Quantities::new(),
        limits: Limits::parse(text).unwrap(),
    }
}

#[test]
fn guarantee_is_served_before_fair_share() {
    // q already runs 1 cpu, so plain DRF would favour x (4 and 4 in the
    // end); with a 6-cpu guarantee q gets 6 first and x the remaining 2.
    let mut alloc = stable();
    let q = framework(&mut alloc, &["q"]);
    let x = framework(&mut alloc, &["x"]);
    let one = res("cpus:1;mem:1024");
    let used = [Used {
        framework: q,
        role: "q".into(),
        resources: one.clone(),
    }];
    alloc.add_agent(&one, &used).unwrap();
    agents(&mut alloc, 7, "cpus:1;mem:1024");
    alloc.set_quota("q", guarantee("cpus:6")).unwrap();
    let offers = alloc.allocate(t0());
    assert_eq!(cpus_to(&offers, q), 5.0);
    assert_eq!(cpus_to(&offers, x), 2.0);
    assert_eq!(alloc.consumed_quota("q").unwrap().get("cpus"), 6.0);
}

#[test]
fn without_quota_the_same_cluster_is_shared_evenly() {
    let mut alloc = stable();
    let q = framework(&mut alloc, &["q"]);
    let x = framework(&mut alloc, &["x"]);
    let one = res("cpus:1;mem:1024");
    let used = [Used {
        framework: q,
        role: "q".into(),
        resources: one.clone(),
    }];
    alloc.add_agent(&one, &used).unwrap();
    agents(&mut alloc, 7, "cpus:1;mem:1024");
    let offers = alloc.allocate(t0());
    assert_eq!((cpus_to(&offers, q), cpus_to(&offers, x)), (3.0, 4.0));
}

#[test]
fn limit_is_never_exceeded() {
    let mut alloc = stable();
    let hosts = agents(&mut alloc, 4, "cpus:2;mem:2048");
    let f = framework(&mut alloc, &["l"]);
    alloc.set_quota("l", limit("cpus:3;mem:3072")).unwrap();
    let offers = alloc.allocate(t0());
    // The second agent is cut to what the limit leaves.
    assert_eq!(offers.len(), 2);
    assert_eq!(offers[1].resources, res("cpus:1;mem:1024"));
    let held = alloc.framework_allocation(f, "l").unwrap().clone();
    assert_eq!(held, Quantities::parse("cpus:3;mem:3072").unwrap());
    // Nothing more, pass after pass, even as resources come and go.
    for _ in 0..5 {
        assert!(alloc.allocate(t0()).is_empty());
    }
    let first = offers[0].clone();
    alloc
        .recover(f, "l", first.agent, &first.resources, None, t0())
        .unwrap();
    let again = alloc.allocate(t0());
    let total: f64 = again
        .iter()
        .map(|o| o.resources.quantities().get("cpus"))
        .sum();
    assert_eq!(total, 2.0);
    assert!(alloc.consumed_quota("l").unwrap().get("cpus") <= 3.0);
    assert_eq!(alloc.available(hosts[3]).unwrap(), &res("cpus:2;mem:2048"));
}

#[test]
fn limit_covers_sub_roles() {
    let mut alloc = stable();
    agents(&mut alloc, 4, "cpus:2;mem:2048");
    let a = framework(&mut alloc, &["eng/a"]);
    let b = framework(&mut alloc, &["eng/b"]);
    alloc.set_quota("eng", limit("cpus:3;mem:3072")).unwrap();
    let offers = alloc.allocate(t0());
    assert_eq!(cpus_to(&offers, a) + cpus_to(&offers, b), 3.0);
}

#[test]
fn headroom_is_held_for_another_roles_guarantee() {
    let mut alloc = stable();
    agents(&mut alloc, 8, "cpus:1;mem:1024");
    let g = framework(&mut alloc, &["g"]);
    let o = framework(&mut alloc, &["o"]);
    alloc.set_quota("g", guarantee("cpus:3;mem:3072")).unwrap();
    alloc.deactivate_framework(g).unwrap();
    // g is not asking, but its guarantee stays free: o gets 5 agents.
    let offers = alloc.allocate(t0());
    assert_eq!(cpus_to(&offers, o), 5.0);
    assert!(alloc.allocate(t0()).is_empty());
    assert_eq!(alloc.unreserved_free().get("cpus"), 3.0);
    // When g comes back, the held resources are there for it.
    alloc.activate_framework(g).unwrap();
    let later = alloc.allocate(t0());
    assert_eq!(cpus_to(&later, g), 3.0);
}

#[test]
fn reservations_count_against_the_guarantee() {
    let mut alloc = stable();
    alloc.add_agent(&res("cpus(g):2;mem(g):2048"), &[]).unwrap();
    agents(&mut alloc, 4, "cpus:1;mem:1024");
    let o = framework(&mut alloc, &["o"]);
    alloc.set_quota("g", guarantee("cpus:3;mem:3072")).unwrap();
    // g's reservation covers 2 of its 3 guaranteed cpus: only 1 unreserved
    // cpu is held back, and o (not g) cannot use the reservation.
    let offers = alloc.allocate(t0());
    assert_eq!(cpus_to(&offers, o), 3.0);
}

#[test]
fn quota_errors() {
    let mut alloc = stable();
    let nested = alloc.set_quota("a/b", guarantee("cpus:1")).unwrap_err();
    assert!(
        matches!(nested, AllocatorError::QuotaOnNestedRole { .. }),
        "{nested}"
    );
    let q = Quota {
        guarantees: Quantities::parse("cpus:4").unwrap(),
        limits: Limits::parse("cpus:2").unwrap(),
    };
    let above = alloc.set_quota("a", q).unwrap_err();
    assert!(
        matches!(above, AllocatorError::GuaranteeAboveLimit { .. }),
        "{above}"
    );
    assert_eq!(alloc.role_count(), 0, "failed calls leave no role behind");
    alloc.set_quota("a", guarantee("cpus:1")).unwrap();
    assert_eq!(alloc.role_count(), 1);
    alloc.set_quota("a", Quota::default()).unwrap();
    assert_eq!(
        alloc.role_count(),
        0,
        "removing the quota drops the unused role"
    );
}
