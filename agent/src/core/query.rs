//! Questions the HTTP side asks the loop: the agent's description and its
//! containers. Usage is read by the HTTP side itself, from the cgroups.

use super::{Agent, Phase};
use crate::paths::ContainerId;
use corral_api::v1::{AgentInfo, TaskState};
use corral_api::{FrameworkId, TaskId};
use tokio::sync::oneshot;

/// A question for the loop.
#[derive(Debug)]
pub enum Query {
    /// The agent's info (id, hostname, resources, attributes) and the
    /// controllers tasks can have.
    Agent(oneshot::Sender<(AgentInfo, Vec<String>)>),
    /// The live containers.
    Containers(oneshot::Sender<Vec<ContainerView>>),
}

/// One container as the operator API shows it.
#[derive(Debug, Clone)]
pub struct ContainerView {
    pub container_id: ContainerId,
    pub framework_id: FrameworkId,
    pub task_id: TaskId,
    pub name: String,
    /// The init's host pid while it runs.
    pub pid: Option<i32>,
    /// The latest state reported.
    pub state: Option<TaskState>,
    /// The tasks it runs (a command task: itself; an executor: its live
    /// tasks).
    pub tasks: Vec<TaskId>,
    /// cpus, mem and disk asked for.
    pub cpus: f64,
    pub mem_mib: f64,
    pub disk_mib: f64,
}

impl Agent {
    /// Custom executors' containers, named by their executor ids.
    fn executor_views(&self) -> Vec<ContainerView> {
        self.executors
            .iter()
            .filter(|(_, e)| e.phase != Phase::Ended)
            .map(|(id, e)| {
                let live = self.live_tasks(id);
                let tasks = live
                    .iter()
                    .filter_map(|t| self.containers.get(t))
                    .flat_map(|c| c.rec.task.resources.iter());
                let all: Vec<_> = e.rec.executor.resources.iter().chain(tasks).collect();
                ContainerView {
                    container_id: id.clone(),
                    framework_id: e.framework_id(),
                    task_id: TaskId::new(e.id().as_str()),
                    name: e.rec.executor.name.clone().unwrap_or_default(),
                    pid: match e.phase {
                        Phase::Running(s) => Some(s.pid),
                        _ => None,
                    },
                    state: None,
                    tasks: live
                        .iter()
                        .filter_map(|t| self.containers.get(t))
                        .map(|c| c.rec.task.task_id.clone())
                        .collect(),
                    cpus: corral_api::v1::scalar_sum(all.iter().copied(), "cpus"),
                    mem_mib: corral_api::v1::scalar_sum(all.iter().copied(), "mem"),
                    disk_mib: corral_api::v1::scalar_sum(all.iter().copied(), "disk"),
                }
            })
            .collect()
    }

    pub(super) fn on_query(&self, q: Query) {
        match q {
            Query::Agent(reply) => {
                let _ = reply.send((self.info.clone(), self.controllers.clone()));
            }
            Query::Containers(reply) => {
                let views = self
                    .containers
                    .iter()
                    .filter(|(_, c)| c.phase != Phase::Ended && c.rec.task.executor.is_none())
                    .map(|(id, c)| ContainerView {
                        container_id: id.clone(),
                        framework_id: c.rec.framework.id.clone().unwrap_or_default(),
                        task_id: c.rec.task.task_id.clone(),
                        name: c.rec.task.name.clone(),
                        pid: match c.phase {
                            Phase::Running(s) => Some(s.pid),
                            _ => None,
                        },
                        state: self.updates.latest(id).map(|s| s.state),
                        tasks: vec![c.rec.task.task_id.clone()],
                        cpus: corral_api::v1::scalar_sum(&c.rec.task.resources, "cpus"),
                        mem_mib: corral_api::v1::scalar_sum(&c.rec.task.resources, "mem"),
                        disk_mib: corral_api::v1::scalar_sum(&c.rec.task.resources, "disk"),
                    })
                    .collect::<Vec<_>>();
                let mut views = views;
                views.extend(self.executor_views());
                let _ = reply.send(views);
            }
        }
    }
}
