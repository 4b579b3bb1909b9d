//! Adding and removing frameworks and agents: state is cleaned up, typed
//! errors for unknown keys and impossible changes, state unchanged on error.

use super::{agents, framework, res, stable, t0};
use crate::allocator::{Allocator, AllocatorError, Capabilities, FrameworkSpec, Quantities, Used};
use std::time::Duration;

#[test]
fn removing_a_framework_returns_everything_and_cleans_the_sorters() {
    let mut alloc = stable();
    let hosts = agents(&mut alloc, 3, "cpus:2;mem:2048");
    let f = framework(&mut alloc, &["eng/ml", "ops"]);
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 3);
    alloc
        .recover(
            f,
            offers[0].role.as_str(),
            offers[0].agent,
            &offers[0].resources,
            Some(Duration::from_secs(60)),
            t0(),
        )
        .unwrap();
    assert!(alloc.is_role_sorted("eng/ml"));
    assert_eq!(alloc.filters_on(offers[0].agent), Some(1));
    alloc.remove_framework(f).unwrap();
    assert_eq!(
        alloc.filters_on(offers[0].agent),
        Some(0),
        "its filters went with it"
    );
    for h in &hosts {
        assert_eq!(alloc.available(*h).unwrap(), &res("cpus:2;mem:2048"));
    }
    assert!(!alloc.is_role_sorted("eng/ml") && !alloc.is_role_sorted("ops"));
    assert_eq!(alloc.role_count(), 0, "eng/ml, eng and ops are gone");
    assert_eq!(alloc.unreserved_free(), alloc.total());
    assert!(matches!(
        alloc.remove_framework(f),
        Err(AllocatorError::UnknownFramework(_))
    ));
    assert!(alloc.role_order().is_empty());
    // A new framework gets a fresh key and everything.
    let g = framework(&mut alloc, &["ops"]);
    assert_ne!(f, g);
    assert_eq!(alloc.allocate(t0()).len(), 3);
}

#[test]
fn removing_an_agent_forgets_its_allocations() {
    let mut alloc = stable();
    let hosts = agents(&mut alloc, 2, "cpus:2;mem:2048");
    let f = framework(&mut alloc, &["r"]);
    alloc.allocate(t0());
    assert_eq!(alloc.framework_allocation(f, "r").unwrap().get("cpus"), 4.0);
    alloc.remove_agent(hosts[0]).unwrap();
    assert_eq!(alloc.framework_allocation(f, "r").unwrap().get("cpus"), 2.0);
    assert_eq!(alloc.role_allocation("r").unwrap().get("cpus"), 2.0);
    assert_eq!(
        alloc.total(),
        &Quantities::parse("cpus:2;mem:2048").unwrap()
    );
    // The share is now taken against the smaller cluster.
    assert_eq!(alloc.framework_share(f, "r"), Some(1.0));
    assert!(matches!(
        alloc.remove_agent(hosts[0]),
        Err(AllocatorError::UnknownAgent(_))
    ));
    assert!(alloc.available(hosts[0]).is_none());
    let err = alloc
        .recover(f, "r", hosts[0], &res("cpus:1"), None, t0())
        .unwrap_err();
    assert!(matches!(err, AllocatorError::UnknownAgent(_)), "{err}");
    // The agent comes back under a new key with nothing allocated.
    let back = alloc.add_agent(&res("cpus:2;mem:2048"), &[]).unwrap();
    assert_ne!(back, hosts[0]);
    assert_eq!(alloc.allocate(t0()).len(), 1);
}

#[test]
fn removing_an_agent_drops_filters_on_it() {
    let mut alloc = stable();
    let hosts = agents(&mut alloc, 2, "cpus:2;mem:2048");
    let f = framework(&mut alloc, &["r"]);
    for o in alloc.allocate(t0()) {
        alloc
            .recover(
                f,
                "r",
                o.agent,
                &o.resources,
                Some(Duration::from_secs(60)),
                t0(),
            )
            .unwrap();
    }
    assert_eq!(alloc.filter_count(f), Some(2));
    alloc.remove_agent(hosts[1]).unwrap();
    assert_eq!(alloc.filter_count(f), Some(1));
}

#[test]
fn recovering_more_than_held_is_an_error_and_changes_nothing() {
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:2;mem:2048")[0];
    let f = framework(&mut alloc, &["r"]);
    let g = framework(&mut alloc, &["r", "s"]);
    alloc.allocate(t0());
    let too_much = res("cpus:3");
    let err = alloc
        .recover(f, "r", agent, &too_much, None, t0())
        .unwrap_err();
    assert!(matches!(err, AllocatorError::NotAllocated { .. }), "{err}");
    let err = alloc
        .recover(g, "r", agent, &res("cpus:1"), None, t0())
        .unwrap_err();
    assert!(
        matches!(err, AllocatorError::NotAllocated { .. }),
        "g holds nothing: {err}"
    );
    let err = alloc
        .recover(f, "s", agent, &res("cpus:1"), None, t0())
        .unwrap_err();
    assert!(matches!(err, AllocatorError::NotSubscribed { .. }), "{err}");
    assert_eq!(
        alloc.allocated(f, "r", agent),
        Some(&res("cpus:2;mem:2048"))
    );
    assert!(alloc.available(agent).unwrap().is_empty());
}

#[test]
fn invalid_framework_specs_are_rejected() {
    let mut alloc = stable();
    let none = FrameworkSpec {
        active: true,
        ..Default::default()
    };
    assert!(matches!(
        alloc.add_framework(&none),
        Err(AllocatorError::NoRoles)
    ));
    let bad = FrameworkSpec {
        roles: vec!["a/../b".into()],
        ..Default::default()
    };
    assert!(matches!(
        alloc.add_framework(&bad),
        Err(AllocatorError::Role(_))
    ));
    let stray = FrameworkSpec {
        roles: vec!["a".into()],
        suppressed_roles: vec!["b".into()],
        ..Default::default()
    };
    assert!(matches!(
        alloc.add_framework(&stray),
        Err(AllocatorError::NotSubscribed { .. })
    ));
    assert_eq!((alloc.framework_count(), alloc.role_count()), (0, 0));
}

#[test]
fn used_resources_at_agent_addition_are_allocated() {
    let mut alloc = stable();
    let f = framework(&mut alloc, &["r"]);
    let used = [Used {
        framework: f,
        role: "r".into(),
        resources: res("cpus:1;mem:512;ports:[31000-31001]"),
    }];
    let agent = alloc
        .add_agent(&res("cpus:4;mem:4096;ports:[31000-32000]"), &used)
        .unwrap();
    assert_eq!(
        alloc.available(agent).unwrap(),
        &res("cpus:3;mem:3584;ports:[31002-32000]")
    );
    assert_eq!(alloc.framework_allocation(f, "r").unwrap().get("cpus"), 1.0);
    let over = [Used {
        framework: f,
        role: "r".into(),
        resources: res("cpus:5"),
    }];
    let err = alloc.add_agent(&res("cpus:4"), &over).unwrap_err();
    assert!(
        matches!(err, AllocatorError::UsedExceedsTotal { .. }),
        "{err}"
    );
    assert_eq!(alloc.agent_count(), 1);
}

#[test]
fn updating_an_agent_keeps_allocations_and_refuses_to_drop_them() {
    let mut alloc = stable();
    let agent = agents(&mut alloc, 1, "cpus:4;mem:4096")[0];
    let f = framework(&mut alloc, &["r"]);
    let offer = alloc.allocate(t0()).pop().unwrap();
    let hour = Some(Duration::from_secs(3600));
    alloc
        .recover(f, "r", agent, &res("cpus:3;mem:3072"), hour, t0())
        .unwrap();
    let err = alloc
        .update_agent(agent, &res("cpus:0.5;mem:4096"))
        .unwrap_err();
    assert!(
        matches!(err, AllocatorError::TotalBelowAllocation { .. }),
        "{err}"
    );
    alloc.update_agent(agent, &res("cpus:8;mem:8192")).unwrap();
    assert_eq!(alloc.available(agent).unwrap(), &res("cpus:7;mem:7168"));
    assert_eq!(alloc.total().get("cpus"), 8.0);
    assert_eq!(alloc.unreserved_free().get("cpus"), 7.0);
    assert_eq!(
        alloc.filters_on(agent),
        Some(1),
        "a new total keeps the filters"
    );
    assert_eq!(offer.resources, res("cpus:4;mem:4096"));
}

#[test]
fn deactivated_agents_are_not_offered() {
    let mut alloc = stable();
    let hosts = agents(&mut alloc, 2, "cpus:1;mem:1024");
    framework(&mut alloc, &["r"]);
    alloc.deactivate_agent(hosts[0]).unwrap();
    let offers = alloc.allocate(t0());
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].agent, hosts[1]);
    alloc.activate_agent(hosts[0]).unwrap();
    assert_eq!(alloc.allocate(t0()).len(), 1);
}

#[test]
fn gpu_agents_go_only_to_gpu_capable_frameworks() {
    let mut alloc = stable();
    let gpu = alloc
        .add_agent(&res("cpus:4;mem:4096;gpus:1"), &[])
        .unwrap();
    let plain = framework(&mut alloc, &["r"]);
    assert!(alloc.allocate(t0()).is_empty());
    let spec = FrameworkSpec {
        roles: vec!["r".into()],
        capabilities: Capabilities {
            gpu_resources: true,
        },
        active: true,
        ..Default::default()
    };
    let capable = alloc.add_framework(&spec).unwrap();
    let offers = alloc.allocate(t0());
    assert_eq!(
        (offers.len(), offers[0].framework, offers[0].agent),
        (1, capable, gpu)
    );
    assert_ne!(plain, capable);
}

#[test]
fn shuffled_order_is_reproducible_for_a_seed() {
    use crate::allocator::{AgentOrder, HierarchicalAllocator, Options};
    let run = |seed| {
        let mut alloc = HierarchicalAllocator::new(Options {
            agent_order: AgentOrder::Shuffled { seed },
            ..Options::default()
        });
        agents(&mut alloc, 16, "cpus:1;mem:1024");
        let f = framework(&mut alloc, &["a"]);
        framework(&mut alloc, &["b"]);
        let offers = alloc.allocate(t0());
        offers
            .iter()
            .filter(|o| o.framework == f)
            .map(|o| o.agent)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2), "different seeds visit agents differently");
    assert_eq!(run(1).len(), 8, "shuffling does not change the shares");
}
