//! `Registry`: round trips, removals, atomic batches, reopening, damaged
//! records and schema versions.

use corral_api::{AgentId, FrameworkId, TaskId};
use redb::ReadableDatabase;

use super::super::store::{EPOCH_KEY, META, META_NAME, SCHEMA_KEY, TASKS};
use super::super::{
    AgentState, FILE_NAME, Mutation, Registry, RegistryError, SCHEMA_VERSION, TaskRecord,
};
use super::{TempDir, agent, framework, quota, task};

fn everything() -> Vec<Mutation> {
    let mut gone = framework("fw-2");
    gone.failover_deadline = Some(1_700_000_100.0);
    let mut lost = agent("agent-2");
    lost.state = AgentState::Unreachable {
        since: 1_700_000_050.0,
    };
    // A dynamic reservation, principal and labels included, rides along.
    lost.reservations = vec![corral_api::v1::Resource::scalar("cpus", 2.0).reserved(
        corral_api::v1::ReservationInfo {
            principal: Some("alice".into()),
            labels: Some(corral_api::v1::Labels {
                labels: vec![corral_api::v1::Label {
                    key: "owner".into(),
                    value: Some("batch".into()),
                }],
            }),
            ..crate::convert::dynamic_for("eng")
        },
    )];
    vec![
        Mutation::from(framework("fw-1")),
        Mutation::from(gone),
        Mutation::from(agent("agent-1")),
        Mutation::from(lost),
        Mutation::from(task("fw-1", "t1", "agent-1")),
        Mutation::from(task("fw-2", "t2", "agent-2")),
        Mutation::PutWeight {
            role: "web".into(),
            weight: 2.5,
        },
        Mutation::PutQuota {
            role: "web".into(),
            quota: quota(4.0),
        },
    ]
}

#[test]
fn every_record_kind_round_trips() {
    let dir = TempDir::new("round-trip");
    let registry = Registry::open(dir.path()).unwrap();
    let batch = everything();
    registry.apply(&batch).unwrap();
    let snapshot = registry.load().unwrap();
    let put = |m: &Mutation| match m {
        Mutation::PutFramework(r) => Some((**r).clone()),
        _ => None,
    };
    assert_eq!(
        snapshot.frameworks,
        batch.iter().filter_map(put).collect::<Vec<_>>()
    );
    assert_eq!(
        snapshot.frameworks[1].failover_deadline,
        Some(1_700_000_100.0)
    );
    assert_eq!(snapshot.agents, [agent("agent-1"), batch_agent(&batch, 3)]);
    assert!(
        matches!(snapshot.agents[1].state, AgentState::Unreachable { since } if since == 1_700_000_050.0)
    );
    assert_eq!(
        snapshot.tasks,
        [task("fw-1", "t1", "agent-1"), task("fw-2", "t2", "agent-2")]
    );
    assert_eq!(snapshot.weights, [("web".to_owned(), 2.5)].into());
    assert_eq!(snapshot.quota, [("web".to_owned(), quota(4.0))].into());
    assert_eq!(snapshot.quota["web"].limits["mem"].value, f64::INFINITY);
    assert!(dir.path().join(FILE_NAME).is_file());
}

fn batch_agent(batch: &[Mutation], i: usize) -> super::super::AgentRecord {
    match &batch[i] {
        Mutation::PutAgent(r) => (**r).clone(),
        other => panic!("not an agent: {other:?}"),
    }
}

#[test]
fn task_records_keep_only_the_latest_status() {
    let record = task("fw", "t", "a");
    assert_eq!(record.task.statuses.len(), 1);
    assert_eq!(
        record.task.statuses[0].state,
        corral_api::v1::TaskState::Running
    );
    let empty = TaskRecord::new(corral_api::v1::Task::default());
    assert!(empty.task.statuses.is_empty());
}

#[test]
fn removals_and_framework_cascade() {
    let dir = TempDir::new("remove");
    let registry = Registry::open(dir.path()).unwrap();
    registry.apply(&everything()).unwrap();
    // "fw-1" is a prefix of "fw-10": the cascade must stop at its own tasks.
    registry
        .apply(&[
            Mutation::from(framework("fw-10")),
            Mutation::from(task("fw-1", "t3", "agent-1")),
            Mutation::from(task("fw-10", "t1", "agent-1")),
            Mutation::from(task("fw-0", "t1", "agent-1")),
        ])
        .unwrap();
    registry
        .apply(&[
            Mutation::RemoveFramework(FrameworkId::new("fw-1")),
            Mutation::RemoveAgent(AgentId::new("agent-2")),
            Mutation::RemoveTask(FrameworkId::new("fw-2"), TaskId::new("t2")),
            Mutation::RemoveWeight("web".into()),
            Mutation::RemoveQuota("web".into()),
            Mutation::RemoveAgent(AgentId::new("never-was")),
        ])
        .unwrap();
    let snapshot = registry.load().unwrap();
    let ids: Vec<_> = snapshot
        .frameworks
        .iter()
        .map(|f| f.id().unwrap().as_str())
        .collect();
    assert_eq!(ids, ["fw-10", "fw-2"]);
    assert_eq!(snapshot.agents, [agent("agent-1")]);
    let tasks: Vec<_> = snapshot.tasks.iter().map(|t| t.key()).collect();
    assert_eq!(
        tasks,
        [
            (&FrameworkId::new("fw-0"), &TaskId::new("t1")),
            (&FrameworkId::new("fw-10"), &TaskId::new("t1"))
        ]
    );
    assert!(snapshot.weights.is_empty() && snapshot.quota.is_empty());
}

#[test]
fn a_batch_with_an_invalid_mutation_changes_nothing() {
    let dir = TempDir::new("atomic");
    let registry = Registry::open(dir.path()).unwrap();
    registry.apply(&[Mutation::from(agent("agent-1"))]).unwrap();
    let before = registry.load().unwrap();
    let mut anonymous = framework("x");
    anonymous.info.id = None;
    let bad = [
        Mutation::from(anonymous),
        Mutation::from(task("fw-1", "", "agent-1")),
        Mutation::PutWeight {
            role: "web".into(),
            weight: f64::NAN,
        },
        Mutation::PutWeight {
            role: "web".into(),
            weight: 0.0,
        },
        Mutation::PutQuota {
            role: "web".into(),
            quota: quota(-1.0),
        },
        Mutation::RemoveQuota(String::new()),
    ];
    for bad in bad {
        let kind = bad.kind();
        let batch = [
            Mutation::from(agent("agent-2")),
            Mutation::RemoveAgent(AgentId::new("agent-1")),
            bad,
        ];
        let err = registry.apply(&batch).unwrap_err();
        assert!(
            matches!(&err, RegistryError::Invalid { mutation, .. } if *mutation == kind),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("invalid registry mutation {kind}: "))
        );
        assert_eq!(registry.load().unwrap(), before, "after {kind}");
    }
}

#[test]
fn reopening_recovers_everything_in_a_new_epoch() {
    let dir = TempDir::new("reopen");
    let (cluster, first) = {
        let registry = Registry::open(dir.path()).unwrap();
        assert_eq!(registry.epoch(), 1);
        registry.apply(&everything()).unwrap();
        (registry.cluster_id().to_owned(), registry.load().unwrap())
    };
    assert_eq!(cluster.len(), 36, "{cluster}");
    let registry = Registry::open(dir.path()).unwrap();
    assert_eq!(registry.epoch(), 2);
    assert_eq!(registry.cluster_id(), cluster);
    let second = registry.load().unwrap();
    assert_eq!((second.epoch, &second.cluster_id), (2, &cluster));
    assert_eq!(second.frameworks, first.frameworks);
    assert_eq!(second.agents, first.agents);
    assert_eq!(second.tasks, first.tasks);
    assert_eq!((second.weights, second.quota), (first.weights, first.quota));
    drop(registry);
    assert_eq!(Registry::open(dir.path()).unwrap().epoch(), 3);
    let other = TempDir::new("reopen-other");
    assert_ne!(Registry::open(other.path()).unwrap().cluster_id(), cluster);
}

#[test]
fn a_second_open_of_the_same_file_is_refused() {
    let dir = TempDir::new("locked");
    let _first = Registry::open(dir.path()).unwrap();
    let err = Registry::open(dir.path()).unwrap_err();
    assert!(matches!(err, RegistryError::Open { .. }), "{err}");
    assert!(err.to_string().contains("another master"), "{err}");
}

/// Writes raw bytes under a task key, as damage would.
fn damage_task(registry: &Registry, framework: &str, task: &str, bytes: &[u8]) {
    let txn = registry.db.begin_write().unwrap();
    txn.open_table(TASKS)
        .unwrap()
        .insert((framework, task), bytes)
        .unwrap();
    txn.commit().unwrap();
}

#[test]
fn a_damaged_record_is_an_error_naming_table_and_key() {
    let dir = TempDir::new("corrupt");
    let registry = Registry::open(dir.path()).unwrap();
    registry.apply(&everything()).unwrap();
    damage_task(&registry, "fw-1", "t9", b"{\"task\": {\"name\": 7");
    let err = registry.load().unwrap_err();
    let RegistryError::Corrupt { table, key, .. } = &err else {
        panic!("unexpected {err}");
    };
    assert_eq!((*table, key.as_str()), ("tasks", "\"fw-1/t9\""));
    let text = err.to_string();
    assert!(
        text.contains("record \"fw-1/t9\" in table `tasks` is unreadable"),
        "{text}"
    );
    assert!(
        text.contains(&registry.path().display().to_string()),
        "{text}"
    );

    // Well-formed JSON with a bad field: the reason names the field path.
    damage_task(&registry, "fw-1", "t9", br#"{"task": {"name": 7}}"#);
    let text = registry.load().unwrap_err().to_string();
    assert!(text.contains("'task.name'"), "{text}");

    // A record filed under another key.
    let moved = corral_api::json::to_vec(&task("fw-1", "t1", "agent-1")).unwrap();
    damage_task(&registry, "fw-1", "t9", &moved);
    let text = registry.load().unwrap_err().to_string();
    assert!(
        text.contains("\"fw-1/t9\"") && text.contains("it holds task fw-1/t1"),
        "{text}"
    );
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let dir = TempDir::new("schema");
    {
        let registry = Registry::open(dir.path()).unwrap();
        let txn = registry.db.begin_write().unwrap();
        let newer = (SCHEMA_VERSION + 1).to_le_bytes();
        txn.open_table(META)
            .unwrap()
            .insert(SCHEMA_KEY, newer.as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let err = Registry::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::NewerSchema {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("schema version 2, newer than version 1"),
        "{err}"
    );
    let db = redb::Database::open(dir.path().join(FILE_NAME)).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = txn.open_table(META).unwrap();
    let epoch = meta.get(EPOCH_KEY).unwrap().unwrap();
    assert_eq!(
        epoch.value(),
        1u64.to_le_bytes(),
        "the refused open bumped the epoch"
    );
    drop((epoch, meta, txn, db));

    // A damaged meta value is named too.
    let other = TempDir::new("schema-damaged");
    {
        let registry = Registry::open(other.path()).unwrap();
        let txn = registry.db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert(SCHEMA_KEY, b"x".as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let text = Registry::open(other.path()).unwrap_err().to_string();
    assert!(
        text.contains(&format!("record \"{SCHEMA_KEY}\" in table `{}`", META_NAME)),
        "{text}"
    );
}

#[test]
fn a_file_that_is_not_a_registry_is_refused() {
    let dir = TempDir::new("garbage");
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join(FILE_NAME), vec![0x5a; 8192]).unwrap();
    let err = Registry::open(dir.path()).unwrap_err();
    assert!(matches!(err, RegistryError::Open { .. }), "{err}");
    assert!(err.to_string().contains(FILE_NAME), "{err}");
}

#[test]
fn a_large_table_loads_in_order_and_reports_the_first_damage() {
    let dir = TempDir::new("large");
    let registry = Registry::open(dir.path()).unwrap();
    let batch: Vec<_> = (0..5000)
        .map(|i| Mutation::from(task("fw-1", &format!("t{i:05}"), "agent-1")))
        .collect();
    registry.apply(&batch).unwrap();
    let tasks = registry.load().unwrap().tasks;
    assert_eq!(tasks.len(), 5000);
    assert!(tasks.windows(2).all(|w| w[0].key() < w[1].key()));
    damage_task(&registry, "fw-1", "t04000", b"[]");
    damage_task(&registry, "fw-1", "t04500", b"[]");
    let err = registry.load().unwrap_err();
    assert!(
        matches!(&err, RegistryError::Corrupt { key, .. } if key == "\"fw-1/t04000\""),
        "{err}"
    );
}
