use super::*;
use corral_api::TaskId;
use corral_api::v1::TaskState;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("corral-status-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn status(state: TaskState) -> TaskStatus {
    TaskStatus::new(TaskId::new("t"), state)
}

fn quick() -> Backoff {
    Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(4),
    }
}

#[test]
fn updates_go_in_order_one_at_a_time_and_resend_with_backoff() {
    let d = scratch("order");
    let id = ContainerId::random();
    let mut m = UpdateManager::new(quick());
    m.open(&id, FrameworkId::new("f"), d.join("log")).unwrap();
    let a = m.update(&id, status(TaskState::Starting)).unwrap();
    let b = m.update(&id, status(TaskState::Running)).unwrap();
    assert_ne!(a.uuid, b.uuid);
    let t0 = Instant::now();
    let due = m.due(t0);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].1.state, TaskState::Starting);
    assert!(m.due(t0 + Duration::from_millis(500)).is_empty());
    assert_eq!(m.due(t0 + Duration::from_secs(1)).len(), 1);
    // The wait doubled: 2 s after the resend.
    assert!(m.due(t0 + Duration::from_secs(2)).is_empty());
    assert!(
        !m.ack(&id, b.uuid.as_ref().unwrap()).unwrap(),
        "not the head"
    );
    assert!(m.ack(&id, a.uuid.as_ref().unwrap()).unwrap());
    let due = m.due(t0 + Duration::from_secs(2));
    assert_eq!(due[0].1.state, TaskState::Running, "next is due at once");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_replayed_log_keeps_what_was_not_acknowledged() {
    let d = scratch("replay");
    let id = ContainerId::random();
    let mut m = UpdateManager::new(quick());
    m.open(&id, FrameworkId::new("f"), d.join("log")).unwrap();
    let a = m.update(&id, status(TaskState::Running)).unwrap();
    m.ack(&id, a.uuid.as_ref().unwrap()).unwrap();
    let b = m.update(&id, status(TaskState::Finished)).unwrap();
    drop(m);

    let mut again = UpdateManager::new(quick());
    again
        .open(&id, FrameworkId::new("f"), d.join("log"))
        .unwrap();
    assert_eq!(again.pending(&id), 1);
    assert_eq!(
        again.latest(&id).map(|s| s.state),
        Some(TaskState::Finished)
    );
    let due = again.due(Instant::now());
    assert_eq!(due[0].1.uuid, b.uuid, "the same update, not a new one");
    assert!(!again.done(&id));
    again.ack(&id, b.uuid.as_ref().unwrap()).unwrap();
    assert!(again.done(&id));

    let mut third = UpdateManager::new(quick());
    third
        .open(&id, FrameworkId::new("f"), d.join("log"))
        .unwrap();
    assert!(third.done(&id));
    assert!(third.due(Instant::now()).is_empty());
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn an_executors_uuid_is_kept_and_remembered_across_a_replay() {
    let d = scratch("as-sent");
    let id = ContainerId::random();
    let mut m = UpdateManager::new(quick());
    m.open(&id, FrameworkId::new("f"), d.join("log")).unwrap();
    let mut s = status(TaskState::Running);
    let uuid = Bytes(vec![7; 16]);
    s.uuid = Some(uuid.clone());
    let sent = m.update_as_sent(&id, s).unwrap();
    assert_eq!(sent.uuid.as_ref(), Some(&uuid));
    assert!(m.seen(&id, &uuid) && !m.seen(&id, &Bytes(vec![8; 16])));
    assert!(m.ack(&id, &uuid).unwrap());
    // Acknowledged and replayed: still known, so a resend is a duplicate.
    let mut again = UpdateManager::new(quick());
    again
        .open(&id, FrameworkId::new("f"), d.join("log"))
        .unwrap();
    assert!(again.seen(&id, &uuid));
    assert_eq!(again.pending(&id), 0);
    let _ = std::fs::remove_dir_all(&d);
}
