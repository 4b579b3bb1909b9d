//! Fair sharing through the allocator: the DRF paper's example, weights,
//! hierarchical roles.

use super::{agents, cpus_to, framework, res, stable, t0};
use crate::allocator::{Allocator, FrameworkKey};
use std::time::Duration;

#[test]
fn drf_paper_example_converges_to_the_drf_allocation() {
    // Ghodsi et al.: 9 CPUs and 18 GB; A runs <1 CPU, 4 GB> tasks, B runs
    // <3 CPU, 1 GB> tasks. DRF gives A three tasks and B two, both at a
    // dominant share of 2/3.
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:9;mem:18432")[0];
    let a = framework(&mut alloc, &["r"]);
    let b = framework(&mut alloc, &["r"]);
    let task = |f: FrameworkKey| {
        if f == a {
            res("cpus:1;mem:4096")
        } else {
            res("cpus:3;mem:1024")
        }
    };
    let mut tasks = [0u32, 0u32];
    let now = t0();
    for _ in 0..50 {
        let offers = alloc.allocate(now);
        if offers.is_empty() {
            break;
        }
        for offer in offers {
            let t = task(offer.framework);
            let role = offer.role.as_str();
            if offer.resources.contains(&t) {
                // Launch one task, give the rest back unfiltered.
                tasks[usize::from(offer.framework == b)] += 1;
                let mut rest = offer.resources.clone();
                rest.subtract(&t);
                alloc
                    .recover(offer.framework, role, agent, &rest, None, now)
                    .unwrap();
            } else {
                let hour = Some(Duration::from_secs(3600));
                alloc
                    .recover(offer.framework, role, agent, &offer.resources, hour, now)
                    .unwrap();
            }
        }
    }
    assert_eq!(tasks, [3, 2]);
    let (sa, sb) = (
        alloc.framework_share(a, "r").unwrap(),
        alloc.framework_share(b, "r").unwrap(),
    );
    assert!(
        (sa - 2.0 / 3.0).abs() < 1e-9 && (sb - 2.0 / 3.0).abs() < 1e-9,
        "{sa} {sb}"
    );
}

#[test]
fn each_agent_goes_to_the_lowest_share() {
    let mut alloc = stable();
    agents(&mut alloc, 10, "cpus:1;mem:1024");
    let f = framework(&mut alloc, &["a"]);
    let g = framework(&mut alloc, &["b"]);
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 10);
    assert_eq!((cpus_to(&offers, f), cpus_to(&offers, g)), (5.0, 5.0));
    assert!(alloc.allocate(t0()).is_empty(), "everything is allocated");
}

#[test]
fn weights_scale_fair_shares() {
    let mut alloc = stable();
    alloc.set_weight("a", 2.0).unwrap();
    agents(&mut alloc, 12, "cpus:1;mem:1024");
    let f = framework(&mut alloc, &["a"]);
    let g = framework(&mut alloc, &["b"]);
    let offers = alloc.allocate(t0());
    assert_eq!((cpus_to(&offers, f), cpus_to(&offers, g)), (8.0, 4.0));
    // Weighted shares are equal: (8/12)/2 and 4/12.
    let (sa, sb) = (
        alloc.role_share("a").unwrap(),
        alloc.role_share("b").unwrap(),
    );
    assert!((sa - sb).abs() < 1e-9, "{sa} {sb}");
    assert!(alloc.set_weight("a", 0.0).is_err());
    assert!(alloc.set_weight("a", f64::NAN).is_err());
}

#[test]
fn changing_a_weight_changes_who_is_offered_next() {
    let mut alloc = stable();
    let hosts = agents(&mut alloc, 4, "cpus:1;mem:1024");
    let f = framework(&mut alloc, &["a"]);
    let g = framework(&mut alloc, &["b"]);
    let offers = alloc.allocate(t0());
    assert_eq!((cpus_to(&offers, f), cpus_to(&offers, g)), (2.0, 2.0));
    // Both give one agent back; with weight 3 on b, b is further below its
    // fair share and gets both.
    for o in offers
        .iter()
        .filter(|o| o.agent == hosts[0] || o.agent == hosts[1])
    {
        alloc
            .recover(
                o.framework,
                o.role.as_str(),
                o.agent,
                &o.resources,
                None,
                t0(),
            )
            .unwrap();
    }
    alloc.set_weight("b", 3.0).unwrap();
    let again = alloc.allocate(t0());
    assert_eq!((cpus_to(&again, f), cpus_to(&again, g)), (0.0, 2.0));
}

#[test]
fn hierarchical_roles_share_by_subtree() {
    let mut alloc = stable();
    agents(&mut alloc, 12, "cpus:1;mem:1024");
    let ml = framework(&mut alloc, &["eng/ml"]);
    let web = framework(&mut alloc, &["eng/web"]);
    let ops = framework(&mut alloc, &["ops"]);
    let offers = alloc.allocate(t0());
    // eng and ops split the cluster; eng's half is split between its children.
    assert_eq!(cpus_to(&offers, ops), 6.0);
    assert_eq!(cpus_to(&offers, ml), 3.0);
    assert_eq!(cpus_to(&offers, web), 3.0);
    assert!(
        offers
            .iter()
            .all(|o| (o.framework == ml) == (o.role.as_str() == "eng/ml"))
    );
}

#[test]
fn multi_role_framework_is_offered_in_each_role() {
    let mut alloc = stable();
    agents(&mut alloc, 4, "cpus:1;mem:1024");
    let f = framework(&mut alloc, &["a", "b"]);
    let offers = alloc.allocate(t0());
    let in_a = offers.iter().filter(|o| o.role.as_str() == "a").count();
    assert_eq!(
        (offers.len(), in_a),
        (4, 2),
        "roles a and b share the agents"
    );
    assert_eq!(alloc.framework_allocation(f, "a").unwrap().get("cpus"), 2.0);
}
