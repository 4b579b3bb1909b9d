//! Registry tests: the store (round trips, atomic batches, reopening,
//! damaged records, schema versions) and the group-commit writer. Each test
//! works in its own folder under the system temp dir, removed afterwards.

mod store;
mod writer;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use corral_api::v1::{
    AgentInfo, Attribute, FrameworkCapabilityType, FrameworkInfo, Label, Labels, Range, Ranges,
    Resource, Scalar, Task, TaskState, TaskStatus, Value,
};
use corral_api::{AgentId, FrameworkId, TaskId};

use super::{AgentRecord, FrameworkRecord, QuotaRecord, TaskRecord};

/// A scratch folder, removed on drop.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("corral-registry-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn framework(id: &str) -> FrameworkRecord {
    let mut info = FrameworkInfo::new("alice", format!("framework {id}"));
    info.id = Some(FrameworkId::new(id));
    info.roles = vec!["web".into(), "batch".into()];
    info.capabilities = vec![FrameworkCapabilityType::MultiRole.into()];
    info.failover_timeout = 604_800.0;
    info.checkpoint = true;
    FrameworkRecord::new(info, 1_700_000_000.25)
}

pub(super) fn agent(id: &str) -> AgentRecord {
    let info = AgentInfo {
        hostname: format!("{id}.example.com"),
        id: Some(AgentId::new(id)),
        resources: vec![
            Resource::scalar("cpus", 8.0),
            Resource::scalar("mem", 32_768.0),
            Resource::ranges(
                "ports",
                Ranges {
                    range: vec![Range {
                        begin: 31_000,
                        end: 32_000,
                    }],
                },
            ),
        ],
        attributes: vec![Attribute::new("rack", Value::text("r1"))],
        ..AgentInfo::default()
    };
    AgentRecord::new(info, 1_700_000_001.5)
}

pub(super) fn task(framework: &str, id: &str, agent: &str) -> TaskRecord {
    let statuses = [TaskState::Staging, TaskState::Starting, TaskState::Running]
        .into_iter()
        .enumerate()
        .map(|(i, state)| TaskStatus {
            timestamp: Some(1_700_000_010.0 + i as f64),
            ..TaskStatus::new(TaskId::new(id), state)
        })
        .collect();
    TaskRecord::new(Task {
        name: format!("task {id}"),
        task_id: TaskId::new(id),
        framework_id: FrameworkId::new(framework),
        agent_id: AgentId::new(agent),
        state: TaskState::Running,
        resources: vec![Resource::scalar("cpus", 0.5).allocated_to("web")],
        statuses,
        labels: Some(Labels {
            labels: vec![Label::new("tier", "frontend")],
        }),
        ..Task::default()
    })
}

pub(super) fn quota(cpus: f64) -> QuotaRecord {
    QuotaRecord {
        guarantees: [("cpus".to_owned(), Scalar::new(cpus))].into(),
        limits: [("mem".to_owned(), Scalar::new(f64::INFINITY))].into(),
    }
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread.
pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
