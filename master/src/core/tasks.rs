//! Tasks after launch: status updates from agents (forwarded to the
//! framework, resources recovered on a terminal state), acknowledgements
//! (relayed to the agent; a terminal one ends the task's record), updates
//! the master makes itself, KILL, and reconciliation (explicit and
//! implicit) as Mesos answers it.

use super::{CallError, Master};
use corral_api::agent_link::AgentEvent;
use corral_api::scheduler::{Acknowledge, Event, Kill, ReconcileTask};
use corral_api::v1::{Reason, TaskState, TaskStatus};
use corral_api::{AgentId, FrameworkId, TaskId};
use std::time::Instant;

type Key = (FrameworkId, TaskId);

impl Master {
    /// An agent's update: recorded, forwarded with its uuid (the framework
    /// acknowledges it; the agent resends until then).
    pub(super) fn agent_update(
        &mut self,
        agent: &AgentId,
        framework: FrameworkId,
        mut status: TaskStatus,
        now: Instant,
    ) -> Result<(), CallError> {
        if status.uuid.is_none() {
            return Err(CallError::bad_request("a status update needs a uuid"));
        }
        status.agent_id = Some(agent.clone());
        let known = self
            .tasks
            .get(&(framework.clone(), status.task_id.clone()))
            .is_some_and(|e| &e.task.agent_id == agent);
        if !known {
            return Err(CallError::bad_request(format!(
                "task '{}' of framework '{framework}' is not known on agent '{agent}'",
                status.task_id
            )));
        }
        let key = (framework.clone(), status.task_id.clone());
        if let Some(e) = self.tasks.get_mut(&key) {
            e.task.status_update_state = Some(status.state);
            e.task.status_update_uuid = status.uuid.clone();
        }
        self.set_state(&key, status.clone());
        self.recover_if_terminal(&key, now);
        self.to_framework(&framework, &Event::update(status));
        Ok(())
    }

    /// Records `status` as the task's latest, and in the registry unless
    /// the task is only starting: TASK_STARTING is transient (between the
    /// launch, recorded as TASK_STAGING, and TASK_RUNNING, recorded), Mesos
    /// executors need not send it, and a master that restarts in between
    /// answers TASK_STAGING until the agent reregisters with the truth.
    /// Skipping it saves a third of the registry's work per launch.
    pub(crate) fn set_state(&mut self, key: &Key, status: TaskStatus) {
        let starting = status.state == TaskState::Starting;
        if let Some(e) = self.tasks.get_mut(key) {
            e.task.state = status.state;
            e.task.statuses = vec![status];
        }
        if !starting {
            self.persist_task(key);
        }
    }

    fn recover_if_terminal(&mut self, key: &Key, now: Instant) {
        let Some(e) = self.tasks.get_mut(key) else {
            return;
        };
        if !e.task.state.is_terminal() || e.recovered {
            return;
        }
        e.recovered = true;
        let (agent, role, res) = (e.task.agent_id.clone(), e.role.clone(), e.resources.clone());
        self.recover(&key.0, &agent, &role, &res, None, now);
    }

    /// An update made by the master (no uuid, nothing to acknowledge): a
    /// terminal one ends the task's record at once.
    pub(crate) fn master_update(&mut self, key: &Key, status: TaskStatus, now: Instant) {
        self.set_state(key, status.clone());
        self.recover_if_terminal(key, now);
        if status.state.is_terminal() {
            self.forget_task(key);
        }
        self.to_framework(&key.0, &Event::update(status));
    }

    pub(crate) fn forget_task(&mut self, key: &Key) {
        self.unpersist_task(key);
        if let Some(e) = self.tasks.remove(key)
            && let Some(a) = self.agents.get_mut(&e.task.agent_id)
        {
            a.tasks.remove(key);
        }
    }

    pub(super) fn acknowledge(
        &mut self,
        framework: &FrameworkId,
        ack: Acknowledge,
    ) -> Result<(), CallError> {
        let key = (framework.clone(), ack.task_id.clone());
        if let Some(e) = self.tasks.get(&key) {
            if e.task.agent_id != ack.agent_id {
                return Err(CallError::bad_request(format!(
                    "task '{}' runs on agent '{}', not '{}'",
                    ack.task_id, e.task.agent_id, ack.agent_id
                )));
            }
            let terminal_acked =
                e.task.state.is_terminal() && e.task.status_update_uuid.as_ref() == Some(&ack.uuid);
            if terminal_acked {
                self.forget_task(&key);
            }
        }
        // Relayed even for tasks the master forgot: the agent keeps
        // resending until it hears.
        self.to_agent(
            &ack.agent_id,
            &AgentEvent::Acknowledge {
                framework_id: framework.clone(),
                task_id: ack.task_id,
                uuid: ack.uuid,
            },
        );
        Ok(())
    }

    pub(super) fn kill(&mut self, framework: &FrameworkId, kill: Kill, now: Instant) {
        let key = (framework.clone(), kill.task_id.clone());
        match self.tasks.get(&key) {
            Some(e) => {
                let agent = e.task.agent_id.clone();
                let sent = self.to_agent(
                    &agent,
                    &AgentEvent::Kill {
                        framework_id: framework.clone(),
                        task_id: kill.task_id,
                        kill_policy: kill.kill_policy,
                    },
                );
                if !sent {
                    // Mesos keeps the kill pending until the agent is back;
                    // the agent's reconciliation on return settles it.
                }
            }
            None => {
                let aware = self
                    .frameworks
                    .get(framework)
                    .is_some_and(|f| f.partition_aware());
                let state = if aware {
                    TaskState::Unknown
                } else {
                    TaskState::Lost
                };
                let status = Master::master_status(
                    &kill.task_id,
                    kill.agent_id.as_ref(),
                    state,
                    Reason::Reconciliation,
                    "attempted to kill an unknown task",
                );
                self.to_framework(framework, &Event::update(status));
                let _ = now;
            }
        }
    }

    /// RECONCILE: the latest state of the named tasks, or of all the
    /// framework's tasks when none are named.
    pub(super) fn reconcile(&mut self, framework: &FrameworkId, tasks: Vec<ReconcileTask>) {
        let mut out = Vec::new();
        if tasks.is_empty() {
            for ((f, _), e) in &self.tasks {
                if f == framework {
                    out.push(self.reconciled(e));
                }
            }
        } else {
            for t in tasks {
                let key = (framework.clone(), t.task_id.clone());
                match self.tasks.get(&key) {
                    Some(e) => out.push(self.reconciled(e)),
                    None => out.push(self.unknown_task(framework, &t)),
                }
            }
        }
        for s in out {
            self.to_framework(framework, &Event::update(s));
        }
    }

    fn reconciled(&self, e: &super::TaskEntry) -> TaskStatus {
        let mut s = e
            .task
            .statuses
            .last()
            .cloned()
            .unwrap_or_else(|| TaskStatus::new(e.task.task_id.clone(), e.task.state));
        s.uuid = None;
        s.source = Some(corral_api::v1::Source::Master);
        s.reason = Some(Reason::Reconciliation);
        s.agent_id = Some(e.task.agent_id.clone());
        s
    }

    /// Mesos' answers for a task the master does not know.
    fn unknown_task(&self, framework: &FrameworkId, t: &ReconcileTask) -> TaskStatus {
        let aware = self
            .frameworks
            .get(framework)
            .is_some_and(|f| f.partition_aware());
        let agent = t.agent_id.as_ref().and_then(|a| self.agents.get(a));
        let state = match (aware, agent.map(|a| a.link)) {
            (false, _) => TaskState::Lost,
            (true, Some(super::Link::Unreachable)) => TaskState::Unreachable,
            (true, Some(_)) => TaskState::Unknown,
            (true, None) if t.agent_id.is_some() => TaskState::Gone,
            (true, None) => TaskState::Unknown,
        };
        Master::master_status(
            &t.task_id,
            t.agent_id.as_ref(),
            state,
            Reason::Reconciliation,
            "reconciliation: the master does not know this task",
        )
    }
}
