//! An executor container's life: started (watched like a command task's
//! init), ended (its tasks not yet terminal fail — Mesos'
//! REASON_EXECUTOR_TERMINATED with the exit, or why the agent ended it —
//! and the scheduler hears FAILURE), kills of its tasks (a KILL event),
//! SHUTDOWN (the event, then cgroup.kill after the grace period) and the
//! registration deadlines.

use super::{Ending, Queued, belongs};
use crate::containerizer::{Started, Verdict};
use crate::core::{Agent, Phase};
use crate::executor::ExitRecord;
use crate::paths::ContainerId;
use corral_api::agent_link::AgentCall;
use corral_api::executor::Event;
use corral_api::v1::{FrameworkCapabilityType, KillPolicy, Reason, Source, TaskState, TaskStatus};
use corral_api::{ExecutorId, FrameworkId};
use std::time::Instant;

/// How an executor's end reads in its tasks' updates.
pub(crate) fn ending_status(
    ending: Option<Ending>,
    record: Option<ExitRecord>,
    verdict: Option<&Verdict>,
    partition_aware: bool,
    timeouts: (std::time::Duration, std::time::Duration),
) -> (TaskState, Reason, String) {
    let d = super::mesos_duration;
    match ending {
        Some(Ending::RegistrationTimeout) => (
            TaskState::Failed,
            Reason::ExecutorRegistrationTimeout,
            format!("Executor did not register within {}", d(timeouts.0)),
        ),
        Some(Ending::ReregistrationTimeout) => (
            if partition_aware {
                TaskState::Gone
            } else {
                TaskState::Lost
            },
            Reason::ExecutorReregistrationTimeout,
            format!("Executor did not reregister within {}", d(timeouts.1)),
        ),
        Some(Ending::Shutdown) => (
            TaskState::Killed,
            Reason::ExecutorTerminated,
            "Executor shut down".into(),
        ),
        None => {
            let limitation = [
                Reason::ContainerLimitationMemory,
                Reason::ContainerLimitationDisk,
            ];
            if let Some(v) = verdict.filter(|v| v.reason.is_some_and(|r| limitation.contains(&r))) {
                return (
                    TaskState::Failed,
                    v.reason.expect("filtered"),
                    v.message.clone(),
                );
            }
            let how = match record {
                Some(ExitRecord::Exited(c)) => format!("the executor exited with status {c}"),
                Some(ExitRecord::Signaled(s)) => {
                    format!("the executor was terminated by signal {s}")
                }
                Some(ExitRecord::NotStarted(e)) => format!(
                    "the executor could not be started: {}",
                    std::io::Error::from_raw_os_error(e)
                ),
                None => "the executor's container ended without an exit record".into(),
            };
            (
                TaskState::Failed,
                Reason::ExecutorTerminated,
                format!("Executor terminated: {how}"),
            )
        }
    }
}

impl Agent {
    pub(in crate::core) fn on_executor_launched(
        &mut self,
        cid: &ContainerId,
        result: Result<Started, String>,
    ) {
        let Some(ex) = self.executors.get_mut(cid) else {
            return;
        };
        match result {
            Ok(started) => {
                ex.phase = Phase::Running(started);
                let ending = ex.ending.is_some();
                self.watch(cid, started);
                if ending {
                    self.kill_executor_now(cid);
                }
                self.resize_executor(cid);
            }
            Err(message) => {
                ex.phase = Phase::Ended;
                let why = format!("Failed to launch the executor's container: {message}");
                for id in self.live_tasks(cid) {
                    self.end_task(&id, TaskState::Failed, Reason::ContainerLaunchFailed, &why);
                }
                let ex = &self.executors[cid];
                let key = (ex.framework_id(), ex.id().clone());
                self.never_ran(key);
                self.drop_executor(cid);
            }
        }
    }

    pub(in crate::core) fn on_executor_exited(&mut self, cid: &ContainerId) {
        let Some(ex) = self.executors.get_mut(cid) else {
            return;
        };
        ex.phase = Phase::Finishing;
        ex.stream = None;
        let disk = ex.disk_exceeded;
        let (cz, tx, id) = (self.containerizer.clone(), self.tx.clone(), cid.clone());
        tokio::task::spawn_blocking(move || {
            let result = cz.finish(&id, false, disk).map_err(|e| e.to_string());
            let _ = tx.blocking_send(crate::core::Input::Finished { id, result });
        });
    }

    pub(in crate::core) fn on_executor_finished(
        &mut self,
        cid: &ContainerId,
        result: Result<Verdict, String>,
    ) {
        let Some(ex) = self.executors.get_mut(cid) else {
            return;
        };
        ex.phase = Phase::Ended;
        let record: Option<ExitRecord> = std::fs::read(self.containerizer.paths().exit(cid))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let ex = &self.executors[cid];
        let aware = ex
            .rec
            .framework
            .capabilities
            .iter()
            .any(|c| c.r#type == Some(FrameworkCapabilityType::PartitionAware));
        let timeouts = (
            self.exec_settings.registration_timeout,
            self.exec_settings.reregistration_timeout,
        );
        let (state, reason, message) =
            ending_status(ex.ending, record, result.as_ref().ok(), aware, timeouts);
        let (framework_id, executor_id) = (ex.framework_id(), ex.id().clone());
        for id in self.live_tasks(cid) {
            self.end_task(&id, state, reason, &message);
        }
        let status = record.map_or(-1, |r| match r {
            ExitRecord::Signaled(s) => s,
            r => r.status() << 8,
        });
        self.send(
            AgentCall::ExecutorExited {
                framework_id,
                executor_id,
                status,
            },
            None,
        );
        self.drop_executor(cid);
    }

    /// A terminal update of one of an executor's tasks, from the agent.
    fn end_task(&mut self, id: &ContainerId, state: TaskState, reason: Reason, message: &str) {
        if let Some(c) = self.containers.get_mut(id) {
            c.phase = Phase::Ended;
        }
        self.status(id, state, Source::Agent, |s: &mut TaskStatus| {
            s.reason = Some(reason);
            s.message = Some(message.to_string());
        });
    }

    /// Forgets an ended executor: its record folder goes (its tasks keep
    /// theirs until their updates are acknowledged; the sandbox stays).
    pub(crate) fn drop_executor(&mut self, cid: &ContainerId) {
        if let Some(ex) = self.executors.remove(cid) {
            self.executor_ids
                .remove(&(ex.framework_id(), ex.id().clone()));
        }
        let (cz, id) = (self.containerizer.clone(), cid.clone());
        tokio::task::spawn_blocking(move || {
            let _ = cz.remove(&id);
            let dir = cz.paths().container(&id);
            if let Err(e) = std::fs::remove_dir_all(&dir)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                eprintln!("corral agent: removing {}: {e}", dir.display());
            }
        });
    }

    /// KILL of a task that runs on a custom executor: a task still queued
    /// is killed here; otherwise the executor gets KILL (at its
    /// subscription if it is not connected).
    pub(in crate::core) fn kill_executor_task(
        &mut self,
        id: &ContainerId,
        kill_policy: Option<KillPolicy>,
    ) {
        let Some(c) = self.containers.get(id) else {
            return;
        };
        if c.phase == Phase::Ended {
            return;
        }
        let task_id = c.rec.task.task_id.clone();
        let Some(cid) = self.executor_container(c).cloned() else {
            return;
        };
        let ex = self.executors.get_mut(&cid).expect("indexed");
        let before = ex.queued.len();
        ex.queued
            .retain(|q| !matches!(q, Queued::Task(t) if t.task_id == task_id));
        if ex.queued.len() < before {
            let never_sent = !ex.sent_task && ex.queued.is_empty();
            self.end_task(
                id,
                TaskState::Killed,
                Reason::TaskKilledDuringLaunch,
                "Killed before delivery to the executor",
            );
            if never_sent {
                self.shutdown_executor(&cid);
            }
            return;
        }
        self.deliver(&cid, Queued::Kill(task_id, kill_policy));
    }

    /// SHUTDOWN: the event (or SIGTERM to its init when it is not
    /// connected), then cgroup.kill after its grace period.
    pub(crate) fn shutdown_executor(&mut self, cid: &ContainerId) {
        let grace = match self.executors.get(cid) {
            Some(ex) => self.shutdown_grace(&ex.rec.executor),
            None => return,
        };
        let ex = self.executors.get_mut(cid).expect("checked");
        if ex.ending.is_some() {
            return;
        }
        ex.ending = Some(Ending::Shutdown);
        ex.kill_at = Some(Instant::now() + grace);
        let running = matches!(ex.phase, Phase::Running(_));
        if !ex.send(Event::shutdown()) && running {
            let (cz, id) = (self.containerizer.clone(), cid.clone());
            tokio::task::spawn_blocking(move || {
                if let Err(e) = cz.signal(&id, libc::SIGTERM) {
                    eprintln!("corral agent: SIGTERM to executor container {id}: {e}");
                }
            });
        }
    }

    /// Every executor of a framework (SHUTDOWN_FRAMEWORK).
    pub(in crate::core) fn shutdown_executors_of(&mut self, framework_id: &FrameworkId) {
        let cids: Vec<ContainerId> = self
            .executor_ids
            .iter()
            .filter(|((f, _), _)| f == framework_id)
            .map(|(_, c)| c.clone())
            .collect();
        for cid in cids {
            self.shutdown_executor(&cid);
        }
    }

    /// The framework's message for its executor.
    pub(in crate::core) fn framework_message(
        &mut self,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: corral_api::Bytes,
    ) {
        let key = (framework_id, executor_id);
        let sent = self
            .executor_ids
            .get(&key)
            .cloned()
            .and_then(|cid| self.executors.get_mut(&cid))
            .is_some_and(|ex| ex.send(Event::message(data)));
        if !sent {
            // Best effort, as in Mesos.
            eprintln!(
                "corral agent: a framework message for executor {} of framework {} dropped: it is not subscribed",
                key.1, key.0
            );
        }
    }

    fn kill_executor_now(&self, cid: &ContainerId) {
        let (cz, id) = (self.containerizer.clone(), cid.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = cz.kill_all(&id) {
                eprintln!("corral agent: killing executor container {id}: {e}");
            }
        });
    }

    /// Deadlines: no subscription in time ends the executor; a shut-down
    /// executor past its grace period is killed; a closed stream is
    /// forgotten.
    pub(in crate::core) fn executor_timers(&mut self, now: Instant) {
        let mut kill = Vec::new();
        for (cid, ex) in &mut self.executors {
            if ex.stream.as_ref().is_some_and(|s| s.is_closed()) {
                ex.stream = None;
            }
            if let Some((at, why)) = ex.deadline
                && at <= now
                && ex.stream.is_none()
            {
                ex.deadline = None;
                ex.ending.get_or_insert(why);
                kill.push(cid.clone());
            }
            if ex.kill_at.is_some_and(|t| t <= now) {
                ex.kill_at = None;
                kill.push(cid.clone());
            }
        }
        for cid in kill {
            let running = self
                .executors
                .get(&cid)
                .is_some_and(|e| matches!(e.phase, Phase::Running(_)));
            if running {
                self.kill_executor_now(&cid);
            }
        }
    }

    /// The tasks of `executor` waiting for it, again (after a restart):
    /// those with no update yet.
    pub(crate) fn requeue_unsent(&mut self, cid: &ContainerId) {
        let Some(ex) = self.executors.get(cid) else {
            return;
        };
        let (f, e) = (ex.framework_id(), ex.id().clone());
        let unsent: Vec<Queued> = self
            .containers
            .iter()
            .filter(|(id, c)| {
                belongs(c, &f, &e) && c.phase != Phase::Ended && self.updates.latest(id).is_none()
            })
            .map(|(_, c)| Queued::Task(Box::new(c.rec.task.clone())))
            .collect();
        if let Some(ex) = self.executors.get_mut(cid) {
            ex.queued.extend(unsent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const T: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(2));

    #[test]
    fn why_the_executor_ended_decides_its_tasks_updates() {
        let (s, r, m) = ending_status(Some(Ending::RegistrationTimeout), None, None, false, T);
        assert_eq!(
            (s, r),
            (TaskState::Failed, Reason::ExecutorRegistrationTimeout)
        );
        assert_eq!(m, "Executor did not register within 1mins");
        let (s, r, _) = ending_status(Some(Ending::ReregistrationTimeout), None, None, false, T);
        assert_eq!(
            (s, r),
            (TaskState::Lost, Reason::ExecutorReregistrationTimeout)
        );
        let (s, _, _) = ending_status(Some(Ending::ReregistrationTimeout), None, None, true, T);
        assert_eq!(s, TaskState::Gone);
        let (s, _, _) = ending_status(Some(Ending::Shutdown), None, None, false, T);
        assert_eq!(s, TaskState::Killed);
        let (s, r, m) = ending_status(None, Some(ExitRecord::Exited(3)), None, false, T);
        assert_eq!((s, r), (TaskState::Failed, Reason::ExecutorTerminated));
        assert_eq!(m, "Executor terminated: the executor exited with status 3");
        let (_, _, m) = ending_status(None, Some(ExitRecord::Signaled(9)), None, false, T);
        assert!(m.ends_with("signal 9"), "{m}");
        let oom = Verdict {
            state: TaskState::Failed,
            reason: Some(Reason::ContainerLimitationMemory),
            message: "Memory limit exceeded".into(),
            limitation: vec![],
        };
        let (_, r, _) = ending_status(None, None, Some(&oom), false, T);
        assert_eq!(r, Reason::ContainerLimitationMemory);
    }
}
