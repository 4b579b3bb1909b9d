//! The disk quota, as Mesos' `disk/du` isolator with enforcement on: every
//! `--container-disk-watch-interval` the sandbox of each running container
//! that holds a `disk` resource is measured off the async threads; one over
//! its quota is killed at once (cgroup.kill) and fails with
//! REASON_CONTAINER_LIMITATION_DISK.

use super::{Agent, Input, Phase};
use crate::paths::ContainerId;
use std::time::Instant;

const MIB: f64 = 1024.0 * 1024.0;

impl Agent {
    pub(super) fn check_disks(&mut self, now: Instant) {
        if now < self.next_disk_check {
            return;
        }
        self.next_disk_check = now + self.disk_watch;
        for (id, c) in &self.containers {
            let quota = corral_api::v1::scalar_sum(&c.rec.task.resources, "disk");
            if quota <= 0.0 || !matches!(c.phase, Phase::Running(_)) {
                continue;
            }
            let (tx, id) = (self.tx.clone(), id.clone());
            let sandbox = self.containerizer.paths().sandbox(&id);
            let limit = (quota * MIB) as u64;
            tokio::task::spawn_blocking(move || {
                let used = crate::containerizer::disk::usage(&sandbox);
                let _ = tx.blocking_send(Input::DiskUsage { id, used, limit });
            });
        }
    }

    pub(super) fn on_disk_usage(&mut self, id: &ContainerId, used: u64, limit: u64) {
        let Some(c) = self.containers.get_mut(id) else {
            return;
        };
        if used <= limit
            || c.killed
            || c.disk_exceeded.is_some()
            || !matches!(c.phase, Phase::Running(_))
        {
            return;
        }
        c.disk_exceeded = Some((used, limit));
        let marker = self
            .containerizer
            .paths()
            .container(id)
            .join("disk-exceeded");
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
