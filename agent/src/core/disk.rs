//! The disk quota, as Mesos' `disk/du` isolator with enforcement on: every
//! `--container-disk-watch-interval` the sandbox of each running container
//! that holds a `disk` resource is measured off the async threads; one over
//! its quota is killed at once (cgroup.kill) and fails with
//! REASON_CONTAINER_LIMITATION_DISK. A custom executor's container is one
//! sandbox too: its quota is the executor's disk plus its live tasks', and
//! going over it fails every one of those tasks with that reason.

use super::{Agent, Input, Phase};
use crate::paths::ContainerId;
use corral_api::v1::scalar_sum;
use std::time::Instant;

const MIB: f64 = 1024.0 * 1024.0;

impl Agent {
    pub(super) fn check_disks(&mut self, now: Instant) {
        if now < self.next_disk_check {
            return;
        }
        self.next_disk_check = now + self.disk_watch;
        let tasks = self.containers.iter().filter_map(|(id, c)| {
            let running = matches!(c.phase, Phase::Running(_));
            running.then(|| (id.clone(), scalar_sum(&c.rec.task.resources, "disk")))
        });
        let executors = self.executors.iter().filter_map(|(id, ex)| {
            let running = matches!(ex.phase, Phase::Running(_)) && ex.ending.is_none();
            running.then(|| (id.clone(), self.executor_disk(id)))
        });
        let measured: Vec<(ContainerId, f64)> = tasks.chain(executors).collect();
        for (id, quota) in measured {
            if quota <= 0.0 {
                continue;
            }
            let tx = self.tx.clone();
            let sandbox = self.containerizer.paths().sandbox(&id);
            let limit = (quota * MIB) as u64;
            tokio::task::spawn_blocking(move || {
                let used = crate::containerizer::disk::usage(&sandbox);
                let _ = tx.blocking_send(Input::DiskUsage { id, used, limit });
            });
        }
    }

    /// An executor container's quota, MiB: its own disk and its live
    /// tasks'.
    fn executor_disk(&self, cid: &ContainerId) -> f64 {
        let own = self
            .executors
            .get(cid)
            .map_or(0.0, |ex| scalar_sum(&ex.rec.executor.resources, "disk"));
        let tasks: f64 = self
            .live_tasks(cid)
            .iter()
            .filter_map(|id| self.containers.get(id))
            .map(|c| scalar_sum(&c.rec.task.resources, "disk"))
            .sum();
        own + tasks
    }

    pub(super) fn on_disk_usage(&mut self, id: &ContainerId, used: u64, limit: u64) {
        if used <= limit {
            return;
        }
        let exceeded = if let Some(c) = self.containers.get_mut(id) {
            if c.killed || c.disk_exceeded.is_some() || !matches!(c.phase, Phase::Running(_)) {
                return;
            }
            &mut c.disk_exceeded
        } else if let Some(ex) = self.executors.get_mut(id) {
            let running = matches!(ex.phase, Phase::Running(_));
            if ex.ending.is_some() || ex.disk_exceeded.is_some() || !running {
                return;
            }
            &mut ex.disk_exceeded
        } else {
            return;
        };
        *exceeded = Some((used, limit));
        let marker = marker(self.containerizer.paths(), id);
        let record = serde_json::to_vec(&(used, limit)).expect("numbers serialize");
        if let Err(e) = crate::checkpoint::write_bytes(&marker, &record) {
            eprintln!("corral agent: checkpointing the disk limitation of container {id}: {e}");
        }
        let (cz, id) = (self.containerizer.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = cz.kill_all(&id) {
                eprintln!("corral agent: killing container {id} over its disk quota: {e}");
            }
        });
    }
}

/// Where a container's disk limitation is checkpointed, so a restarted
/// agent still reports it.
fn marker(paths: &crate::paths::Paths, id: &ContainerId) -> std::path::PathBuf {
    paths.container(id).join("disk-exceeded")
}

/// The checkpointed disk limitation of `id`: (used, limit) bytes.
pub(super) fn recorded(paths: &crate::paths::Paths, id: &ContainerId) -> Option<(u64, u64)> {
    let bytes = std::fs::read(marker(paths, id)).ok()?;
    serde_json::from_slice(&bytes).ok()
}
