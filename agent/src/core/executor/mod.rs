//! Custom executors (Mesos' `ExecutorInfo` with a command): one OCI
//! container per (framework, executor id), its command run under the
//! built-in init, speaking the v1 executor API to the agent
//! (`/api/v1/executor`). Each of its tasks keeps a record folder and an
//! update stream of its own (as a command task's), so acknowledgements,
//! the subscription to the master and recovery treat them alike; the
//! container's limits are the executor's resources plus its live tasks'.
//!
//! - `mod.rs`: the state, launching tasks on an executor (starting it
//!   first), delivering or queueing them, live limits;
//! - `calls.rs`: SUBSCRIBE, UPDATE and MESSAGE from the executor;
//! - `life.rs`: its container's start and end, kills, shutdown, timeouts;
//! - `recover.rs`: taking executors back after an agent restart;
//! - `env.rs`: Mesos' executor environment.

mod calls;
mod env;
mod life;
mod recover;

pub use calls::CallReply;
pub use env::{EnvFacts, executor_env, mesos_duration};

use super::{Agent, Container, Input, Phase};
use crate::checkpoint;
use crate::containerizer::TaskRecord;
use crate::paths::ContainerId;
use corral_api::agent_link::AgentCall;
use corral_api::executor::Event;
use corral_api::v1::{
    ExecutorInfo, ExecutorType, FrameworkInfo, KillPolicy, Reason, Resource, Source, TaskGroupInfo,
    TaskInfo, TaskState, scalar_sum,
};
use corral_api::{AgentId, ExecutorId, FrameworkId, TaskId};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The executor settings of the agent's flags (Mesos' names).
#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    /// `--executor-registration-timeout`: a new executor must subscribe
    /// within it (Mesos: 1 min).
    pub registration_timeout: Duration,
    /// `--executor-reregistration-timeout`: after an agent restart, a
    /// running executor must subscribe again within it (Mesos: 2 s).
    pub reregistration_timeout: Duration,
    /// `--recovery-timeout`: how long an executor should keep trying to
    /// reach a restarting agent (its MESOS_RECOVERY_TIMEOUT; Mesos: 15 min).
    pub recovery_timeout: Duration,
    /// The host part of MESOS_AGENT_ENDPOINT.
    pub endpoint_host: String,
}

impl Default for ExecutorSettings {
    fn default() -> Self {
        ExecutorSettings {
            registration_timeout: Duration::from_secs(60),
            reregistration_timeout: Duration::from_secs(2),
            recovery_timeout: Duration::from_secs(15 * 60),
            endpoint_host: "127.0.0.1".into(),
        }
    }
}

/// What the agent checkpoints about a custom executor before launching it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutorRecord {
    pub container_id: ContainerId,
    pub agent_id: AgentId,
    pub framework: FrameworkInfo,
    pub executor: ExecutorInfo,
}

/// Why the agent ends an executor; its tasks' terminal state says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// It never subscribed in time.
    RegistrationTimeout,
    /// After an agent restart it did not subscribe again in time.
    ReregistrationTimeout,
    /// The framework (or the agent) shut it down.
    Shutdown,
}

/// Something for the executor once it subscribes.
#[derive(Debug, Clone)]
pub(crate) enum Queued {
    Task(Box<TaskInfo>),
    Group(TaskGroupInfo),
    Kill(TaskId, Option<KillPolicy>),
}

/// A custom executor on this agent.
#[derive(Debug)]
pub(crate) struct Executor {
    pub rec: ExecutorRecord,
    pub phase: Phase,
    /// Its event stream while subscribed.
    pub stream: Option<mpsc::UnboundedSender<Event>>,
    /// What waits for its subscription.
    pub queued: Vec<Queued>,
    /// Not subscribed by then: ended, for this reason.
    pub deadline: Option<(Instant, Ending)>,
    /// When its container is killed (cgroup.kill) after a SHUTDOWN.
    pub kill_at: Option<Instant>,
    pub ending: Option<Ending>,
    /// Killed over its disk quota: (used, limit) bytes.
    pub disk_exceeded: Option<(u64, u64)>,
    /// A task was ever sent to it (else, all its tasks killed before
    /// delivery, it is shut down: Mesos' MESOS-8411).
    pub sent_task: bool,
}

impl Executor {
    fn new(rec: ExecutorRecord, phase: Phase) -> Executor {
        Executor {
            rec,
            phase,
            stream: None,
            queued: Vec::new(),
            deadline: None,
            kill_at: None,
            ending: None,
            disk_exceeded: None,
            sent_task: false,
        }
    }

    /// Sends `event` if it is subscribed; false if not.
    pub fn send(&mut self, event: Event) -> bool {
        match &self.stream {
            Some(tx) if tx.send(event).is_ok() => true,
            _ => {
                self.stream = None;
                false
            }
        }
    }

    pub fn framework_id(&self) -> FrameworkId {
        self.rec.framework.id.clone().unwrap_or_default()
    }

    pub fn id(&self) -> &ExecutorId {
        &self.rec.executor.executor_id
    }
}

/// Whether a container record is one of `executor`'s tasks.
pub(crate) fn belongs(c: &Container, framework: &FrameworkId, executor: &ExecutorId) -> bool {
    c.rec.framework.id.as_ref() == Some(framework)
        && c.rec
            .task
            .executor
            .as_ref()
            .is_some_and(|e| &e.executor_id == executor)
}

impl Agent {
    /// The container of the executor running `c`'s task, if it has one.
    pub(crate) fn executor_container(&self, c: &Container) -> Option<&ContainerId> {
        let e = c.rec.task.executor.as_ref()?;
        let f = c.rec.framework.id.clone()?;
        self.executor_ids.get(&(f, e.executor_id.clone()))
    }

    /// The record ids of an executor's tasks not yet terminal.
    pub(crate) fn live_tasks(&self, cid: &ContainerId) -> Vec<ContainerId> {
        let Some(ex) = self.executors.get(cid) else {
            return Vec::new();
        };
        let (f, e) = (ex.framework_id(), ex.id().clone());
        self.containers
            .iter()
            .filter(|(_, c)| c.phase != Phase::Ended && belongs(c, &f, &e))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// LAUNCH of a task with an executor, or LAUNCH_GROUP: each task is
    /// recorded, then given to its executor (started first if it does not
    /// run), or queued until it subscribes.
    pub(in crate::core) fn launch_with_executor(
        &mut self,
        framework: FrameworkInfo,
        mut executor: ExecutorInfo,
        tasks: Vec<TaskInfo>,
        group: bool,
    ) {
        if executor.r#type == Some(ExecutorType::Default) && executor.command.is_none() {
            executor.command = Some(default_executor_command());
        }
        let Some(framework_id) = framework.id.clone() else {
            return;
        };
        let mut recorded = Vec::new();
        for mut t in tasks {
            t.executor = Some(executor.clone());
            if let Some((id, rec)) = self.record_task(framework.clone(), t) {
                recorded.push((id, rec.task));
            }
        }
        if recorded.is_empty() {
            return;
        }
        let key = (framework_id, executor.executor_id.clone());
        let running = self.executor_ids.get(&key).cloned();
        if let Err(why) = usable(&executor, group) {
            self.fail_tasks(&recorded, Reason::ContainerLaunchFailed, &why);
            if running.is_none() {
                self.never_ran(key);
            }
            return;
        }
        let cid = match running {
            Some(cid) => cid,
            None => match self.start_executor(framework, executor, &recorded) {
                Some(cid) => cid,
                None => {
                    let why = "the executor's record could not be checkpointed";
                    self.fail_tasks(&recorded, Reason::ContainerLaunchFailed, why);
                    return self.never_ran(key);
                }
            },
        };
        let ex = self.executors.get_mut(&cid).expect("indexed");
        if ex.ending.is_some() || matches!(ex.phase, Phase::Finishing | Phase::Ended) {
            let why = "the executor is shutting down";
            return self.fail_tasks(&recorded, Reason::ExecutorTerminated, why);
        }
        let tasks: Vec<TaskInfo> = recorded.into_iter().map(|(_, t)| t).collect();
        let queued = match group {
            true => vec![Queued::Group(TaskGroupInfo { tasks })],
            false => tasks
                .into_iter()
                .map(|t| Queued::Task(Box::new(t)))
                .collect(),
        };
        for q in queued {
            self.deliver(&cid, q);
        }
        self.resize_executor(&cid);
    }

    /// Sends `q` to the executor now, or keeps it for its subscription.
    pub(crate) fn deliver(&mut self, cid: &ContainerId, q: Queued) {
        let Some(ex) = self.executors.get_mut(cid) else {
            return;
        };
        if ex.stream.is_none() {
            ex.queued.push(q);
            return;
        }
        let event = match q.clone() {
            Queued::Task(t) => Event::launch(*t),
            Queued::Group(g) => Event::launch_group(g),
            Queued::Kill(t, k) => Event::kill(t, k),
        };
        if !matches!(q, Queued::Kill(..)) {
            ex.sent_task = true;
        }
        if !ex.send(event) {
            ex.queued.push(q);
        }
    }

    /// An executor the master charged for that never got a container:
    /// EXECUTOR_EXITED (status -1, as Mesos' agent reports an executor
    /// with no exit status) gives its resources back.
    pub(crate) fn never_ran(&mut self, (framework_id, executor_id): (FrameworkId, ExecutorId)) {
        self.send(
            AgentCall::ExecutorExited {
                framework_id,
                executor_id,
                status: -1,
            },
            None,
        );
    }

    /// New tasks that cannot run: each fails at once.
    fn fail_tasks(&mut self, tasks: &[(ContainerId, TaskInfo)], reason: Reason, why: &str) {
        for (id, _) in tasks {
            if let Some(c) = self.containers.get_mut(id) {
                c.phase = Phase::Ended;
            }
            self.status(id, TaskState::Failed, Source::Agent, |s| {
                s.reason = Some(reason);
                s.message = Some(why.to_string());
            });
        }
    }

    /// Records and launches the executor's container (off the async
    /// threads); its limits start at its resources plus `tasks`'.
    fn start_executor(
        &mut self,
        framework: FrameworkInfo,
        executor: ExecutorInfo,
        tasks: &[(ContainerId, TaskInfo)],
    ) -> Option<ContainerId> {
        let agent_id = self.info.id.clone()?;
        let cid = ContainerId::random();
        let rec = ExecutorRecord {
            container_id: cid.clone(),
            agent_id: agent_id.clone(),
            framework,
            executor,
        };
        let paths = self.containerizer.paths().clone();
        if let Err(e) = checkpoint::write_json(&paths.executor_json(&cid), &rec) {
            eprintln!(
                "corral agent: checkpointing executor {}: {e}",
                rec.executor.executor_id
            );
            return None;
        }
        let resources: Vec<Resource> = rec
            .executor
            .resources
            .iter()
            .chain(tasks.iter().flat_map(|(_, t)| t.resources.iter()))
            .cloned()
            .collect();
        let task = TaskInfo {
            name: rec.executor.name.clone().unwrap_or_default(),
            task_id: TaskId::new(rec.executor.executor_id.as_str()),
            agent_id: agent_id.clone(),
            resources,
            command: rec.executor.command.clone(),
            container: rec.executor.container.clone(),
            ..TaskInfo::default()
        };
        let container_rec = TaskRecord {
            container_id: cid.clone(),
            agent_id,
            framework: rec.framework.clone(),
            task,
        };
        let env = self.environment_of(&rec);
        let key = (
            rec.framework.id.clone().unwrap_or_default(),
            rec.executor.executor_id.clone(),
        );
        let mut ex = Executor::new(rec, Phase::Launching);
        let timeout = self.exec_settings.registration_timeout;
        ex.deadline = Some((Instant::now() + timeout, Ending::RegistrationTimeout));
        self.executors.insert(cid.clone(), ex);
        self.executor_ids.insert(key, cid.clone());
        let (cz, tx, slots, id) = (
            self.containerizer.clone(),
            self.tx.clone(),
            self.launches.clone(),
            cid.clone(),
        );
        tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return;
            };
            let result = tokio::task::spawn_blocking(move || {
                cz.launch_executor(&container_rec, &env)
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("the launch thread failed: {e}")));
            let _ = tx.send(Input::Launched { id, result }).await;
        });
        Some(cid)
    }

    /// Mesos' executor environment for `rec`.
    fn environment_of(&self, rec: &ExecutorRecord) -> Vec<String> {
        let endpoint = format!("{}:{}", self.exec_settings.endpoint_host, self.info.port);
        let directory = self.containerizer.paths().sandbox(&rec.container_id);
        executor_env(&EnvFacts {
            endpoint: &endpoint,
            directory: &directory.to_string_lossy(),
            checkpoint: rec.framework.checkpoint,
            shutdown_grace: self.shutdown_grace(&rec.executor),
            recovery_timeout: self.exec_settings.recovery_timeout,
            backoff_max: self.exec_settings.reregistration_timeout,
        })
    }

    /// The executor's own grace period, else the agent's.
    pub(crate) fn shutdown_grace(&self, e: &ExecutorInfo) -> Duration {
        e.shutdown_grace_period
            .and_then(corral_api::v1::DurationInfo::to_duration)
            .unwrap_or(self.kill_grace)
    }

    /// Sets the executor container's limits to its resources plus its
    /// live tasks' (off the async threads); nothing while it is not
    /// running.
    pub(crate) fn resize_executor(&self, cid: &ContainerId) {
        let Some(ex) = self.executors.get(cid) else {
            return;
        };
        if !matches!(ex.phase, Phase::Running(_)) {
            return;
        }
        let live = self.live_tasks(cid);
        let tasks = live
            .iter()
            .filter_map(|id| self.containers.get(id))
            .flat_map(|c| c.rec.task.resources.iter());
        let all: Vec<&Resource> = ex.rec.executor.resources.iter().chain(tasks).collect();
        let (cpus, mem) = (
            scalar_sum(all.iter().copied(), "cpus"),
            scalar_sum(all.iter().copied(), "mem"),
        );
        if cpus <= 0.0 || mem <= 0.0 {
            return;
        }
        let (cz, id) = (self.containerizer.clone(), cid.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = cz.resize(&id, cpus, mem) {
                eprintln!("corral agent: updating the limits of executor container {id}: {e}");
            }
        });
    }
}

/// The built-in default executor (`corral executor --default`), bound
/// into every container.
fn default_executor_command() -> corral_api::v1::CommandInfo {
    let path = crate::isolators::filesystem::EXECUTOR;
    corral_api::v1::CommandInfo::argv([path, "executor", "--default"])
}

/// Whether the agent can run `e`: an executor with a command (the DEFAULT
/// one only for task groups).
fn usable(e: &ExecutorInfo, group: bool) -> Result<(), String> {
    if e.r#type == Some(ExecutorType::Default) && !group {
        return Err("the DEFAULT executor runs task groups only (LAUNCH_GROUP)".into());
    }
    match &e.command {
        Some(c) if c.value.as_deref().is_some_and(|v| !v.is_empty()) => Ok(()),
        _ => Err(format!(
            "executor {} has no command to run (a CUSTOM executor needs one)",
            e.executor_id
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_api::v1::CommandInfo;

    #[test]
    fn only_executors_with_a_command_run() {
        let mut e = ExecutorInfo {
            executor_id: ExecutorId::new("e"),
            ..ExecutorInfo::default()
        };
        assert!(usable(&e, false).unwrap_err().contains("has no command"));
        e.command = Some(CommandInfo::shell("./run-executor"));
        assert_eq!(usable(&e, false), Ok(()));
        e.r#type = Some(ExecutorType::Custom);
        assert_eq!(usable(&e, false), Ok(()));
        e.r#type = Some(ExecutorType::Default);
        e.command = Some(default_executor_command());
        assert!(usable(&e, false).unwrap_err().contains("task groups only"));
        assert_eq!(usable(&e, true), Ok(()));
        let argv = crate::containerizer::command_argv(&default_executor_command(), None).unwrap();
        assert_eq!(
            argv,
            [
                crate::isolators::filesystem::EXECUTOR,
                "executor",
                "--default"
            ]
        );
    }
}
