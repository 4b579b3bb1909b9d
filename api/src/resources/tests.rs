//! Tests of resource parsing against Mesos' `Resources::parse` behaviour.

use super::*;
use crate::v1::{Ranges, Set};

#[test]
fn parses_the_text_form() {
    let rs = parse(
        "cpus:2;mem:1024;ports:[31000-32000];disk(role):10;zones:{a,b}",
        "*",
    )
    .unwrap();
    assert_eq!(rs.len(), 5);
    assert_eq!(rs[0], Resource::scalar("cpus", 2.0));
    assert_eq!(rs[1], Resource::scalar("mem", 1024.0));
    assert_eq!(
        rs[2],
        Resource::ranges("ports", Ranges::new([(31000, 32000)]))
    );
    assert_eq!(
        rs[3],
        Resource::scalar("disk", 10.0).reserved(ReservationInfo::static_for("role"))
    );
    assert_eq!(rs[3].reservation_role(), Some("role"));
    assert_eq!(rs[4].r#type, ValueType::Set);
    assert_eq!(
        rs[4].set,
        Some(Set {
            item: vec!["a".into(), "b".into()]
        })
    );
    assert!(rs[..3].iter().all(Resource::is_unreserved));
}

#[test]
fn spaces_empty_entries_default_role_and_star() {
    let rs = parse(" cpus : 1.5 ;; mem(*):64; gpus( gpu-role ):1", "web").unwrap();
    assert_eq!(rs[0].name, "cpus");
    assert_eq!(rs[0].scalar_value(), Some(1.5));
    assert_eq!(rs[0].reservation_role(), Some("web"));
    assert_eq!(rs[0].reservations[0].r#type, Some(ReservationType::Static));
    assert!(rs[1].is_unreserved());
    assert_eq!(rs[2].reservation_role(), Some("gpu-role"));
}

#[test]
fn same_kind_entries_merge() {
    let rs = parse(
        "cpus:1;cpus:2;ports:[1-5];ports:[6-9,20-30];cpus(r):4;s:{a};s:{a,b}",
        "*",
    )
    .unwrap();
    assert_eq!(rs.len(), 4);
    assert_eq!(rs[0].scalar_value(), Some(3.0));
    assert_eq!(rs[1].ranges, Some(Ranges::new([(1, 9), (20, 30)])));
    assert_eq!(rs[2].scalar_value(), Some(4.0));
    assert_eq!(
        rs[3].set,
        Some(Set {
            item: vec!["a".into(), "b".into()]
        })
    );
}

#[test]
fn malformed_text_is_rejected_with_the_entry() {
    let err = parse("cpus:2;mem", "*").unwrap_err();
    assert_eq!(
        err,
        ResourceError::BadToken {
            token: "mem".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "bad resource 'mem': expected name:value or name(role):value"
    );
    assert!(matches!(
        parse("a:b:c", "*"),
        Err(ResourceError::BadToken { .. })
    ));
    let err = parse("disk)role(:1", "*").unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad resource 'disk)role(:1': mismatched parentheses"
    );
    let err = parse("ports:[5-3]", "*").unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad value '[5-3]' for resource 'ports': range 5-3 ends before it begins"
    );
    let err = parse("cpus:lots", "*").unwrap_err();
    assert_eq!(
        err,
        ResourceError::TextValue {
            name: "cpus".into(),
            value: "lots".into()
        }
    );
    assert!(parse("cpus:-1", "*").is_err());
    assert!(matches!(
        parse(":1", "*"),
        Err(ResourceError::BadToken { .. })
    ));
    assert!(matches!(
        parse("(r):1", "*"),
        Err(ResourceError::Invalid { .. })
    ));
}

#[test]
fn mixed_types_for_one_name_are_rejected() {
    let err = parse("ports:[1-2];ports:3", "*").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid resource 'ports': the same name is used with different types"
    );
}

#[test]
fn parses_the_json_form() {
    let text = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":4}},
        {"name":"mem","type":"SCALAR","scalar":{"value":"2048"},"role":"db"},
        {"name":"disk","type":"SCALAR","scalar":{"value":100},
         "reservations":[{"type":"STATIC","role":"a"}]}]"#;
    let rs = parse(text, "dflt").unwrap();
    assert_eq!(rs[0].reservation_role(), Some("dflt"));
    assert_eq!(rs[0].role, None);
    assert_eq!(rs[1].reservation_role(), Some("db"));
    assert_eq!(rs[1].reservations[0].r#type, Some(ReservationType::Static));
    assert_eq!(rs[2].reservations, vec![ReservationInfo::static_for("a")]);
    let rs = parse(
        r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]"#,
        "*",
    )
    .unwrap();
    assert!(rs[0].is_unreserved());
}

#[test]
fn json_form_is_validated() {
    let neg = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]"#;
    assert_eq!(
        parse(neg, "*").unwrap_err().to_string(),
        "invalid resource 'cpus': scalar value < 0"
    );
    let no_value = r#"[{"name":"cpus","type":"SCALAR"}]"#;
    assert!(matches!(
        parse(no_value, "*"),
        Err(ResourceError::Invalid { .. })
    ));
    let overlap = r#"[{"name":"ports","type":"RANGES",
        "ranges":{"range":[{"begin":1,"end":10},{"begin":5,"end":20}]}}]"#;
    assert_eq!(
        parse(overlap, "*").unwrap_err().to_string(),
        "invalid resource 'ports': overlapping ranges"
    );
    let dynamic = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},
        "reservations":[{"type":"DYNAMIC","role":"a"}]}]"#;
    assert!(
        parse(dynamic, "*")
            .unwrap_err()
            .to_string()
            .contains("dynamic reservations")
    );
    let revocable = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":{}}]"#;
    assert!(
        parse(revocable, "*")
            .unwrap_err()
            .to_string()
            .contains("revocable")
    );
    let bad = parse(r#"[{"name":"cpus"}]"#, "*").unwrap_err();
    assert!(matches!(bad, ResourceError::Json(_)), "{bad:?}");
    assert!(bad.to_string().contains("missing field `type`"), "{bad}");
}

#[test]
fn value_of_round_trips_text_values() {
    let rs = parse("ports:[1-5,10-20];cpus:0.5", "*").unwrap();
    assert_eq!(value_of(&rs[0]).to_string(), "[1-5, 10-20]");
    assert_eq!(value_of(&rs[1]).to_string(), "0.5");
}
