//! The master's state in its registry: every change to a framework, an
//! agent or a task is submitted to the group-committing writer in the order
//! it happens, and a restarted master rebuilds itself from the snapshot.
//!
//! Subscriptions wait for their write (the HTTP answer is held until the
//! ticket resolves), so a framework or agent is never told an id the
//! registry could lose. Task changes are not waited for: a crash can lose
//! the last few milliseconds of them, and agents, which hold the truth,
//! report their tasks when they subscribe again.

use super::{Agent, Framework, Link, Master, TaskEntry};
use crate::allocator::{Allocator, Capabilities, FrameworkSpec, Used};
use crate::convert;
use crate::registry::{AgentRecord, AgentState, FrameworkRecord, Mutation, Snapshot, Ticket};
use crate::reservation::AgentReservations;
use corral_api::v1::FrameworkCapabilityType;
use corral_api::{AgentId, FrameworkId, TaskId};
use std::time::{Duration, Instant};

impl Master {
    fn submit(&self, m: Mutation) -> Option<Ticket> {
        self.registry.as_ref().map(|w| w.submit(m))
    }

    pub(crate) fn persist_framework(&self, id: &FrameworkId) -> Option<Ticket> {
        let f = self.frameworks.get(id)?;
        let deadline = f.failover_deadline.map(|d| {
            Master::wall_now() + d.saturating_duration_since(Instant::now()).as_secs_f64()
        });
        self.submit(Mutation::PutFramework(Box::new(FrameworkRecord {
            info: f.info.clone(),
            registered_at: f.registered_at,
            failover_deadline: deadline,
        })))
    }

    pub(crate) fn unpersist_framework(&self, id: &FrameworkId) {
        self.submit(Mutation::RemoveFramework(id.clone()));
    }

    pub(crate) fn persist_agent(&self, id: &AgentId) -> Option<Ticket> {
        let a = self.agents.get(id)?;
        let state = match a.link {
            Link::Unreachable => AgentState::Unreachable {
                since: Master::wall_now(),
            },
            _ => AgentState::Registered,
        };
        self.submit(Mutation::PutAgent(Box::new(AgentRecord {
            info: a.info.clone(),
            state,
            registered_at: a.registered_at,
            reservations: a.reservations.to_wire(),
        })))
    }

    pub(crate) fn persist_task(&self, key: &(FrameworkId, TaskId)) {
        if let (Some(e), Some(w)) = (self.tasks.get(key), &self.registry) {
            // Not waited for (see the module doc).
            drop(w.submit_task(&e.task));
        }
    }

    pub(crate) fn unpersist_task(&self, key: &(FrameworkId, TaskId)) {
        self.submit(Mutation::RemoveTask(key.0.clone(), key.1.clone()));
    }

    /// Rebuilds the state of a restarted master: frameworks wait for their
    /// schedulers (their failover timeouts run again from now), agents for
    /// their links (unreachable if silent too long), tasks as recorded.
    pub fn recover_from(&mut self, snapshot: Snapshot, now: Instant) {
        for r in snapshot.frameworks {
            let Some(id) = r.info.id.clone() else {
                continue;
            };
            let spec = FrameworkSpec {
                roles: r.info.effective_roles(),
                suppressed_roles: Vec::new(),
                capabilities: Capabilities {
                    gpu_resources: r.info.has_capability(FrameworkCapabilityType::GpuResources),
                },
                active: false,
            };
            let Ok(key) = self.allocator.add_framework(&spec) else {
                continue;
            };
            let timeout = Duration::try_from_secs_f64(r.info.failover_timeout.max(0.0))
                .unwrap_or(Duration::MAX / 4);
            self.framework_keys.insert(key, id.clone());
            self.frameworks.insert(
                id,
                Framework {
                    info: r.info,
                    key,
                    stream: None,
                    failover_deadline: Some(now + timeout),
                    next_heartbeat: now,
                    offers: Default::default(),
                    registered_at: r.registered_at,
                },
            );
        }
        for r in snapshot.tasks {
            let task = r.task;
            let key = (task.framework_id.clone(), task.task_id.clone());
            let role = convert::allocated_role(&task.resources, None);
            let resources = convert::to_alloc(&task.resources).unwrap_or_default();
            let recovered = task.state.is_terminal();
            self.tasks.insert(
                key,
                TaskEntry {
                    task,
                    role,
                    resources,
                    recovered,
                },
            );
        }
        let mut by_agent: std::collections::HashMap<AgentId, Vec<(FrameworkId, TaskId)>> =
            std::collections::HashMap::new();
        for (k, e) in &self.tasks {
            by_agent
                .entry(e.task.agent_id.clone())
                .or_default()
                .push(k.clone());
        }
        for r in snapshot.agents {
            let keys = r
                .info
                .id
                .as_ref()
                .and_then(|id| by_agent.remove(id))
                .unwrap_or_default();
            self.recover_agent(r, keys, now);
        }
    }

    fn recover_agent(&mut self, r: AgentRecord, keys: Vec<(FrameworkId, TaskId)>, now: Instant) {
        let Some(id) = r.info.id.clone() else { return };
        let Ok(reported) = convert::to_alloc(&r.info.resources) else {
            return;
        };
        let mut reservations = AgentReservations::from_wire(&r.reservations).unwrap_or_else(|e| {
            eprintln!("corral master: agent '{id}': its recorded reservations are dropped: {e}");
            AgentReservations::new()
        });
        let (total, _) = reservations.overlay(&reported);
        let mut used = Vec::new();
        let mut tasks = std::collections::HashSet::new();
        for k in keys {
            let Some(e) = self.tasks.get(&k) else {
                continue;
            };
            tasks.insert(k.clone());
            if let (false, Some(f)) = (e.recovered, self.frameworks.get(&k.0)) {
                used.push(Used {
                    framework: f.key,
                    role: e.role.clone(),
                    resources: e.resources.clone(),
                });
            }
        }
        let Ok(key) = self.allocator.add_agent(&total, &used) else {
            return;
        };
        let _ = self.allocator.deactivate_agent(key);
        let link = match r.state {
            AgentState::Unreachable { .. } => Link::Unreachable,
            AgentState::Registered => Link::Disconnected,
        };
        self.agent_keys.insert(key, id.clone());
        self.agents.insert(
            id,
            Agent {
                info: r.info,
                key,
                stream: None,
                link,
                last_heard: now,
                next_heartbeat: now,
                tasks,
                lost_tasks: Default::default(),
                offers: Default::default(),
                registered_at: r.registered_at,
                reservations,
                usage: Vec::new(),
                executors: Default::default(),
            },
        );
    }
}
