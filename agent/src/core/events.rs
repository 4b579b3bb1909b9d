//! The master's side of things: the subscription (what the agent reports
//! when it subscribes, its id once given) and each event on the link.

use super::{Agent, Phase};
use crate::checkpoint;
use crate::link::LinkInput;
use corral_api::agent_link::{AgentCall, AgentEvent};
use corral_api::v1::{ExecutorInfo, FrameworkInfo, Task, TaskState};

impl Agent {
    pub(super) fn on_link(&mut self, input: LinkInput) {
        match input {
            LinkInput::WantSubscribe(reply) => {
                let _ = reply.send(self.subscribe_call());
            }
            LinkInput::Up { stream_id } => {
                self.stream_id = Some(stream_id);
            }
            LinkInput::Event(e) => self.on_event(*e),
            LinkInput::Down(why) => {
                if self.stream_id.take().is_some() {
                    eprintln!("corral agent: lost the link to the master: {why}; reconnecting");
                    self.service.link_down(&why);
                }
            }
        }
    }

    /// SUBSCRIBE with the agent's id (if it has one) and every task it
    /// has not finished reporting, with its latest state.
    fn subscribe_call(&self) -> AgentCall {
        let mut tasks = Vec::new();
        let mut frameworks: Vec<FrameworkInfo> = Vec::new();
        for (id, c) in &self.containers {
            if self.updates.done(id) {
                continue;
            }
            let latest = self.updates.latest(id);
            let unacked = latest.filter(|_| self.updates.pending(id) > 0);
            let framework_id = c.rec.framework.id.clone().unwrap_or_default();
            tasks.push(Task {
                name: c.rec.task.name.clone(),
                task_id: c.rec.task.task_id.clone(),
                framework_id,
                executor_id: c.rec.task.executor.as_ref().map(|e| e.executor_id.clone()),
                agent_id: c.rec.agent_id.clone(),
                state: latest.map_or(TaskState::Staging, |s| s.state),
                resources: c.rec.task.resources.clone(),
                statuses: latest.cloned().into_iter().collect(),
                status_update_state: unacked.map(|s| s.state),
                status_update_uuid: unacked.and_then(|s| s.uuid.clone()),
                ..Task::default()
            });
            if !frameworks.iter().any(|f| f.id == c.rec.framework.id) {
                frameworks.push(c.rec.framework.clone());
            }
        }
        let executors = self
            .executors
            .values()
            .filter(|ex| ex.phase != Phase::Ended)
            .map(|ex| ExecutorInfo {
                framework_id: ex.rec.framework.id.clone(),
                ..ex.rec.executor.clone()
            })
            .collect();
        AgentCall::Subscribe {
            agent_info: Box::new(self.info.clone()),
            tasks,
            frameworks,
            executors,
        }
    }

    fn on_event(&mut self, event: AgentEvent) {
        match event {
            AgentEvent::Subscribed { agent_id, .. } => {
                if self.info.id.as_ref() != Some(&agent_id) {
                    let path = self.containerizer.paths().agent_json();
                    if let Err(e) = checkpoint::write_json(&path, &agent_id) {
                        eprintln!("corral agent: checkpointing the agent id: {e}");
                    }
                    self.info.id = Some(agent_id);
                }
                let live = self.containers.len();
                if let Some(id) = &self.info.id {
                    self.service.subscribed(id.as_str(), live);
                }
                self.updates.resend_now();
            }
            AgentEvent::Launch { framework, task } => self.launch(*framework, *task),
            AgentEvent::LaunchGroup {
                framework,
                executor,
                task_group,
            } => self.launch_with_executor(*framework, *executor, task_group.tasks, true),
            AgentEvent::Kill {
                framework_id,
                task_id,
                kill_policy,
            } => {
                let key = (framework_id, task_id);
                if let Some(id) = self.custom_executor_task(&key) {
                    return self.kill_executor_task(&id, kill_policy);
                }
                let grace = kill_policy
                    .and_then(|k| k.grace_period)
                    .and_then(corral_api::v1::DurationInfo::to_duration);
                self.kill_task(&key, grace);
            }
            AgentEvent::ShutdownExecutor {
                framework_id,
                executor_id,
            } => {
                let key = (framework_id, executor_id);
                if let Some(cid) = self.executor_ids.get(&key).cloned() {
                    return self.shutdown_executor(&cid);
                }
                // The command executor's id is its task's.
                let task_id = corral_api::TaskId::new(key.1.as_str());
                self.kill_task(&(key.0, task_id), None);
            }
            AgentEvent::ShutdownFramework { framework_id } => {
                let keys: Vec<_> = self
                    .tasks
                    .keys()
                    .filter(|k| k.0 == framework_id && self.custom_executor_task(k).is_none())
                    .cloned()
                    .collect();
                for k in keys {
                    self.kill_task(&k, None);
                }
                self.shutdown_executors_of(&framework_id);
            }
            AgentEvent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => {
                if let Some(id) = self.tasks.get(&(framework_id, task_id)).cloned() {
                    self.on_ack(&id, &uuid);
                }
            }
            AgentEvent::Reconcile { .. } => self.updates.resend_now(),
            AgentEvent::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            } => self.framework_message(framework_id, executor_id, data),
            AgentEvent::Heartbeat => self.send(AgentCall::Heartbeat, None),
            AgentEvent::Error { message } => {
                eprintln!("corral agent: the master ended the link: {message}");
            }
        }
    }

    /// The record of a task that runs on a custom executor.
    fn custom_executor_task(
        &self,
        key: &(corral_api::FrameworkId, corral_api::TaskId),
    ) -> Option<crate::paths::ContainerId> {
        let id = self.tasks.get(key)?;
        let c = self.containers.get(id)?;
        c.rec.task.executor.is_some().then(|| id.clone())
    }

    /// An acknowledgement: once a task's terminal update is acknowledged,
    /// its records go (the sandbox stays).
    pub(super) fn on_ack(&mut self, id: &crate::paths::ContainerId, uuid: &corral_api::Bytes) {
        if let Err(e) = self.updates.ack(id, uuid) {
            eprintln!("corral agent: checkpointing an acknowledgement: {e}");
            return;
        }
        let ended = self
            .containers
            .get(id)
            .is_some_and(|c| c.phase == Phase::Ended);
        if ended && self.updates.done(id) {
            self.forget(id);
        }
    }
}
