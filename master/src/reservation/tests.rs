//! Unit tests of an agent's reservations and of the RESERVE/UNRESERVE
//! checks.

use super::*;
use corral_api::v1::{
    FrameworkCapability, FrameworkCapabilityType, FrameworkInfo, Label, Labels, Reserve, Unreserve,
};

fn res(text: &str) -> Resources {
    Resources::parse(text).unwrap()
}

fn info(role: &str, principal: Option<&str>, label: Option<&str>) -> ReservationInfo {
    ReservationInfo {
        principal: principal.map(str::to_string),
        labels: label.map(|v| Labels {
            labels: vec![Label {
                key: "k".into(),
                value: Some(v.into()),
            }],
        }),
        ..convert::dynamic_for(role)
    }
}

fn cpus(value: f64, reservation: Option<&ReservationInfo>, allocated: &str) -> Resource {
    let mut r = Resource::scalar("cpus", value).allocated_to(allocated);
    if let Some(i) = reservation {
        r = r.reserved(i.clone());
    }
    r
}

fn framework(roles: &[&str], principal: Option<&str>) -> FrameworkInfo {
    FrameworkInfo {
        roles: roles.iter().map(|r| r.to_string()).collect(),
        capabilities: vec![FrameworkCapability {
            r#type: Some(FrameworkCapabilityType::MultiRole),
        }],
        principal: principal.map(str::to_string),
        ..FrameworkInfo::default()
    }
}

fn reserve(resources: Vec<Resource>) -> Reserve {
    Reserve {
        resources,
        ..Reserve::default()
    }
}

fn cx<'a>(
    fw: &'a FrameworkInfo,
    offered: &'a Resources,
    agent: &'a AgentReservations,
) -> OfferContext<'a> {
    OfferContext {
        framework: fw,
        role: "eng",
        offered,
        agent,
    }
}

#[test]
fn a_valid_reserve_converts_unreserved_offered_resources() {
    let fw = framework(&["eng"], Some("alice"));
    let offered = res("cpus:4;mem:1024");
    let agent = AgentReservations::new();
    let i = info("eng", Some("alice"), Some("v"));
    let c = check_reserve(
        &reserve(vec![cpus(2.0, Some(&i), "eng")]),
        cx(&fw, &offered, &agent),
    )
    .unwrap();
    assert_eq!(c.from, res("cpus:2"));
    assert_eq!(c.to, res("cpus(eng):2"));
    assert_eq!(
        c.reservations,
        vec![(i, res("cpus:2").unreserved().clone())]
    );
}

#[test]
fn reserve_refuses_what_mesos_refuses() {
    let fw = framework(&["eng"], Some("alice"));
    let offered = res("cpus:4");
    let agent = AgentReservations::new();
    let check = |r: Resource| check_reserve(&reserve(vec![r]), cx(&fw, &offered, &agent));
    let ok = info("eng", Some("alice"), None);
    let e = check(cpus(8.0, Some(&ok), "eng")).unwrap_err();
    assert!(matches!(e, ReservationError::NotOffered { .. }), "{e}");
    let e = check(cpus(1.0, Some(&info("ops", Some("alice"), None)), "eng")).unwrap_err();
    assert!(
        matches!(e, ReservationError::NotFrameworkRole { .. }),
        "{e}"
    );
    let e = check(cpus(1.0, Some(&info("eng", Some("bob"), None)), "eng")).unwrap_err();
    assert!(matches!(e, ReservationError::Principal { .. }), "{e}");
    let e = check(cpus(1.0, Some(&info("eng", None, None)), "eng")).unwrap_err();
    assert!(matches!(e, ReservationError::Principal { .. }), "{e}");
    let e = check(cpus(1.0, None, "eng")).unwrap_err();
    assert!(matches!(e, ReservationError::NotDynamic { .. }), "{e}");
    let e = check(cpus(1.0, Some(&ok), "ops")).unwrap_err();
    assert!(matches!(e, ReservationError::AllocationRole { .. }), "{e}");
    let refined = cpus(1.0, Some(&ok), "eng").reserved(info("eng/ml", Some("alice"), None));
    let e = check(refined).unwrap_err();
    assert!(
        matches!(e, ReservationError::Refined { levels: 2, .. }),
        "{e}"
    );
    let e = check_reserve(&reserve(vec![]), cx(&fw, &offered, &agent)).unwrap_err();
    assert_eq!(e, ReservationError::Empty);
}

#[test]
fn a_child_role_is_reserved_only_from_offers_allocated_to_it() {
    let fw = framework(&["eng", "eng/ml"], None);
    let offered = res("cpus:4");
    let agent = AgentReservations::new();
    let child = info("eng/ml", None, None);
    let e = check_reserve(
        &reserve(vec![cpus(1.0, Some(&child), "eng")]),
        cx(&fw, &offered, &agent),
    )
    .unwrap_err();
    assert!(matches!(e, ReservationError::RoleMismatch { .. }), "{e}");
    let in_child = OfferContext {
        role: "eng/ml",
        ..cx(&fw, &offered, &agent)
    };
    let ok = check_reserve(&reserve(vec![cpus(1.0, Some(&child), "eng/ml")]), in_child);
    assert_eq!(ok.unwrap().to, res("cpus(eng/ml):1"));
}

#[test]
fn one_reservation_per_role_and_agent() {
    let mut agent = AgentReservations::new();
    let a = info("eng", None, Some("a"));
    agent
        .reserve(a.clone(), res("cpus:1").unreserved())
        .unwrap();
    agent
        .reserve(a.clone(), res("cpus:1").unreserved())
        .unwrap();
    assert_eq!(agent.resources(), res("cpus(eng):2"));
    let b = info("eng", None, Some("b"));
    let e = agent
        .reserve(b.clone(), res("cpus:1").unreserved())
        .unwrap_err();
    assert!(matches!(e, ReservationError::Conflict { .. }), "{e}");
    let fw = framework(&["eng"], None);
    let offered = res("cpus:4");
    let e = check_reserve(
        &reserve(vec![cpus(1.0, Some(&b), "eng")]),
        cx(&fw, &offered, &agent),
    )
    .unwrap_err();
    assert!(matches!(e, ReservationError::Conflict { .. }), "{e}");
}

#[test]
fn unreserve_names_the_reservation_exactly() {
    let mut agent = AgentReservations::new();
    let a = info("eng", Some("alice"), Some("a"));
    agent
        .reserve(a.clone(), res("cpus:2").unreserved())
        .unwrap();
    let fw = framework(&["eng"], None);
    let offered = res("cpus:1;cpus(eng):2");
    let un =
        |r: Resource| check_unreserve(&Unreserve { resources: vec![r] }, cx(&fw, &offered, &agent));
    let c = un(cpus(1.5, Some(&a), "eng")).unwrap();
    assert_eq!((c.from, c.to), (res("cpus(eng):1.5"), res("cpus:1.5")));
    let e = un(cpus(
        1.0,
        Some(&info("eng", Some("alice"), Some("x"))),
        "eng",
    ))
    .unwrap_err();
    assert!(matches!(e, ReservationError::Unknown { .. }), "{e}");
    let e = un(cpus(1.0, None, "eng")).unwrap_err();
    assert!(matches!(e, ReservationError::NotDynamic { .. }), "{e}");
    let e = un(cpus(3.0, Some(&a), "eng")).unwrap_err();
    assert!(matches!(e, ReservationError::NotOffered { .. }), "{e}");
    agent.unreserve(&a, res("cpus:2").unreserved()).unwrap();
    assert!(agent.is_empty());
}

#[test]
fn reservations_round_trip_through_their_wire_form_with_identity() {
    let mut agent = AgentReservations::new();
    let a = info("eng", Some("alice"), Some("a"));
    agent
        .reserve(
            a.clone(),
            res("cpus:2;mem:512;ports:[31000-31009]").unreserved(),
        )
        .unwrap();
    agent
        .reserve(info("ops", None, None), res("mem:64").unreserved())
        .unwrap();
    let wire = agent.to_wire();
    assert!(wire.iter().all(|r| r.allocation_info.is_none()));
    assert!(
        wire.iter()
            .filter(|r| r.reservation_role() == Some("eng"))
            .all(|r| r.reservations == vec![a.clone()])
    );
    assert_eq!(AgentReservations::from_wire(&wire).unwrap(), agent);
    let offer = agent.render(&res("cpus(eng):1"), Some("eng"));
    assert_eq!(offer[0].reservations, vec![a]);
}

#[test]
fn the_overlay_moves_reserved_resources_out_of_the_reported_total_and_cuts_to_fit() {
    let mut agent = AgentReservations::new();
    agent
        .reserve(
            info("eng", None, None),
            res("cpus:2;ports:[31000-31009]").unreserved(),
        )
        .unwrap();
    let (total, cut) = agent.overlay(&res("cpus:4;mem:1024;ports:[31000-32000]"));
    assert!(!cut);
    assert_eq!(
        total,
        res("cpus:2;mem:1024;ports:[31010-32000];cpus(eng):2;ports(eng):[31000-31009]")
    );
    let (total, cut) = agent.overlay(&res("cpus:1;mem:1024;ports:[31005-31020]"));
    assert!(cut, "the agent shrank below its reservation");
    assert_eq!(
        total,
        res("mem:1024;ports:[31010-31020];cpus(eng):1;ports(eng):[31005-31009]")
    );
    assert_eq!(
        agent.resources(),
        res("cpus(eng):1;ports(eng):[31005-31009]")
    );
}
