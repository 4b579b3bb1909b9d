//! What a simulated agent knows and decides, without any I/O: its tasks and
//! what their [`Behaviour`] makes them report, its queue of unacknowledged
//! updates, and the record of every event the master sent. Each event and
//! each clock tick returns the calls to send.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use corral_api::agent_link::{AgentCall, AgentEvent};
use corral_api::v1::{
    AgentInfo, ExecutorInfo, FrameworkInfo, Reason, Source, Task, TaskInfo, TaskState, TaskStatus,
};
use corral_api::{AgentId, Bytes, ExecutorId, TaskId};

use super::updates::{Backoff, TaskKey, UpdateQueue};

/// What happens to a launched task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// TASK_STARTING, TASK_RUNNING, then TASK_FINISHED `after` the launch.
    Finish {
        /// Run time.
        after: Duration,
    },
    /// TASK_STARTING, then TASK_FAILED (REASON_COMMAND_EXECUTOR_FAILED).
    Fail,
    /// TASK_STARTING, TASK_RUNNING; TASK_KILLED on KILL.
    RunUntilKilled,
    /// No update at all (TASK_KILLED on KILL).
    Never,
}

impl Behaviour {
    /// The behaviour a task's command asks for: `sim:finish SECONDS`,
    /// `sim:fail`, `sim:run`, `sim:never`; `None` for any other command.
    pub fn from_command(task: &TaskInfo) -> Option<Behaviour> {
        let cmd = task
            .command
            .as_ref()?
            .value
            .as_deref()?
            .strip_prefix("sim:")?;
        let mut words = cmd.split_whitespace();
        match (words.next()?, words.next()) {
            ("finish", secs) => {
                let secs: f64 = secs.unwrap_or("0").parse().ok()?;
                Some(Behaviour::Finish {
                    after: Duration::from_secs_f64(secs),
                })
            }
            ("fail", None) => Some(Behaviour::Fail),
            ("run", None) => Some(Behaviour::RunUntilKilled),
            ("never", None) => Some(Behaviour::Never),
            _ => None,
        }
    }
}

/// A task the agent was asked to run.
#[derive(Debug, Clone)]
pub struct SimTask {
    /// Its framework.
    pub framework: FrameworkInfo,
    /// As launched.
    pub info: TaskInfo,
    /// Its latest state (TASK_STAGING before the first update).
    pub state: TaskState,
    /// Its latest update.
    pub latest: Option<TaskStatus>,
    /// When a `Finish` task finishes.
    finish_at: Option<Instant>,
}

/// The agent's mind.
#[derive(Debug)]
pub struct Brain {
    /// What launched tasks do unless their command says otherwise.
    pub behaviour: Behaviour,
    /// The id from the latest SUBSCRIBED.
    pub agent_id: Option<AgentId>,
    /// Every task launched, by framework and id.
    pub tasks: BTreeMap<TaskKey, SimTask>,
    /// Unacknowledged updates.
    pub queue: UpdateQueue,
    /// Every event received except HEARTBEATs.
    pub events: Vec<AgentEvent>,
    /// Every task launched, in order.
    pub launched: Vec<TaskInfo>,
    /// Every ACKNOWLEDGE received: task and uuid.
    pub acked: Vec<(TaskId, Bytes)>,
    /// HEARTBEATs received.
    pub heartbeats: usize,
    /// Whether HEARTBEATs go unanswered.
    pub paused: bool,
}

impl Brain {
    /// A fresh agent.
    pub fn new(behaviour: Behaviour, backoff: Backoff) -> Brain {
        Brain {
            behaviour,
            agent_id: None,
            tasks: BTreeMap::new(),
            queue: UpdateQueue::new(backoff),
            events: Vec::new(),
            launched: Vec::new(),
            acked: Vec::new(),
            heartbeats: 0,
            paused: false,
        }
    }

    /// Handles one event from the master; returns the calls it needs
    /// answered right away (a heartbeat). Updates go through the queue.
    pub fn handle(&mut self, event: AgentEvent, now: Instant) -> Vec<AgentCall> {
        if event == AgentEvent::Heartbeat {
            self.heartbeats += 1;
            return if self.paused {
                vec![]
            } else {
                vec![AgentCall::Heartbeat]
            };
        }
        self.events.push(event.clone());
        match event {
            AgentEvent::Subscribed { agent_id, .. } => self.agent_id = Some(agent_id),
            AgentEvent::Launch { framework, task } => self.launch(*framework, *task, now),
            AgentEvent::LaunchGroup {
                framework,
                task_group,
                executor,
            } => {
                for mut task in task_group.tasks {
                    task.executor = Some((*executor).clone());
                    self.launch((*framework).clone(), task, now);
                }
            }
            AgentEvent::Kill {
                framework_id,
                task_id,
                ..
            } => self.kill(&(framework_id, task_id)),
            AgentEvent::ShutdownExecutor {
                framework_id,
                executor_id,
            } => {
                let of_executor = |t: &SimTask| executor_of(&t.info) == Some(&executor_id);
                self.kill_where(|key, t| key.0 == framework_id && of_executor(t));
            }
            AgentEvent::ShutdownFramework { framework_id } => {
                self.kill_where(|key, _| key.0 == framework_id);
            }
            // Recorded above; a simulated executor has nothing to do with it.
            AgentEvent::FrameworkMessage { .. } => {}
            AgentEvent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => {
                self.queue.ack(&(framework_id, task_id.clone()), &uuid);
                self.acked.push((task_id, uuid));
            }
            AgentEvent::Reconcile { tasks } => {
                for t in tasks {
                    let key = (t.framework_id, t.task_id);
                    if !self.tasks.contains_key(&key) {
                        let why = (Some(Reason::Reconciliation), "unknown to the agent");
                        self.update(key, TaskState::Dropped, why);
                    }
                }
                self.queue.resend_now();
            }
            AgentEvent::Heartbeat | AgentEvent::Error { .. } => {}
        }
        vec![]
    }

    fn launch(&mut self, framework: FrameworkInfo, task: TaskInfo, now: Instant) {
        let key = (
            framework.id.clone().unwrap_or_default(),
            task.task_id.clone(),
        );
        self.launched.push(task.clone());
        let behaviour = Behaviour::from_command(&task).unwrap_or(self.behaviour);
        let finish_at = match behaviour {
            Behaviour::Finish { after } => Some(now + after),
            _ => None,
        };
        let sim = SimTask {
            framework,
            info: task,
            state: TaskState::Staging,
            latest: None,
            finish_at,
        };
        self.tasks.insert(key.clone(), sim);
        let none = (None, "");
        match behaviour {
            Behaviour::Finish { .. } | Behaviour::RunUntilKilled => {
                self.update(key.clone(), TaskState::Starting, none);
                self.update(key, TaskState::Running, none);
            }
            Behaviour::Fail => {
                self.update(key.clone(), TaskState::Starting, none);
                let why = (Some(Reason::CommandExecutorFailed), "simulated failure");
                self.update(key, TaskState::Failed, why);
            }
            Behaviour::Never => {}
        }
    }

    fn kill(&mut self, key: &TaskKey) {
        match self.tasks.get(key).map(|t| t.state.is_terminal()) {
            Some(false) => self.update(key.clone(), TaskState::Killed, (None, "killed")),
            Some(true) => {}
            None => {
                let why = (Some(Reason::TaskUnknown), "unknown to the agent");
                self.update(key.clone(), TaskState::Dropped, why);
            }
        }
    }

    fn kill_where(&mut self, pred: impl Fn(&TaskKey, &SimTask) -> bool) {
        let keys: Vec<TaskKey> = self
            .tasks
            .iter()
            .filter(|(k, t)| pred(k, t))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.kill(&key);
        }
    }

    /// Queues a new update of `key` in `state` (fresh uuid, source
    /// SOURCE_EXECUTOR, agent id, timestamp) and records the state.
    pub fn update(&mut self, key: TaskKey, state: TaskState, why: (Option<Reason>, &str)) {
        let executor_id = self
            .tasks
            .get(&key)
            .and_then(|t| executor_of(&t.info).cloned());
        let status = TaskStatus {
            message: Some(why.1.to_owned()).filter(|m| !m.is_empty()),
            reason: why.0,
            source: Some(Source::Executor),
            agent_id: self.agent_id.clone(),
            executor_id,
            timestamp: Some(unix_now()),
            uuid: Some(random_uuid()),
            ..TaskStatus::new(key.1.clone(), state)
        };
        if let Some(task) = self.tasks.get_mut(&key) {
            task.state = state;
            task.latest = Some(status.clone());
            if state.is_terminal() {
                task.finish_at = None;
            }
        }
        self.queue.push(key, status);
    }

    /// Finishes the tasks due by `now` (their updates are queued). Runs
    /// while disconnected too: tasks go on without the master.
    pub fn advance(&mut self, now: Instant) {
        let due: Vec<TaskKey> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.finish_at.is_some_and(|at| at <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.update(key, TaskState::Finished, (None, "finished"));
        }
    }

    /// [`Brain::advance`], then the updates to send now.
    pub fn tick(&mut self, now: Instant) -> Vec<AgentCall> {
        self.advance(now);
        let update = |(framework_id, status)| AgentCall::Update {
            framework_id,
            status: Box::new(status),
        };
        self.queue.due(now).into_iter().map(update).collect()
    }

    /// When [`Brain::tick`] has work next.
    pub fn next_wake(&self) -> Option<Instant> {
        let finishes = self.tasks.values().filter_map(|t| t.finish_at);
        finishes.chain(self.queue.next_due()).min()
    }

    /// SUBSCRIBE with the agent's id (once it has one), its tasks that are
    /// running or have unacknowledged updates, their frameworks, and the
    /// executors of its live tasks (a simulated executor runs while one of
    /// its tasks does).
    pub fn subscribe_call(&self, mut agent_info: AgentInfo) -> AgentCall {
        agent_info.id = self.agent_id.clone();
        let mut tasks = Vec::new();
        let mut frameworks: Vec<FrameworkInfo> = Vec::new();
        let mut executors: Vec<ExecutorInfo> = Vec::new();
        for (key, t) in &self.tasks {
            if let Some(e) = t.info.executor.as_ref().filter(|_| !t.state.is_terminal()) {
                let e = ExecutorInfo {
                    framework_id: Some(key.0.clone()),
                    ..e.clone()
                };
                if !executors.contains(&e) {
                    executors.push(e);
                }
            }
            let pending = self.queue.pending(key);
            if t.state.is_terminal() && pending.is_empty() {
                continue;
            }
            if !frameworks.iter().any(|f| f.id == t.framework.id) {
                frameworks.push(t.framework.clone());
            }
            tasks.push(Task {
                name: t.info.name.clone(),
                task_id: key.1.clone(),
                framework_id: key.0.clone(),
                executor_id: executor_of(&t.info).cloned(),
                agent_id: self.agent_id.clone().unwrap_or_default(),
                state: t.state,
                resources: t.info.resources.clone(),
                statuses: t.latest.clone().into_iter().collect(),
                status_update_state: pending.first().map(|s| s.state),
                status_update_uuid: pending.first().and_then(|s| s.uuid.clone()),
                ..Task::default()
            });
        }
        AgentCall::Subscribe {
            agent_info: Box::new(agent_info),
            tasks,
            frameworks,
            executors,
        }
    }
}

fn executor_of(task: &TaskInfo) -> Option<&ExecutorId> {
    task.executor.as_ref().map(|e| &e.executor_id)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// 16 random bytes shaped as a version-4 UUID.
pub fn random_uuid() -> Bytes {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = RandomState::new().hash_one(n);
    let b = RandomState::new().hash_one((n, a, unix_now().to_bits()));
    let mut bytes = [a.to_le_bytes(), b.to_le_bytes()].concat();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Bytes::new(bytes)
}
