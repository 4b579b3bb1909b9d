//! A container's life in the agent: LAUNCH (checkpoint the task, open its
//! update stream, launch off the async threads), TASK_RUNNING once its
//! init runs, a watch on the init's pidfd, the verdict once it ends, kills
//! (SIGTERM, then cgroup.kill after the grace period) and, once the
//! terminal update is acknowledged, forgetting it.

use super::{Agent, Container, Input, Phase};
use crate::checkpoint;
use crate::containerizer::{Started, TaskRecord, Verdict};
use crate::paths::ContainerId;
use corral_api::v1::{
    ContainerStatus, FrameworkInfo, Reason, Source, TaskInfo, TaskState, TaskStatus,
};
use corral_api::{FrameworkId, TaskId};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Agent {
    /// Generates (checkpoints and queues) an update of the container's task.
    pub(crate) fn status(
        &mut self,
        id: &ContainerId,
        state: TaskState,
        source: Source,
        edit: impl FnOnce(&mut TaskStatus),
    ) {
        let Some(c) = self.containers.get(id) else {
            return;
        };
        let mut s = TaskStatus::new(c.rec.task.task_id.clone(), state);
        s.source = Some(source);
        s.agent_id = Some(c.rec.agent_id.clone());
        // A custom executor's task: its executor and that one's container.
        let (executor_id, container) = match &c.rec.task.executor {
            Some(e) => (
                e.executor_id.clone(),
                self.executor_container(c).unwrap_or(id),
            ),
            None => (corral_api::ExecutorId::new(c.rec.task.task_id.as_str()), id),
        };
        s.executor_id = Some(executor_id);
        s.timestamp = Some(now_secs());
        s.container_status = Some(ContainerStatus {
            container_id: Some(corral_api::ContainerId::new(container.as_str())),
            executor_pid: match c.phase {
                Phase::Running(st) => Some(st.pid as u32),
                _ => None,
            },
            ..ContainerStatus::default()
        });
        edit(&mut s);
        if let Err(e) = self.updates.update(id, s) {
            // Not checkpointed, so not sent: the agent cannot promise it.
            eprintln!("corral agent: checkpointing an update of container {id}: {e}");
        }
    }

    /// Records a new task (its record folder, its update stream) under a
    /// fresh id; `None` if it is a duplicate or cannot be checkpointed.
    pub(super) fn record_task(
        &mut self,
        framework: FrameworkInfo,
        task: TaskInfo,
    ) -> Option<(ContainerId, TaskRecord)> {
        let agent_id = self.info.id.clone()?;
        let framework_id = framework.id.clone()?;
        let key = (framework_id.clone(), task.task_id.clone());
        if self.tasks.contains_key(&key) {
            eprintln!(
                "corral agent: task {} of framework {framework_id} is already here; launch ignored",
                task.task_id
            );
            return None;
        }
        let id = ContainerId::random();
        let rec = TaskRecord {
            container_id: id.clone(),
            agent_id,
            framework,
            task,
        };
        let paths = self.containerizer.paths().clone();
        // Recorded before anything is done about it, so a restart finds it.
        let opened = checkpoint::write_json(&paths.task_json(&id), &rec)
            .and_then(|()| self.updates.open(&id, framework_id, paths.updates(&id)));
        if let Err(e) = opened {
            eprintln!(
                "corral agent: cannot checkpoint task {}: {e}; not launching it",
                rec.task.task_id
            );
            return None;
        }
        self.tasks.insert(key, id.clone());
        self.containers.insert(
            id.clone(),
            Container {
                rec: rec.clone(),
                phase: Phase::Launching,
                kill_deadline: None,
                killed: false,
                disk_exceeded: None,
            },
        );
        Some((id, rec))
    }

    pub(super) fn launch(&mut self, framework: FrameworkInfo, task: TaskInfo) {
        if task.executor.is_some() {
            let executor = task.executor.clone().expect("checked");
            return self.launch_with_executor(framework, executor, vec![task], false);
        }
        let Some((id, rec)) = self.record_task(framework, task) else {
            return;
        };
        self.status(&id, TaskState::Starting, Source::Executor, |_| {});
        let (cz, tx, slots) = (
            self.containerizer.clone(),
            self.tx.clone(),
            self.launches.clone(),
        );
        tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return;
            };
            let result =
                tokio::task::spawn_blocking(move || cz.launch(&rec).map_err(|e| e.to_string()))
                    .await
                    .unwrap_or_else(|e| Err(format!("the launch thread failed: {e}")));
            let _ = tx.send(Input::Launched { id, result }).await;
        });
    }

    pub(super) fn on_launched(&mut self, id: &ContainerId, result: Result<Started, String>) {
        let Some(c) = self.containers.get_mut(id) else {
            return;
        };
        match result {
            Ok(started) => {
                c.phase = Phase::Running(started);
                let killed = c.killed;
                self.status(id, TaskState::Running, Source::Executor, |_| {});
                self.watch(id, started);
                if killed {
                    self.signal_kill(id, self.kill_grace);
                }
            }
            Err(message) => {
                c.phase = Phase::Ended;
                self.status(id, TaskState::Failed, Source::Agent, |s| {
                    s.reason = Some(Reason::ContainerLaunchFailed);
                    s.message = Some(format!("Failed to launch container: {message}"));
                });
                let cz = self.containerizer.clone();
                let id = id.clone();
                tokio::task::spawn_blocking(move || cz.remove(&id));
            }
        }
    }

    /// Waits for the init to end (its pidfd becomes readable), reaps it if
    /// this process is its parent, and reports.
    pub(super) fn watch(&self, id: &ContainerId, started: Started) {
        let (tx, id) = (self.tx.clone(), id.clone());
        tokio::spawn(async move {
            let p = corral_oci::process::ProcessId {
                pid: started.pid,
                start_time: started.start_time,
            };
            let registered = p.pidfd().map(|fd| {
                // SAFETY: the AsyncFd owns the pidfd, so the descriptor
                // stays open for as long as it is registered.
                unsafe {
                    tokio::io::unix::AsyncFd::register_with_interest(
                        fd,
                        tokio::io::Interest::READABLE,
                    )
                }
            });
            if let Some(Ok(afd)) = registered {
                let _ = afd.readable().await;
            }
            let mut status = 0;
            // SAFETY: waitpid on a pid this agent may have cloned; ECHILD
            // (another parent) is fine.
            unsafe { libc::waitpid(started.pid, &mut status, libc::WNOHANG) };
            let _ = tx.send(Input::Exited { id }).await;
        });
    }

    pub(super) fn on_exited(&mut self, id: &ContainerId) {
        let Some(c) = self.containers.get_mut(id) else {
            return;
        };
        c.phase = Phase::Finishing;
        let (cz, tx, killed, disk, id) = (
            self.containerizer.clone(),
            self.tx.clone(),
            c.killed,
            c.disk_exceeded,
            id.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let result = cz.finish(&id, killed, disk).map_err(|e| e.to_string());
            let _ = tx.blocking_send(Input::Finished { id, result });
        });
    }

    pub(super) fn on_finished(&mut self, id: &ContainerId, result: Result<Verdict, String>) {
        let Some(c) = self.containers.get_mut(id) else {
            return;
        };
        c.phase = Phase::Ended;
        c.kill_deadline = None;
        match result {
            Ok(v) => {
                let source = match v.reason {
                    Some(Reason::ContainerLimitationMemory | Reason::ContainerLimitationDisk) => {
                        Source::Agent
                    }
                    _ => Source::Executor,
                };
                self.status(id, v.state, source, |s| {
                    s.reason = v.reason;
                    s.message = Some(v.message);
                    if !v.limitation.is_empty() {
                        s.limitation = Some(corral_api::v1::TaskResourceLimitation {
                            resources: v.limitation,
                        });
                    }
                });
            }
            Err(message) => self.status(id, TaskState::Failed, Source::Agent, |s| {
                s.reason = Some(Reason::ExecutorTerminated);
                s.message = Some(format!(
                    "The container ended and could not be cleaned up: {message}"
                ));
            }),
        }
    }

    /// Asks the task to stop: SIGTERM now, everything killed after `grace`
    /// (the task's kill policy, else the agent's default).
    pub(super) fn kill_task(&mut self, key: &(FrameworkId, TaskId), grace: Option<Duration>) {
        let Some(id) = self.tasks.get(key).cloned() else {
            eprintln!(
                "corral agent: kill of unknown task {} of framework {}",
                key.1, key.0
            );
            return;
        };
        let policy = self.containers.get(&id).and_then(|c| {
            c.rec
                .task
                .kill_policy
                .and_then(|k| k.grace_period)
                .and_then(corral_api::v1::DurationInfo::to_duration)
        });
        let grace = grace.or(policy).unwrap_or(self.kill_grace);
        let Some(c) = self.containers.get_mut(&id) else {
            return;
        };
        if c.killed {
            return;
        }
        c.killed = true;
        // Recorded first: a restarted agent reports TASK_KILLED, not FAILED.
        let marker = self.containerizer.paths().container(&id).join("killed");
        if let Err(e) = checkpoint::write_bytes(&marker, b"") {
            eprintln!("corral agent: checkpointing the kill of container {id}: {e}");
        }
        if matches!(c.phase, Phase::Running(_)) {
            self.signal_kill(&id, grace);
        }
    }

    fn signal_kill(&mut self, id: &ContainerId, grace: Duration) {
        if let Some(c) = self.containers.get_mut(id) {
            c.kill_deadline = Some(Instant::now() + grace);
        }
        let (cz, id) = (self.containerizer.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = cz.signal(&id, libc::SIGTERM) {
                eprintln!("corral agent: SIGTERM to container {id}: {e}");
            }
        });
    }

    pub(super) fn escalate_kills(&mut self, now: Instant) {
        for (id, c) in &mut self.containers {
            if c.kill_deadline.is_some_and(|d| d <= now) && matches!(c.phase, Phase::Running(_)) {
                c.kill_deadline = None;
                let (cz, id) = (self.containerizer.clone(), id.clone());
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = cz.kill_all(&id) {
                        eprintln!("corral agent: killing container {id}: {e}");
                    }
                });
            }
        }
    }

    /// Drops every record of a container whose task is over and reported.
    pub(crate) fn forget(&mut self, id: &ContainerId) {
        if let Some(c) = self.containers.remove(id) {
            let key = (
                c.rec.framework.id.clone().unwrap_or_default(),
                c.rec.task.task_id.clone(),
            );
            self.tasks.remove(&key);
        }
        self.updates.close(id);
        let dir = self.containerizer.paths().container(id);
        // An image root still mounted (its removal failed) is unmounted
        // first: nothing is ever removed through it.
        let root = self
            .containerizer
            .paths()
            .bundle(id)
            .join(crate::isolators::filesystem::ROOTFS);
        if let Err(e) = crate::containerizer::rootfs::release(&root) {
            eprintln!(
                "corral agent: unmounting {}: {e}; keeping {}",
                root.display(),
                dir.display()
            );
            return;
        }
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!("corral agent: removing {}: {e}", dir.display());
        }
    }
}
