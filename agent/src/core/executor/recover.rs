//! Executors after an agent restart (Mesos' recovery with
//! `--recover=reconnect`): one whose container still runs is watched
//! again and given `--executor-reregistration-timeout` to subscribe again
//! (its tasks with no update yet are queued for it); one that ended while
//! the agent was down fails its tasks from its exit record; one whose
//! launch was cut short fails them with REASON_AGENT_RESTARTED.

use super::{Ending, Executor, ExecutorRecord};
use crate::checkpoint::{self, CheckpointError};
use crate::containerizer::Started;
use crate::core::{Agent, Phase};
use crate::paths::ContainerId;
use corral_api::v1::{Reason, Source, TaskState};
use std::time::Instant;

impl Agent {
    /// Takes back the executor recorded under `cid`; its init to watch
    /// if it still runs.
    pub(in crate::core) fn recover_executor(
        &mut self,
        cid: &ContainerId,
    ) -> Result<Option<Started>, CheckpointError> {
        let paths = self.containerizer.paths().clone();
        let Some(rec) = checkpoint::read_json::<ExecutorRecord>(&paths.executor_json(cid))? else {
            return Ok(None);
        };
        let key = (
            rec.framework.id.clone().unwrap_or_default(),
            rec.executor.executor_id.clone(),
        );
        let mut ex = Executor::new(rec, Phase::Launching);
        ex.disk_exceeded = crate::core::disk::recorded(&paths, cid);
        let disk_exceeded = ex.disk_exceeded;
        self.executors.insert(cid.clone(), ex);
        self.executor_ids.insert(key, cid.clone());
        if let Some(p) = self.containerizer.init(cid) {
            let started = Started {
                pid: p.pid,
                start_time: p.start_time,
            };
            let deadline = Instant::now() + self.exec_settings.reregistration_timeout;
            let ex = self.executors.get_mut(cid).expect("inserted");
            ex.phase = Phase::Running(started);
            ex.deadline = Some((deadline, Ending::ReregistrationTimeout));
            self.requeue_unsent(cid);
            return Ok(Some(started));
        }
        if self.containerizer.known(cid) || paths.exit(cid).exists() {
            let verdict = self
                .containerizer
                .finish(cid, false, disk_exceeded)
                .map_err(|e| e.to_string());
            self.on_executor_finished(cid, verdict);
        } else {
            for id in self.live_tasks(cid) {
                if let Some(c) = self.containers.get_mut(&id) {
                    c.phase = Phase::Ended;
                }
                self.status(&id, TaskState::Failed, Source::Agent, |s| {
                    s.reason = Some(Reason::AgentRestarted);
                    s.message =
                        Some("The agent restarted while launching the executor's container".into());
                });
            }
            self.drop_executor(cid);
        }
        Ok(None)
    }
}

impl Agent {
    /// Tasks of executors that were never recorded (the agent stopped
    /// between the two records) fail.
    pub(in crate::core) fn fail_orphan_tasks(&mut self) {
        let orphans: Vec<ContainerId> = self
            .containers
            .iter()
            .filter(|(_, c)| {
                c.phase != Phase::Ended
                    && c.rec.task.executor.is_some()
                    && self.executor_container(c).is_none()
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in orphans {
            if let Some(c) = self.containers.get_mut(&id) {
                c.phase = Phase::Ended;
            }
            self.status(&id, TaskState::Failed, Source::Agent, |s| {
                s.reason = Some(Reason::AgentRestarted);
                s.message =
                    Some("The agent restarted before the task's executor was launched".into());
            });
        }
    }
}
