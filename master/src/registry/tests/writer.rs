//! `RegistryWriter`: group commit, order, failures of single mutations,
//! flush, shutdown and drop.

use corral_api::{AgentId, FrameworkId, TaskId};

use super::super::{Mutation, Registry, RegistryError, RegistryWriter};
use super::{TempDir, agent, block_on, framework, task};

#[test]
fn concurrent_submissions_share_few_commits() {
    let dir = TempDir::new("group");
    let writer = RegistryWriter::spawn(Registry::open(dir.path()).unwrap()).unwrap();
    let (threads, each) = (4, 500);
    std::thread::scope(|s| {
        for t in 0..threads {
            let writer = &writer;
            s.spawn(move || {
                let tickets: Vec<_> = (0..each)
                    .map(|i| {
                        let id = format!("t{t}-{i:04}");
                        writer.submit(Mutation::from(task("fw-1", &id, "agent-1")))
                    })
                    .collect();
                for ticket in tickets {
                    ticket.wait().unwrap();
                }
            });
        }
    });
    let stats = writer.stats();
    assert_eq!(stats.mutations, threads * each);
    // Every commit but the first few finds the queue full of what arrived
    // during the previous fsync.
    assert!(stats.commits < 50, "{stats:?}");
    assert!(stats.largest_batch > 100, "{stats:?}");
    let registry = writer.shutdown().unwrap();
    assert_eq!(registry.load().unwrap().tasks.len() as u64, threads * each);
}

#[test]
fn order_is_submission_order() {
    let dir = TempDir::new("order");
    let writer = RegistryWriter::spawn(Registry::open(dir.path()).unwrap()).unwrap();
    let fw = FrameworkId::new("fw-1");
    let tickets = vec![
        writer.submit(Mutation::from(task("fw-1", "gone", "agent-1"))),
        writer.submit(Mutation::RemoveTask(fw.clone(), TaskId::new("gone"))),
        writer.submit(Mutation::RemoveTask(fw.clone(), TaskId::new("back"))),
        writer.submit(Mutation::from(task("fw-1", "back", "agent-1"))),
        writer.submit(Mutation::from(agent("agent-1"))),
        writer.submit(Mutation::RemoveAgent(AgentId::new("agent-1"))),
        writer.submit(Mutation::from(framework("fw-2"))),
        writer.submit(Mutation::from(task("fw-2", "t", "agent-1"))),
        writer.submit(Mutation::RemoveFramework(FrameworkId::new("fw-2"))),
    ];
    for ticket in tickets {
        block_on(ticket).unwrap();
    }
    let snapshot = writer.shutdown().unwrap().load().unwrap();
    assert_eq!(snapshot.tasks, [task("fw-1", "back", "agent-1")]);
    assert!(snapshot.agents.is_empty() && snapshot.frameworks.is_empty());
}

#[test]
fn an_invalid_mutation_fails_alone() {
    let dir = TempDir::new("invalid");
    let writer = RegistryWriter::spawn(Registry::open(dir.path()).unwrap()).unwrap();
    let before = writer.submit(Mutation::from(agent("agent-1")));
    let mut anonymous = agent("x");
    anonymous.info.id = None;
    let bad = writer.submit_all(&[Mutation::from(agent("agent-3")), Mutation::from(anonymous)]);
    let after = writer.submit(Mutation::from(agent("agent-2")));
    let err = block_on(bad).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Invalid {
                mutation: "PutAgent",
                ..
            }
        ),
        "{err}"
    );
    block_on(before).unwrap();
    after.wait().unwrap();
    let ids: Vec<_> = (writer.shutdown().unwrap().load().unwrap().agents)
        .into_iter()
        .map(|a| a.info.id.unwrap().into_string())
        .collect();
    assert_eq!(ids, ["agent-1", "agent-2"]);
}

#[test]
fn submit_all_commits_together_and_flush_waits_for_earlier_work() {
    let dir = TempDir::new("flush");
    let writer = RegistryWriter::spawn(Registry::open(dir.path()).unwrap()).unwrap();
    block_on(writer.flush()).unwrap();
    assert_eq!(writer.stats().commits, 0, "an empty flush commits nothing");
    let group: Vec<_> = (0..3)
        .map(|i| Mutation::from(agent(&format!("agent-{i}"))))
        .collect();
    drop(writer.submit_all(&group));
    writer.flush().wait().unwrap();
    let stats = writer.stats();
    assert_eq!((stats.mutations, stats.commits), (3, 1), "{stats:?}");
    assert_eq!(writer.shutdown().unwrap().load().unwrap().agents.len(), 3);
}

#[test]
fn dropping_the_writer_commits_what_is_queued() {
    let dir = TempDir::new("drop");
    let registry = Registry::open(dir.path()).unwrap();
    let writer = RegistryWriter::spawn(registry).unwrap();
    let tickets: Vec<_> = (0..100)
        .map(|i| writer.submit(Mutation::from(task("fw-1", &format!("t{i}"), "a"))))
        .collect();
    drop(writer);
    for ticket in tickets {
        ticket.wait().unwrap();
    }
    let snapshot = Registry::open(dir.path()).unwrap().load().unwrap();
    assert_eq!(snapshot.tasks.len(), 100);
    assert_eq!(snapshot.epoch, 2);
}

#[test]
fn tickets_report_failed_commits_and_a_vanished_writer() {
    use super::super::ticket::Ticket;
    use std::sync::Arc;

    let (ticket, done) = Ticket::pending();
    drop(done);
    assert!(matches!(ticket.wait(), Err(RegistryError::WriterStopped)));

    let (ticket, done) = Ticket::pending();
    let cause = Arc::new(RegistryError::WriterStopped);
    std::thread::spawn(move || done.complete(Err(cause)));
    let err = block_on(ticket).unwrap_err();
    assert!(
        matches!(&err, RegistryError::Failed(c) if matches!(**c, RegistryError::WriterStopped))
    );
    assert!(
        err.to_string().starts_with("registry write failed: "),
        "{err}"
    );
}

#[test]
fn submit_task_stores_what_put_task_stores() {
    let dir = TempDir::new("submit-task");
    let writer = RegistryWriter::spawn(Registry::open(dir.path()).unwrap()).unwrap();
    // One status (as the master keeps them): encoded in place.
    let one = task("fw-1", "one", "agent-1");
    // Several: trimmed to the latest, as TaskRecord::new does.
    let mut many = task("fw-1", "many", "agent-1").task;
    many.statuses.insert(0, many.statuses[0].clone());
    many.statuses[0].state = corral_api::v1::TaskState::Staging;
    block_on(writer.submit_task(&one.task)).unwrap();
    block_on(writer.submit_task(&many)).unwrap();
    let mut empty = one.task.clone();
    empty.task_id = TaskId::new("");
    let refused = block_on(writer.submit_task(&empty)).unwrap_err();
    assert!(
        matches!(refused, RegistryError::Invalid { .. }),
        "{refused}"
    );
    let snapshot = writer.shutdown().unwrap().load().unwrap();
    assert_eq!(
        snapshot.tasks,
        [super::super::TaskRecord::new(many), one],
        "key order: many < one"
    );
}
