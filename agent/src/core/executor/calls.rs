//! The executor's calls, as Mesos' agent takes them: the caller must be a
//! framework and executor the agent runs (400 otherwise) and not being
//! shut down (403). SUBSCRIBE opens its event stream (closing any earlier
//! one): SUBSCRIBED, then its unacknowledged updates are taken as UPDATEs
//! and what was queued for it is sent. UPDATE is checkpointed into the
//! task's update stream with the executor's uuid, then ACKNOWLEDGED to
//! the executor (the agent now owns it); a uuid already logged is only
//! acknowledged again. MESSAGE goes to the master for the scheduler.

use super::{Queued, belongs};
use crate::core::{Agent, Phase};
use crate::paths::ContainerId;
use corral_api::agent_link::AgentCall;
use corral_api::executor::{Call, CallType, Event, Subscribed};
use corral_api::v1::{ContainerStatus, TaskStatus};
use std::collections::HashSet;
use tokio::sync::mpsc;

/// The loop's answer to a call: for SUBSCRIBE the event stream; an
/// error is an HTTP status and its message.
pub type CallReply = Result<Option<mpsc::UnboundedReceiver<Event>>, (u16, String)>;

impl Agent {
    /// A call that passed [`Call::validate`].
    pub(in crate::core) fn on_executor_call(&mut self, call: Call) -> CallReply {
        let framework_id = call.framework_id.clone().unwrap_or_default();
        let executor_id = call.executor_id.clone().unwrap_or_default();
        let key = (framework_id.clone(), executor_id.clone());
        let Some(cid) = self.executor_ids.get(&key).cloned() else {
            let known = self.executor_ids.keys().any(|(f, _)| f == &framework_id);
            return Err((
                400,
                match known {
                    true => format!(
                        "executor '{executor_id}' of framework '{framework_id}' is not running on this agent"
                    ),
                    false => format!("framework '{framework_id}' has no executor on this agent"),
                },
            ));
        };
        let ex = &self.executors[&cid];
        if ex.ending.is_some() || matches!(ex.phase, Phase::Finishing | Phase::Ended) {
            return Err((403, format!("executor '{executor_id}' is terminating")));
        }
        match call.r#type {
            Some(CallType::Subscribe) => {
                let sub = call.subscribe.unwrap_or_default();
                Ok(Some(self.executor_subscribe(&cid, sub)))
            }
            Some(CallType::Update) => {
                let status = call.update.map(|u| u.status).unwrap_or_default();
                self.executor_update(&cid, status);
                Ok(None)
            }
            Some(CallType::Message) => {
                let data = call.message.map(|m| m.data).unwrap_or_default();
                self.send(
                    AgentCall::ExecutorMessage {
                        framework_id,
                        executor_id,
                        data,
                    },
                    None,
                );
                Ok(None)
            }
            _ => Err((400, "expecting 'type' to be present".into())),
        }
    }

    fn executor_subscribe(
        &mut self,
        cid: &ContainerId,
        sub: corral_api::executor::Subscribe,
    ) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        let info = self.info.clone();
        let ex = self.executors.get_mut(cid).expect("checked");
        // An earlier stream ends when its sender goes.
        ex.stream = Some(tx);
        ex.deadline = None;
        ex.send(Event::subscribed(Subscribed {
            executor_info: ex.rec.executor.clone(),
            framework_info: ex.rec.framework.clone(),
            agent_info: info,
            container_id: Some(corral_api::ContainerId::new(cid.as_str())),
        }));
        for u in sub.unacknowledged_updates {
            self.executor_update(cid, u.status);
        }
        // Tasks it holds need not be sent again (after an agent restart,
        // its tasks with no update yet are queued again).
        let held: HashSet<_> = sub
            .unacknowledged_tasks
            .iter()
            .map(|t| t.task_id.clone())
            .collect();
        let ex = self.executors.get_mut(cid).expect("checked");
        let queued: Vec<Queued> = std::mem::take(&mut ex.queued)
            .into_iter()
            .filter(|q| !matches!(q, Queued::Task(t) if held.contains(&t.task_id)))
            .collect();
        if !held.is_empty() {
            ex.sent_task = true;
        }
        for q in queued {
            self.deliver(cid, q);
        }
        rx
    }

    /// An update from the executor of `cid`.
    fn executor_update(&mut self, cid: &ContainerId, mut status: TaskStatus) {
        let ex = &self.executors[cid];
        let (framework_id, executor_id) = (ex.framework_id(), ex.id().clone());
        let key = (framework_id.clone(), status.task_id.clone());
        let task = status.task_id.clone();
        let uuid = status.uuid.clone().unwrap_or_default();
        let Some(id) = self
            .tasks
            .get(&key)
            .filter(|id| {
                self.containers
                    .get(*id)
                    .is_some_and(|c| belongs(c, &framework_id, &executor_id))
            })
            .cloned()
        else {
            eprintln!(
                "corral agent: executor {executor_id} of framework {framework_id} sent an update of task {task}, which is not one of its tasks; dropped"
            );
            return;
        };
        let ended = self.containers[&id].phase == Phase::Ended;
        if !self.updates.seen(&id, &uuid) && !ended {
            status.agent_id = self.info.id.clone();
            status.executor_id = Some(executor_id.clone());
            let mut cs = status.container_status.take().unwrap_or_default();
            cs.container_id = Some(corral_api::ContainerId::new(cid.as_str()));
            status.container_status = Some(ContainerStatus { ..cs });
            let terminal = status.state.is_terminal();
            if let Err(e) = self.updates.update_as_sent(&id, status) {
                // Not acknowledged: the executor sends it again.
                eprintln!("corral agent: checkpointing an update of task {task}: {e}");
                return;
            }
            if terminal {
                if let Some(c) = self.containers.get_mut(&id) {
                    c.phase = Phase::Ended;
                }
                self.resize_executor(cid);
            }
        }
        if let Some(ex) = self.executors.get_mut(cid) {
            ex.send(Event::acknowledged(task, uuid));
        }
    }
}
