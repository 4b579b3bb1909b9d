//! Live control over a container's cgroup: pause and resume (the cgroup
//! freezer), update of resources, stats and the list of its processes.

use super::{Runtime, RuntimeError};
use crate::id::ContainerId;
use crate::state::Status;
use corral_isolator::cgroup::Stats;
use oci_spec::runtime::LinuxResources;

impl Runtime {
    /// Freezes every process of a running container.
    pub fn pause(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        self.freeze(
            id,
            true,
            Status::Running,
            "only a running container can be paused",
        )
    }

    /// Thaws a paused container.
    pub fn resume(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        self.freeze(
            id,
            false,
            Status::Paused,
            "only a paused container can be resumed",
        )
    }

    fn freeze(
        &self,
        id: &ContainerId,
        frozen: bool,
        need: Status,
        what: &'static str,
    ) -> Result<(), RuntimeError> {
        let state = self.load(id)?;
        let status = self.observe(&state);
        if status != need {
            return Err(RuntimeError::WrongStatus {
                id: id.to_string(),
                status,
                what,
            });
        }
        self.cgroup_of(&state)?
            .freeze(frozen)
            .map_err(|e| RuntimeError::Cgroup(e.to_string()))
    }

    /// Applies `resources` to a live container.
    pub fn update(&self, id: &ContainerId, resources: &LinuxResources) -> Result<(), RuntimeError> {
        let state = self.live(id, "only a live container can be updated")?;
        let mut resources = resources.clone();
        if let Some(spec) = resources.devices() {
            let rules = corral_isolator::cgroup::devices::container_rules(spec);
            resources.set_devices(Some(rules));
        }
        let cgroup = self.cgroup_of(&state)?;
        self.driver
            .update(&cgroup, &resources)
            .map_err(|e| RuntimeError::Cgroup(e.to_string()))
    }

    /// Resource usage of a live container.
    pub fn stats(&self, id: &ContainerId) -> Result<Stats, RuntimeError> {
        let state = self.live(id, "a stopped container has no stats")?;
        self.cgroup_of(&state)?
            .stats()
            .map_err(|e| RuntimeError::Cgroup(e.to_string()))
    }

    /// The host pids of a container's processes.
    pub fn ps(&self, id: &ContainerId) -> Result<Vec<i32>, RuntimeError> {
        let state = self.load(id)?;
        match self.cgroup_of(&state) {
            Ok(c) => c.procs().map_err(|e| RuntimeError::Cgroup(e.to_string())),
            Err(_) if self.observe(&state) == Status::Stopped => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub(super) fn live(
        &self,
        id: &ContainerId,
        what: &'static str,
    ) -> Result<crate::state::State, RuntimeError> {
        let state = self.load(id)?;
        let status = self.observe(&state);
        if !matches!(status, Status::Created | Status::Running | Status::Paused) {
            return Err(RuntimeError::WrongStatus {
                id: id.to_string(),
                status,
                what,
            });
        }
        Ok(state)
    }
}
