//! ACCEPT: the offers are checked (known, this framework's, one agent),
//! then each operation runs in order against what they hold. A task that
//! fails validation gets TASK_ERROR; tasks of an ACCEPT whose offers are
//! invalid get TASK_DROPPED (partition-aware) or TASK_LOST, with
//! REASON_INVALID_OFFERS — asynchronously, the call itself was accepted,
//! as Mesos does. RESERVE and UNRESERVE (`reserve.rs`) convert what the
//! offers hold for the operations after them. What the operations leave
//! unused is recovered with the call's filter.

use super::{Master, TaskEntry};
use crate::allocator::Resources;
use crate::convert;
use corral_api::agent_link::AgentEvent;
use corral_api::scheduler::{Accept, Event};
use corral_api::v1::{OperationType, Reason, Task, TaskInfo, TaskState};
use corral_api::{AgentId, FrameworkId};
use std::time::Instant;

/// What the accepted offers hold, used up (LAUNCH) or converted (RESERVE,
/// UNRESERVE) as operations run.
pub(super) struct Pool {
    pub agent: AgentId,
    pub role: String,
    pub resources: Resources,
}

impl Master {
    pub(super) fn accept(&mut self, framework: &FrameworkId, accept: Accept, now: Instant) {
        let tasks: Vec<TaskInfo> = accept
            .operations
            .iter()
            .flat_map(|op| {
                let launch = op.launch.iter().flat_map(|l| l.task_infos.iter().cloned());
                let group = op
                    .launch_group
                    .iter()
                    .flat_map(|g| g.task_group.tasks.iter().cloned());
                launch.chain(group).collect::<Vec<_>>()
            })
            .collect();
        let mut pool = match self.take_offers(framework, &accept.offer_ids, now) {
            Ok(pool) => pool,
            Err(why) => {
                for op in &accept.operations {
                    if matches!(
                        op.r#type,
                        Some(OperationType::Reserve | OperationType::Unreserve)
                    ) {
                        self.drop_operation(framework, op, why.clone());
                    }
                }
                self.fail_tasks(framework, &tasks, why);
                return;
            }
        };
        for op in accept.operations {
            match op.r#type {
                Some(OperationType::Launch) => {
                    for t in op.launch.map(|l| l.task_infos).unwrap_or_default() {
                        self.launch(framework, &mut pool, t);
                    }
                }
                Some(OperationType::LaunchGroup) => {
                    if let Some(g) = op.launch_group {
                        self.launch_group(framework, &mut pool, g);
                    }
                }
                Some(OperationType::Reserve | OperationType::Unreserve) => {
                    self.reservation_operation(framework, &mut pool, &op);
                }
                other => {
                    let name = other.map_or("UNKNOWN", corral_api::json::ProtoEnum::name);
                    self.to_framework(
                        framework,
                        &Event::error(format!(
                            "offer operation {name} is not supported by corral yet; \
                             its resources were returned"
                        )),
                    );
                }
            }
        }
        let filter = super::offers::refuse_filter(accept.filters.map(|f| f.refuse_seconds));
        let Pool {
            agent,
            role,
            resources,
        } = pool;
        self.recover(framework, &agent, &role, &resources, filter, now);
    }

    /// Removes the offers and sums them; an error says why they are invalid
    /// (the valid ones among them are recovered).
    fn take_offers(
        &mut self,
        framework: &FrameworkId,
        ids: &[corral_api::OfferId],
        now: Instant,
    ) -> Result<Pool, String> {
        if ids.is_empty() {
            return Err("no offers given".into());
        }
        let mut problem = None;
        for id in ids {
            match self.offers.get(id) {
                None => problem = Some(format!("offer '{id}' is no longer valid")),
                Some(o) if &o.framework != framework => {
                    problem = Some(format!("offer '{id}' belongs to another framework"))
                }
                Some(_) => {}
            }
        }
        let first = self
            .offers
            .get(&ids[0])
            .map(|o| (o.agent.clone(), o.role.clone()));
        if let Some((agent, role)) = &first {
            for id in ids {
                if let Some(o) = self.offers.get(id)
                    && (&o.agent != agent || &o.role != role)
                {
                    problem = Some("offers span several agents or roles".into());
                }
            }
        }
        if let Some(p) = problem {
            for id in ids {
                if self
                    .offers
                    .get(id)
                    .is_some_and(|o| &o.framework == framework)
                {
                    self.rescind(id, now, false);
                }
            }
            return Err(p);
        }
        let (agent, role) = first.expect("every offer is valid");
        let mut resources = Resources::new();
        for id in ids {
            let o = self.take_offer(id).expect("validated above");
            resources.add(&o.resources);
        }
        Ok(Pool {
            agent,
            role,
            resources,
        })
    }

    fn fail_tasks(&mut self, framework: &FrameworkId, tasks: &[TaskInfo], why: String) {
        let aware = self
            .frameworks
            .get(framework)
            .is_some_and(|f| f.partition_aware());
        let state = if aware {
            TaskState::Dropped
        } else {
            TaskState::Lost
        };
        for t in tasks {
            let status = Master::master_status(
                &t.task_id,
                Some(&t.agent_id),
                state,
                Reason::InvalidOffers,
                why.clone(),
            );
            self.to_framework(framework, &Event::update(status));
        }
    }

    /// LAUNCH of one task; its executor, if it does not run on the agent
    /// yet, is charged with it (`executors.rs`).
    fn launch(&mut self, framework: &FrameworkId, pool: &mut Pool, task: TaskInfo) {
        let charge = match &task.executor {
            Some(e) => match self.executor_charge(framework, pool, e) {
                Ok(charge) => charge,
                Err(why) => return self.task_error(framework, &pool.agent, &[task], why),
            },
            None => None,
        };
        if let Some(c) = &charge {
            pool.resources.subtract(c);
        }
        match self.validate_task(framework, pool, &task, None) {
            Ok(resources) => {
                if let (Some(c), Some(e)) = (charge, &task.executor) {
                    self.record_executor(framework, pool, e, c);
                }
                self.record_task(framework, pool, &task, resources);
                let info = self.frameworks[framework].info.clone();
                let event = AgentEvent::Launch {
                    framework: Box::new(info),
                    task: Box::new(task),
                };
                self.to_agent(&pool.agent, &event);
            }
            Err(why) => {
                if let Some(c) = &charge {
                    pool.resources.add(c);
                }
                self.task_error(framework, &pool.agent, &[task], why)
            }
        }
    }

    /// LAUNCH_GROUP: all the group's tasks or none (Mesos); the executor,
    /// if it does not run on the agent yet, is charged with them.
    fn launch_group(
        &mut self,
        framework: &FrameworkId,
        pool: &mut Pool,
        group: corral_api::v1::LaunchGroup,
    ) {
        let tasks = group.task_group.tasks;
        let executor = group.executor;
        let charge = match self.executor_charge(framework, pool, &executor) {
            Ok(charge) => charge,
            Err(why) => return self.task_error(framework, &pool.agent, &tasks, why),
        };
        let exec_res = charge.clone().unwrap_or_default();
        pool.resources.subtract(&exec_res);
        let mut charged = Vec::new();
        for t in &tasks {
            match self.validate_task(framework, pool, t, Some(&executor)) {
                Ok(r) => {
                    pool.resources.subtract(&r);
                    charged.push(r);
                }
                Err(why) => {
                    for r in &charged {
                        pool.resources.add(r);
                    }
                    pool.resources.add(&exec_res);
                    return self.task_error(framework, &pool.agent, &tasks, why);
                }
            }
        }
        if let Some(c) = charge {
            self.record_executor(framework, pool, &executor, c);
        }
        for (t, r) in tasks.iter().zip(charged) {
            pool.resources.add(&r);
            self.record_task(framework, pool, t, r);
        }
        let info = self.frameworks[framework].info.clone();
        let event = AgentEvent::LaunchGroup {
            framework: Box::new(info),
            executor: Box::new(executor),
            task_group: Box::new(corral_api::v1::TaskGroupInfo { tasks }),
        };
        self.to_agent(&pool.agent, &event);
    }

    fn task_error(
        &mut self,
        framework: &FrameworkId,
        agent: &AgentId,
        tasks: &[TaskInfo],
        why: String,
    ) {
        for t in tasks {
            let status = Master::master_status(
                &t.task_id,
                Some(agent),
                TaskState::Error,
                Reason::TaskInvalid,
                why.clone(),
            );
            self.to_framework(framework, &Event::update(status));
        }
    }

    /// Takes `resources` from the pool and tracks the task as staging.
    fn record_task(
        &mut self,
        framework: &FrameworkId,
        pool: &mut Pool,
        task: &TaskInfo,
        resources: Resources,
    ) {
        pool.resources.subtract(&resources);
        let key = (framework.clone(), task.task_id.clone());
        let record = Task {
            name: task.name.clone(),
            task_id: task.task_id.clone(),
            framework_id: framework.clone(),
            executor_id: task.executor.as_ref().map(|e| e.executor_id.clone()),
            agent_id: pool.agent.clone(),
            state: TaskState::Staging,
            resources: self.agents.get(&pool.agent).map_or_else(
                || convert::to_wire(&resources, Some(&pool.role)),
                |a| a.reservations.render(&resources, Some(&pool.role)),
            ),
            labels: task.labels.clone(),
            container: task.container.clone(),
            kill_policy: task.kill_policy,
            ..Task::default()
        };
        self.tasks.insert(
            key.clone(),
            TaskEntry {
                task: record,
                role: pool.role.clone(),
                resources,
                recovered: false,
            },
        );
        if let Some(a) = self.agents.get_mut(&pool.agent) {
            a.tasks.insert(key.clone());
        }
        self.persist_task(&key);
        self.counters.tasks_launched += 1;
    }

    /// Mesos' task validation, the parts that apply: a fresh id, the
    /// offer's agent, a command or an executor, resources the offers hold.
    fn validate_task(
        &self,
        framework: &FrameworkId,
        pool: &Pool,
        task: &TaskInfo,
        executor: Option<&corral_api::v1::ExecutorInfo>,
    ) -> Result<Resources, String> {
        if task.task_id.as_str().is_empty() {
            return Err("task_id is empty".into());
        }
        if self
            .tasks
            .contains_key(&(framework.clone(), task.task_id.clone()))
        {
            return Err(format!("task '{}' already exists", task.task_id));
        }
        if task.agent_id != pool.agent {
            return Err(format!(
                "task '{}' names agent '{}' but the offers are from '{}'",
                task.task_id, task.agent_id, pool.agent
            ));
        }
        let has_executor = task.executor.is_some() || executor.is_some();
        if task.command.is_some() == has_executor && executor.is_none() {
            return Err("a task needs exactly one of 'command' and 'executor'".into());
        }
        // The executor's resources are charged apart (`executors.rs`).
        let res = convert::to_alloc(&task.resources).map_err(|e| e.to_string())?;
        if res.is_empty() {
            return Err("task uses no resources".into());
        }
        if let Some(a) = self.agents.get(&pool.agent) {
            let executor = task.executor.iter().flat_map(|e| e.resources.iter());
            let all: Vec<_> = task.resources.iter().chain(executor).cloned().collect();
            a.reservations
                .check_used(&all)
                .map_err(|e| format!("task '{}': {e}", task.task_id))?;
        }
        if !pool.resources.contains(&res) {
            return Err(format!(
                "task '{}' asks for more than the remaining offered resources",
                task.task_id
            ));
        }
        Ok(res)
    }
}
