//! Agents over the agent link: subscribe (new, or back with its id and the
//! tasks it runs), calls (heartbeat, status update, resources), the loss of
//! its stream, and silence past the ping timeout: unreachable, its tasks
//! TASK_UNREACHABLE (partition-aware frameworks) or TASK_LOST. On return
//! its tasks are reconciled against what it reports.

use super::{Agent, CallError, Link, Master, Stream, Subscription};
use crate::allocator::{Allocator, Used};
use crate::convert;
use corral_api::agent_link::{AgentCall, AgentEvent};
use corral_api::scheduler::Event;
use corral_api::v1::{AgentInfo, ExecutorInfo, Reason, Task, TaskState};
use corral_api::{AgentId, FrameworkId, TaskId};
use std::time::Instant;

impl Master {
    pub(super) fn agent_subscribe(
        &mut self,
        mut info: AgentInfo,
        tasks: Vec<Task>,
        executors: Vec<ExecutorInfo>,
        now: Instant,
    ) -> Result<Subscription, CallError> {
        let executors = self.reported_executors(executors);
        let total = convert::to_alloc(&info.resources)
            .map_err(|e| CallError::bad_request(format!("agent_info.resources: {e}")))?;
        let (stream, records) = Stream::open();
        let stream_id = stream.id.clone();
        let id = match info.id.clone() {
            Some(id) if self.agents.contains_key(&id) => {
                self.agent_returns(&id, info, tasks, executors, stream, now)?;
                id
            }
            known => {
                let id = known.unwrap_or_else(|| AgentId::new(self.next_id("S")));
                info.id = Some(id.clone());
                let keys: std::collections::HashSet<_> = tasks
                    .iter()
                    .map(|t| (t.framework_id.clone(), t.task_id.clone()))
                    .collect();
                let mut used = self.adopt_tasks(&id, tasks);
                used.extend(self.executors_used(&executors));
                let key = self
                    .allocator
                    .add_agent(&total, &used)
                    .map_err(|e| CallError::bad_request(e.to_string()))?;
                self.agent_keys.insert(key, id.clone());
                let tasks = keys
                    .into_iter()
                    .filter(|k| self.tasks.get(k).is_some_and(|t| t.task.agent_id == id))
                    .collect();
                self.agents.insert(
                    id.clone(),
                    Agent {
                        info,
                        key,
                        stream: Some(stream),
                        link: Link::Connected,
                        last_heard: now,
                        next_heartbeat: now + self.config.agent_ping_timeout,
                        tasks,
                        lost_tasks: Default::default(),
                        offers: Default::default(),
                        registered_at: Master::wall_now(),
                        reservations: Default::default(),
                        usage: Vec::new(),
                        executors,
                    },
                );
                id
            }
        };
        let hello = AgentEvent::Subscribed {
            agent_id: id.clone(),
            heartbeat_interval_seconds: self.config.agent_ping_timeout.as_secs_f64(),
        };
        self.to_agent(&id, &hello);
        self.request_allocation();
        let durable = self.persist_agent(&id);
        let closed = super::Closed::Agent(id, stream_id.clone());
        Ok(Subscription {
            stream_id,
            records,
            closed,
            durable,
        })
    }

    /// Tasks a (re)subscribing agent reports that the master does not know
    /// (after a master restart): tracked again; their resources as used.
    fn adopt_tasks(&mut self, agent: &AgentId, tasks: Vec<Task>) -> Vec<Used> {
        let mut used = Vec::new();
        for mut task in tasks {
            task.agent_id = agent.clone();
            let key = (task.framework_id.clone(), task.task_id.clone());
            let Some(f) = self.frameworks.get(&task.framework_id) else {
                continue; // Its framework is gone: the agent is told below.
            };
            let role = convert::allocated_role(&task.resources, Some(&f.info));
            let resources = convert::to_alloc(&task.resources).unwrap_or_default();
            if !task.state.is_terminal() {
                used.push(Used {
                    framework: f.key,
                    role: role.clone(),
                    resources: resources.clone(),
                });
            }
            let recovered = task.state.is_terminal();
            self.tasks.entry(key.clone()).or_insert(super::TaskEntry {
                task,
                role,
                resources,
                recovered,
            });
            self.persist_task(&key);
        }
        used
    }

    /// A known agent subscribes again: new stream, reachable, and its
    /// tasks reconciled with what it reports.
    fn agent_returns(
        &mut self,
        id: &AgentId,
        info: AgentInfo,
        reported: Vec<Task>,
        executors: super::executors::Executors,
        stream: Stream,
        now: Instant,
    ) -> Result<(), CallError> {
        let was = self.agents[id].link;
        let reported_keys: std::collections::HashSet<(FrameworkId, TaskId)> = reported
            .iter()
            .map(|t| (t.framework_id.clone(), t.task_id.clone()))
            .collect();
        // Known here, unknown there: the agent lost them.
        let known: Vec<_> = self.agents[id].tasks.iter().cloned().collect();
        for key in known {
            if !reported_keys.contains(&key) {
                let status = Master::master_status(
                    &key.1,
                    Some(id),
                    TaskState::Lost,
                    Reason::AgentReregistered,
                    "the agent came back without this task",
                );
                self.master_update(&key, status, now);
            }
        }
        for task in reported {
            let key = (task.framework_id.clone(), task.task_id.clone());
            let partition_aware = self
                .frameworks
                .get(&task.framework_id)
                .is_some_and(|f| f.partition_aware());
            match self.tasks.get(&key) {
                Some(_) if was == Link::Unreachable && partition_aware => {
                    // Back from unreachable: the framework learns it runs.
                    let mut status = task.statuses.last().cloned().unwrap_or_else(|| {
                        corral_api::v1::TaskStatus::new(task.task_id.clone(), task.state)
                    });
                    status.uuid = None;
                    status.agent_id = Some(id.clone());
                    status.reason = Some(Reason::AgentReregistered);
                    status.source = Some(corral_api::v1::Source::Master);
                    self.set_state(&key, status.clone());
                    self.to_framework(&key.0, &Event::update(status));
                }
                Some(known) if known.task.state != task.state && !task.state.is_terminal() => {
                    // The agent holds the truth (a restarted master may have
                    // lost its last writes): take its state, quietly.
                    if let Some(latest) = task.statuses.last().cloned() {
                        self.set_state(&key, latest);
                    }
                }
                Some(_) => {}
                None if self.agents[id].lost_tasks.contains(&key)
                    || !self.frameworks.contains_key(&key.0) =>
                {
                    // Reported lost while unreachable, or its framework is
                    // gone: a task nobody tracks is killed.
                    self.kill_later(id, &key);
                }
                None => {
                    // The registry lost it (a crash right after launch): the
                    // agent's word is taken.
                    self.adopt_tasks(id, vec![task]);
                    if let Some(a) = self.agents.get_mut(id) {
                        a.tasks.insert(key);
                    }
                }
            }
        }
        let a = self.agents.get_mut(id).expect("checked by the caller");
        a.info = AgentInfo {
            id: Some(id.clone()),
            ..info
        };
        a.stream = Some(stream);
        a.link = Link::Connected;
        a.last_heard = now;
        a.lost_tasks.clear();
        a.executors = executors;
        self.readmit(id)
    }

    /// Rebuilds a returning agent in the allocator from its reported total
    /// and the tasks it runs now (its filters go with the old entry).
    fn readmit(&mut self, id: &AgentId) -> Result<(), CallError> {
        let a = self.agents.get_mut(id).expect("checked by the caller");
        // A cut reservation is persisted with the agent once it is back.
        let (total, _cut) = a
            .total()
            .map_err(|e| CallError::bad_request(format!("agent_info.resources: {e}")))?;
        let a = &self.agents[id];
        let mut used: Vec<Used> = a
            .tasks
            .iter()
            .filter_map(|k| {
                let t = self.tasks.get(k)?;
                let f = self.frameworks.get(&k.0)?;
                (!t.recovered).then(|| Used {
                    framework: f.key,
                    role: t.role.clone(),
                    resources: t.resources.clone(),
                })
            })
            .collect();
        used.extend(self.executors_used(&a.executors));
        let old = a.key;
        let _ = self.allocator.remove_agent(old);
        self.agent_keys.remove(&old);
        let key = self
            .allocator
            .add_agent(&total, &used)
            .map_err(|e| CallError::bad_request(format!("re-admitting agent '{id}': {e}")))?;
        self.agent_keys.insert(key, id.clone());
        if let Some(a) = self.agents.get_mut(id) {
            a.key = key;
        }
        Ok(())
    }

    /// Kills a task the master no longer tracks, once the link is up.
    fn kill_later(&mut self, id: &AgentId, key: &(FrameworkId, TaskId)) {
        // The new stream is installed after this returns; queue on it then.
        self.pending_kills.push((id.clone(), key.clone()));
    }

    pub(super) fn agent_call(
        &mut self,
        id: &AgentId,
        stream_id: Option<&str>,
        call: AgentCall,
        now: Instant,
    ) -> Result<(), CallError> {
        let a = self
            .agents
            .get_mut(id)
            .ok_or_else(|| CallError::bad_request(format!("agent '{id}' is not subscribed")))?;
        match (&a.stream, stream_id) {
            (Some(s), Some(given)) if s.id == given => {}
            (None, _) => {
                return Err(CallError::forbidden(format!(
                    "agent '{id}' is not connected"
                )));
            }
            _ => {
                return Err(CallError::bad_request(
                    "the Mesos-Stream-Id header is missing or not this agent's stream",
                ));
            }
        }
        a.last_heard = now;
        match call {
            AgentCall::Subscribe { .. } => Err(CallError::bad_request(
                "SUBSCRIBE opens a new link: send it without a stream id",
            )),
            AgentCall::Heartbeat => Ok(()),
            AgentCall::Update {
                framework_id,
                status,
            } => self.agent_update(id, framework_id, *status, now),
            AgentCall::ExecutorMessage {
                framework_id,
                executor_id,
                data,
            } => {
                let event = corral_api::scheduler::Event::message(id.clone(), executor_id, data);
                self.to_framework(&framework_id, &event);
                Ok(())
            }
            AgentCall::ExecutorExited {
                framework_id,
                executor_id,
                status,
            } => {
                self.executor_exited(id, &framework_id, &executor_id, now);
                let event = corral_api::scheduler::Event::failure(
                    Some(id.clone()),
                    Some(executor_id),
                    Some(status),
                );
                self.to_framework(&framework_id, &event);
                Ok(())
            }
            AgentCall::Resources { total } => {
                let res = convert::to_alloc(&total)
                    .map_err(|e| CallError::bad_request(format!("total: {e}")))?;
                let mut reservations = a.reservations.clone();
                let (res, cut) = reservations.overlay(&res);
                self.allocator
                    .update_agent(a.key, &res)
                    .map_err(|e| CallError::bad_request(e.to_string()))?;
                a.info.resources = total;
                a.reservations = reservations;
                if cut {
                    self.persist_agent(id);
                }
                Ok(())
            }
            AgentCall::Usage { containers } => {
                a.usage = containers;
                Ok(())
            }
        }
    }

    pub(super) fn agent_disconnected(&mut self, id: &AgentId, stream: &str, now: Instant) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        if a.stream.as_ref().is_none_or(|s| s.id != stream) {
            return;
        }
        a.stream = None;
        a.link = Link::Disconnected;
        let key = a.key;
        let offers: Vec<_> = a.offers.iter().cloned().collect();
        let _ = self.allocator.deactivate_agent(key);
        for o in offers {
            self.rescind(&o, now, true);
        }
    }

    /// Agents silent past the limit become unreachable.
    pub(super) fn check_agents(&mut self, now: Instant) {
        for (agent, key) in std::mem::take(&mut self.pending_kills) {
            self.to_agent(
                &agent,
                &AgentEvent::Kill {
                    framework_id: key.0,
                    task_id: key.1,
                    kill_policy: None,
                },
            );
        }
        let limit = self.config.agent_silence_limit();
        let silent: Vec<AgentId> = self
            .agents
            .iter()
            .filter(|(_, a)| {
                a.link != Link::Unreachable && now.duration_since(a.last_heard) > limit
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in silent {
            self.agent_unreachable(&id, now);
        }
    }

    fn agent_unreachable(&mut self, id: &AgentId, now: Instant) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        a.link = Link::Unreachable;
        // Stale from now on: it comes back with the agent's next report.
        a.usage.clear();
        let id_owned = id.clone();
        if let Some(s) = a.stream.take() {
            s.send(&AgentEvent::Error {
                message: "no heartbeat within the ping timeout: agent marked unreachable".into(),
            });
        }
        let key = a.key;
        let offers: Vec<_> = a.offers.iter().cloned().collect();
        let tasks: Vec<_> = a.tasks.iter().cloned().collect();
        let _ = self.allocator.deactivate_agent(key);
        self.persist_agent(&id_owned);
        for o in offers {
            self.rescind(&o, now, true);
        }
        for t in tasks {
            let aware = self
                .frameworks
                .get(&t.0)
                .is_some_and(|f| f.partition_aware());
            let state = if aware {
                TaskState::Unreachable
            } else {
                if let Some(a) = self.agents.get_mut(id) {
                    a.lost_tasks.insert(t.clone());
                }
                TaskState::Lost
            };
            let mut status = Master::master_status(
                &t.1,
                Some(id),
                state,
                Reason::AgentRemoved,
                "the agent is unreachable",
            );
            status.unreachable_time = Some(corral_api::v1::TimeInfo {
                nanoseconds: (Master::wall_now() * 1e9) as i64,
            });
            self.master_update(&t, status, now);
        }
    }
}
