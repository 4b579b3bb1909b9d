//! The executors running on each agent, as Mesos' master tracks them: an
//! executor's resources are charged once, with the first task (or task
//! group) that starts it, and come back when its agent reports it exited
//! (EXECUTOR_EXITED), or with its framework or its agent. A task naming an
//! executor that runs with a different `ExecutorInfo` is refused
//! (TASK_ERROR), as Mesos does.
//!
//! Executors are not in the registry: an agent reports the ones it runs
//! each time it subscribes, and that report replaces what the master knew
//! (after a master restart it is the only source; the agent stays
//! deactivated, so offered nothing, until it is back).

use super::Master;
use super::accept::Pool;
use crate::allocator::{Resources, Used};
use crate::convert;
use corral_api::v1::{ExecutorInfo, ExecutorType};
use corral_api::{AgentId, ExecutorId, FrameworkId};
use std::collections::HashMap;
use std::time::Instant;

/// A running executor: what it was started with, and what it is charged.
#[derive(Debug, Clone)]
pub(crate) struct ExecutorEntry {
    pub info: ExecutorInfo,
    pub role: String,
    pub resources: Resources,
}

/// One agent's executors.
pub(crate) type Executors = HashMap<(FrameworkId, ExecutorId), ExecutorEntry>;

/// `e` as the master keeps and compares it: with its framework's id, and
/// without the command the agent fills in for the DEFAULT executor (an
/// agent's report carries it, the framework's ExecutorInfo does not).
fn normalized(framework: &FrameworkId, e: &ExecutorInfo) -> ExecutorInfo {
    let default = e.r#type == Some(ExecutorType::Default);
    ExecutorInfo {
        framework_id: Some(framework.clone()),
        command: e.command.clone().filter(|_| !default),
        ..e.clone()
    }
}

impl Master {
    /// What starting a task on `executor` costs on the pool's agent beyond
    /// the task itself: the executor's resources when it does not run there
    /// yet, nothing when it does (with the same `ExecutorInfo`).
    pub(super) fn executor_charge(
        &self,
        framework: &FrameworkId,
        pool: &Pool,
        executor: &ExecutorInfo,
    ) -> Result<Option<Resources>, String> {
        let key = (framework.clone(), executor.executor_id.clone());
        let running = self
            .agents
            .get(&pool.agent)
            .and_then(|a| a.executors.get(&key));
        match running {
            Some(known) if known.info == normalized(framework, executor) => Ok(None),
            Some(_) => Err(format!(
                "the ExecutorInfo of executor '{}' differs from that of the executor running on agent '{}'",
                executor.executor_id, pool.agent
            )),
            None => {
                let res = convert::to_alloc(&executor.resources)
                    .map_err(|e| format!("executor '{}': {e}", executor.executor_id))?;
                if !pool.resources.contains(&res) {
                    return Err(format!(
                        "executor '{}' asks for more than the remaining offered resources",
                        executor.executor_id
                    ));
                }
                Ok(Some(res))
            }
        }
    }

    /// Records `executor` as running on the pool's agent, charged
    /// `resources` (already taken from the pool).
    pub(super) fn record_executor(
        &mut self,
        framework: &FrameworkId,
        pool: &Pool,
        executor: &ExecutorInfo,
        resources: Resources,
    ) {
        let entry = ExecutorEntry {
            info: normalized(framework, executor),
            role: pool.role.clone(),
            resources,
        };
        if let Some(a) = self.agents.get_mut(&pool.agent) {
            let key = (framework.clone(), executor.executor_id.clone());
            a.executors.insert(key, entry);
        }
    }

    /// EXECUTOR_EXITED: its resources go back to the allocator.
    pub(super) fn executor_exited(
        &mut self,
        agent: &AgentId,
        framework: &FrameworkId,
        executor: &ExecutorId,
        now: Instant,
    ) {
        let key = (framework.clone(), executor.clone());
        let Some(entry) = self
            .agents
            .get_mut(agent)
            .and_then(|a| a.executors.remove(&key))
        else {
            return;
        };
        self.recover(framework, agent, &entry.role, &entry.resources, None, now);
    }

    /// A framework is gone (the allocator took back all it held): its
    /// executors are forgotten.
    pub(super) fn forget_executors_of(&mut self, framework: &FrameworkId) {
        for a in self.agents.values_mut() {
            a.executors.retain(|(f, _), _| f != framework);
        }
    }

    /// The table an agent's report makes: each executor of a framework the
    /// master knows, charged its resources in the role they were
    /// allocated to (else its framework's first role).
    pub(super) fn reported_executors(&self, reported: Vec<ExecutorInfo>) -> Executors {
        let mut table = Executors::new();
        for e in reported {
            let Some(framework) = e.framework_id.clone() else {
                continue;
            };
            let Some(f) = self.frameworks.get(&framework) else {
                continue; // Its framework is gone: shut down with it.
            };
            let Ok(resources) = convert::to_alloc(&e.resources) else {
                continue;
            };
            let role = convert::allocated_role(&e.resources, Some(&f.info));
            let key = (framework.clone(), e.executor_id.clone());
            let info = normalized(&framework, &e);
            table.insert(
                key,
                ExecutorEntry {
                    info,
                    role,
                    resources,
                },
            );
        }
        table
    }

    /// What `table`'s executors hold, for the allocator.
    pub(super) fn executors_used(&self, table: &Executors) -> Vec<Used> {
        table
            .iter()
            .filter_map(|((f, _), e)| {
                Some(Used {
                    framework: self.frameworks.get(f)?.key,
                    role: e.role.clone(),
                    resources: e.resources.clone(),
                })
            })
            .collect()
    }
}
