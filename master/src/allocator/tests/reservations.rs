//! Dynamic reservations: offered to their role and its sub-roles only.

use super::{framework, res, stable, t0};
use crate::allocator::Allocator;

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
