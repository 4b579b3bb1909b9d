//! The DRF sorter on its own: order, activity, hierarchy, weights, the
//! incremental order agreeing with a full rebuild, and lazy walks.

use crate::allocator::ids::{AgentKey, SlabKey};
use crate::allocator::{DrfSorter, Quantities, Sorter, SorterError};

fn q(text: &str) -> Quantities {
    Quantities::parse(text).unwrap()
}

fn agent(i: u32) -> AgentKey {
    AgentKey::from_parts(i, 0)
}

/// A flat sorter over `n` active clients 0..n with a 10-cpu, 100-mem pool.
fn flat(n: u32) -> DrfSorter<u32> {
    let mut s = DrfSorter::new();
    s.add_total(&q("cpus:10;mem:100"));
    for c in 0..n {
        s.add_client(c, "").unwrap();
        s.activate(c).unwrap();
    }
    s
}

#[test]
fn sorts_by_dominant_share_then_deterministically() {
    let mut s = flat(3);
    assert_eq!(s.sort(), vec![0, 1, 2], "equal shares: creation order");
    s.allocated(0, agent(0), &q("cpus:5")).unwrap(); // 0.5
    s.allocated(1, agent(0), &q("mem:20")).unwrap(); // 0.2
    assert_eq!(s.sort(), vec![2, 1, 0]);
    assert_eq!(s.share(0), Some(0.5));
    s.unallocated(0, agent(0), &q("cpus:5")).unwrap();
    // 0 and 2 are both at zero; 0 was allocated to once, so 2 goes first.
    assert_eq!(s.sort(), vec![2, 0, 1]);
}

#[test]
fn inactive_clients_are_left_out_but_keep_their_allocation() {
    let mut s = flat(3);
    s.allocated(1, agent(0), &q("cpus:1")).unwrap();
    s.deactivate(0).unwrap();
    assert_eq!(s.sort(), vec![2, 1]);
    assert_eq!(s.active_count(), 2);
    assert_eq!(s.allocation(1), Some(&q("cpus:1")));
    s.activate(0).unwrap();
    assert_eq!(s.sort(), vec![0, 2, 1]);
}

#[test]
fn unknown_clients_and_over_unallocation_are_errors() {
    let mut s = flat(1);
    assert!(matches!(
        s.activate(9),
        Err(SorterError::UnknownClient { .. })
    ));
    assert!(matches!(
        s.add_client(0, ""),
        Err(SorterError::Duplicate { .. })
    ));
    assert!(matches!(
        s.add_client(5, "a//b"),
        Err(SorterError::InvalidPath { .. })
    ));
    s.allocated(0, agent(1), &q("cpus:1")).unwrap();
    let err = s.unallocated(0, agent(2), &q("cpus:1")).unwrap_err();
    assert!(
        matches!(err, SorterError::NotAllocated { .. }),
        "held on agent 1, not 2"
    );
    assert!(s.unallocated(0, agent(1), &q("cpus:2")).is_err());
    assert_eq!(s.allocation_on(0, agent(1)), Some(&q("cpus:1")));
}

#[test]
fn hierarchy_sorts_subtrees_by_their_total_share() {
    let mut s: DrfSorter<u32> = DrfSorter::new();
    s.add_total(&q("cpus:100"));
    for (c, path) in [(0, "a/x"), (1, "a/y"), (2, "b")] {
        s.add_client(c, path).unwrap();
        s.activate(c).unwrap();
    }
    s.allocated(0, agent(0), &q("cpus:10")).unwrap();
    s.allocated(1, agent(0), &q("cpus:10")).unwrap();
    s.allocated(2, agent(0), &q("cpus:15")).unwrap();
    // Subtree a holds 20 > b's 15, although each leaf of a holds less than b.
    assert_eq!(s.sort(), vec![2, 0, 1]);
    // Weight 2 on a halves its share (10 < 15).
    s.set_weight("a", 2.0);
    assert_eq!(s.sort(), vec![0, 1, 2]);
    // Removing a client drops it and its allocation from the tree.
    s.remove_client(0).unwrap();
    s.remove_client(1).unwrap();
    assert_eq!(s.sort(), vec![2]);
    assert_eq!(s.len(), 1);
}

#[test]
fn incremental_order_matches_a_full_rebuild() {
    let mut s: DrfSorter<u32> = DrfSorter::new();
    s.add_total(&q("cpus:64;mem:256;gpus:4"));
    let paths = ["a", "a/b", "a/b/c", "d", "d/e", "f"];
    for c in 0..30u32 {
        s.add_client(c, paths[c as usize % paths.len()]).unwrap();
        s.activate(c).unwrap();
    }
    let mut seed = 7u64;
    for step in 0..500u32 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let c = (seed >> 33) as u32 % 30;
        let amount =
            q(["cpus:1", "mem:7", "gpus:0.25", "cpus:0.5;mem:3"][(seed >> 20) as usize % 4]);
        if step % 3 == 2
            && s.allocation_on(c, agent(c))
                .is_some_and(|h| h.contains(&amount))
        {
            s.unallocated(c, agent(c), &amount).unwrap();
        } else {
            s.allocated(c, agent(c), &amount).unwrap();
        }
        if step % 50 == 0 {
            s.deactivate((seed >> 40) as u32 % 30).unwrap();
        }
    }
    let incremental = s.sort();
    // Changing the pool forces a full rebuild; grow and shrink it back.
    s.add_total(&q("cpus:1"));
    s.remove_total(&q("cpus:1"));
    assert_eq!(s.sort(), incremental);
}

#[test]
fn walk_follows_the_order_and_survives_allocation() {
    let mut s = flat(4);
    s.allocated(3, agent(0), &q("cpus:4")).unwrap();
    let mut cursor = Default::default();
    s.start(&mut cursor);
    assert_eq!(s.next(&mut cursor), Some(0));
    // Allocating to the client just returned moves it to the back; the walk
    // neither repeats it nor skips anyone.
    s.allocated(0, agent(0), &q("cpus:9")).unwrap();
    let rest: Vec<u32> = std::iter::from_fn(|| s.next(&mut cursor)).collect();
    assert_eq!(rest, vec![1, 2, 3]);
    // A new walk sees the new order.
    s.start(&mut cursor);
    let all: Vec<u32> = std::iter::from_fn(|| s.next(&mut cursor)).collect();
    assert_eq!(all, vec![1, 2, 3, 0]);
}

#[test]
fn hierarchical_walk_visits_every_active_leaf_once() {
    let mut s: DrfSorter<u32> = DrfSorter::new();
    s.add_total(&q("cpus:10"));
    for (c, path) in [(0, "a"), (1, "a/x"), (2, "a/y"), (3, "b"), (4, "b/z")] {
        s.add_client(c, path).unwrap();
        s.activate(c).unwrap();
    }
    let mut cursor = Default::default();
    s.start(&mut cursor);
    let mut seen = Vec::new();
    while let Some(c) = s.next(&mut cursor) {
        seen.push(c);
        s.allocated(c, agent(0), &q("cpus:1")).unwrap();
    }
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2, 3, 4]);
}

#[test]
fn batches_are_snapshots_that_continue_where_they_ended() {
    let mut s = flat(5);
    s.allocated(4, agent(0), &q("cpus:1")).unwrap();
    let mut cursor = Default::default();
    s.start(&mut cursor);
    let mut batch = Vec::new();
    s.next_batch(&mut cursor, &mut batch, 2);
    assert_eq!(batch, vec![0, 1]);
    // Allocating to the first moves it behind everyone; it is not repeated.
    s.allocated(0, agent(0), &q("cpus:5")).unwrap();
    batch.clear();
    s.next_batch(&mut cursor, &mut batch, 10);
    assert_eq!(batch, vec![2, 3, 4]);
    batch.clear();
    s.next_batch(&mut cursor, &mut batch, 10);
    assert!(batch.is_empty());
}

#[test]
fn hierarchical_batches_visit_every_active_leaf_once() {
    let mut s: DrfSorter<u32> = DrfSorter::new();
    s.add_total(&q("cpus:10"));
    let paths = ["a", "a/x", "a/y", "b", "b/z", "c", "a/x/deep"];
    for (c, path) in paths.iter().enumerate() {
        s.add_client(c as u32, path).unwrap();
        s.activate(c as u32).unwrap();
    }
    s.deactivate(5).unwrap();
    let mut cursor = Default::default();
    s.start(&mut cursor);
    let (mut seen, mut batch) = (Vec::new(), Vec::new());
    loop {
        batch.clear();
        s.next_batch(&mut cursor, &mut batch, 2);
        if batch.is_empty() {
            break;
        }
        s.allocated(batch[0], agent(0), &q("cpus:1")).unwrap();
        seen.extend_from_slice(&batch);
    }
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2, 3, 4, 6]);
}
