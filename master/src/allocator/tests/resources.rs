//! Resource arithmetic, port ranges and the text format.

use super::res;
use crate::allocator::{Limits, PortRanges, Quantities, Resources};

#[test]
fn parse_and_display_round_trip() {
    let r = res("cpus:2;mem:1024;disk:4096;ports:[31000-32000];cpus(eng/ml):1.5;foo:3");
    assert_eq!(r.quantities().get("cpus"), 3.5);
    assert_eq!(r.quantities().get("foo"), 3.0);
    assert_eq!(r.unreserved().ports.count(), 1001);
    assert_eq!(r.reserved_to("eng/ml").unwrap().scalars.get("cpus"), 1.5);
    assert_eq!(res(&r.to_string()), r);
}

#[test]
fn parse_rejects_bad_items() {
    for bad in [
        "cpus",
        "cpus:-1",
        "cpus:x",
        "ports:31000",
        "ports:[5-4]",
        "cpus(a//b):1",
        "c pus:1",
        "cpus(:1",
    ] {
        assert!(Resources::parse(bad).is_err(), "{bad} should not parse");
    }
    assert!(Quantities::parse("ports:[1-2]").is_err());
    assert!(Quantities::parse("cpus(a):1").is_err());
}

#[test]
fn fixed_point_sums_are_exact() {
    let tenth = Quantities::parse("cpus:0.1").unwrap();
    let mut sum = Quantities::new();
    for _ in 0..10 {
        sum.add(&tenth);
    }
    assert_eq!(sum, Quantities::parse("cpus:1").unwrap());
    for _ in 0..10 {
        sum.saturating_sub(&tenth);
    }
    assert!(sum.is_empty());
}

#[test]
fn add_subtract_contains() {
    let mut a = res("cpus:4;mem:4096;ports:[1000-2000];cpus(r):2");
    let b = res("cpus:1;mem:1024;ports:[1500-1600];cpus(r):1");
    assert!(a.contains(&b));
    assert!(!b.contains(&a));
    a.subtract(&b);
    assert_eq!(
        a,
        res("cpus:3;mem:3072;ports:[1000-1499,1601-2000];cpus(r):1")
    );
    assert!(!a.contains(&b), "the ports were taken");
    a.add(&b);
    assert_eq!(a, res("cpus:4;mem:4096;ports:[1000-2000];cpus(r):2"));
    // A reservation is not interchangeable with unreserved resources.
    assert!(!res("cpus:5").contains(&res("cpus(r):1")));
    a.subtract(&a.clone());
    assert!(a.is_empty());
}

#[test]
fn port_ranges_merge_and_split() {
    let mut p = PortRanges::range(10, 20);
    p.insert(21, 30);
    p.insert(40, 50);
    assert_eq!(p.ranges(), &[(10, 30), (40, 50)]);
    p.insert(31, 39);
    assert_eq!(p.ranges(), &[(10, 50)]);
    p.subtract(&PortRanges::range(20, 25));
    assert_eq!(p.ranges(), &[(10, 19), (26, 50)]);
    assert!(p.contains(&PortRanges::range(26, 50)));
    assert!(!p.contains(&PortRanges::range(19, 26)));
    p.subtract(&PortRanges::range(0, 100));
    assert!(p.is_empty());
}

#[test]
fn dominant_share_takes_the_largest_fraction() {
    let total = Quantities::parse("cpus:9;mem:18").unwrap();
    let a = Quantities::parse("cpus:3;mem:12").unwrap();
    assert!((a.dominant_share(&total) - 2.0 / 3.0).abs() < 1e-12);
    // Names the pool lacks do not count.
    let b = Quantities::parse("gpus:1").unwrap();
    assert_eq!(b.dominant_share(&total), 0.0);
}

#[test]
fn allocatable_to_takes_own_and_ancestor_reservations() {
    let r = res("cpus:1;cpus(eng):2;cpus(eng/ml):4;cpus(engineering):8;cpus(ops):16");
    let ml = r.allocatable_to("eng/ml");
    assert_eq!(ml.quantities().get("cpus"), 7.0);
    let eng = r.allocatable_to("eng");
    assert_eq!(
        eng.quantities().get("cpus"),
        3.0,
        "a child's reservation is not the parent's"
    );
}

#[test]
fn limits_shrink_only_capped_names() {
    let limits = Limits::parse("cpus:3;gpus:0").unwrap();
    let mut q = Quantities::parse("cpus:2;mem:100;gpus:1").unwrap();
    limits.shrink(&mut q, &Quantities::parse("cpus:2").unwrap());
    assert_eq!(q, Quantities::parse("cpus:1;mem:100").unwrap());
    assert!(limits.admits(&Quantities::parse("cpus:3;mem:1000000").unwrap()));
    assert!(!limits.admits(&Quantities::parse("gpus:0.001").unwrap()));
}
