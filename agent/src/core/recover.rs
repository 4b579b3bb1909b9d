//! Recovery after a restart (or a crash): every container the work dir
//! records is taken back. A running init is watched again; one that ended
//! while the agent was down gets its true terminal update (the executor's
//! exit record, memory.events); a launch cut short fails with
//! REASON_AGENT_RESTARTED. Unacknowledged updates are resent once the link
//! is up; records whose terminal update was acknowledged are removed.

use super::{Agent, Container, Phase};
use crate::checkpoint::{self, CheckpointError};
use crate::containerizer::{Started, TaskRecord};
use crate::paths::ContainerId;
use corral_api::v1::{Reason, Source, TaskState};

impl Agent {
    /// Takes back what the work dir records; returns the inits to watch
    /// (call [`Agent::watch_all`] once the async runtime runs).
    pub fn recover(&mut self) -> Result<Vec<(ContainerId, Started)>, CheckpointError> {
        let paths = self.containerizer.paths().clone();
        if let Some(id) = checkpoint::read_json(&paths.agent_json())? {
            self.info.id = Some(id);
        }
        let mut watch = Vec::new();
        let entries = match std::fs::read_dir(paths.containers()) {
            Ok(e) => e.flatten().collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        };
        let mut executors = Vec::new();
        for entry in entries {
            let name = entry.file_name();
            let Some(id) = ContainerId::parse(&name.to_string_lossy()) else {
                eprintln!(
                    "corral agent: ignoring {} (not a container record)",
                    entry.path().display()
                );
                continue;
            };
            if paths.executor_json(&id).exists() {
                executors.push(id);
            } else if let Some(started) = self.recover_one(&id)? {
                watch.push((id, started));
            }
        }
        // After their tasks, which they take back or fail.
        for id in executors {
            if let Some(started) = self.recover_executor(&id)? {
                watch.push((id, started));
            }
        }
        self.fail_orphan_tasks();
        Ok(watch)
    }

    fn recover_one(&mut self, id: &ContainerId) -> Result<Option<Started>, CheckpointError> {
        let paths = self.containerizer.paths().clone();
        let Some(rec) = checkpoint::read_json::<TaskRecord>(&paths.task_json(id))? else {
            // Never recorded: nothing was launched for it.
            let _ = std::fs::remove_dir_all(paths.container(id));
            return Ok(None);
        };
        let framework_id = rec.framework.id.clone().unwrap_or_default();
        self.updates
            .open(id, framework_id.clone(), paths.updates(id))?;
        if self.updates.done(id) {
            let _ = self.containerizer.remove(id);
            self.updates.close(id);
            let _ = std::fs::remove_dir_all(paths.container(id));
            return Ok(None);
        }
        let killed = paths.container(id).join("killed").exists();
        let disk_exceeded = super::disk::recorded(&paths, id);
        self.tasks
            .insert((framework_id, rec.task.task_id.clone()), id.clone());
        self.containers.insert(
            id.clone(),
            Container {
                rec,
                phase: Phase::Ended,
                kill_deadline: None,
                killed,
                disk_exceeded,
            },
        );
        if self
            .updates
            .latest(id)
            .is_some_and(|s| s.state.is_terminal())
        {
            let _ = self.containerizer.remove(id);
            return Ok(None);
        }
        // A custom executor's task: its executor's recovery decides.
        if let Some(c) = self.containers.get_mut(id)
            && c.rec.task.executor.is_some()
        {
            c.phase = Phase::Launching;
            return Ok(None);
        }
        if let Some(p) = self.containerizer.init(id) {
            let started = Started {
                pid: p.pid,
                start_time: p.start_time,
            };
            if let Some(c) = self.containers.get_mut(id) {
                c.phase = Phase::Running(started);
            }
            return Ok(Some(started));
        }
        if self.containerizer.known(id) || paths.exit(id).exists() {
            let verdict = self
                .containerizer
                .finish(id, killed, disk_exceeded)
                .map_err(|e| e.to_string());
            self.on_finished(id, verdict);
        } else {
            let _ = self.containerizer.remove(id);
            self.status(id, TaskState::Failed, Source::Agent, |s| {
                s.reason = Some(Reason::AgentRestarted);
                s.message = Some("The agent restarted while launching the container".into());
            });
        }
        Ok(None)
    }

    /// Watches the recovered inits.
    pub fn watch_all(&self, inits: Vec<(ContainerId, Started)>) {
        for (id, started) in inits {
            self.watch(&id, started);
        }
    }
}
