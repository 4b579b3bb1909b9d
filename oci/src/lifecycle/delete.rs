//! `delete`: remove a stopped container — its cgroup, its state — and run the
//! poststop hooks. `force` kills a live one first (cgroup.kill). Poststop
//! hook failures are warnings: the container is gone either way. As runc:
//! a container with no state (unknown, or a create cut short before its
//! state was written) has its folder removed, and is an error only without
//! `force` (containerd's shim deletes with `--force` what may be gone).

use super::{Runtime, RuntimeError};
use crate::id::ContainerId;
use crate::process::ProcessId;
use crate::state::{Status, StoreError};
use std::time::{Duration, Instant};

impl Runtime {
    /// Deletes container `id`; returns warnings from poststop hooks.
    pub fn delete(&self, id: &ContainerId, force: bool) -> Result<Vec<String>, RuntimeError> {
        let state = match self.load(id) {
            Err(RuntimeError::Store(StoreError::NotFound(_))) if force => {
                self.store.remove(id)?;
                return Ok(Vec::new());
            }
            Err(e @ RuntimeError::Store(StoreError::NotFound(_))) => {
                self.store.remove(id)?;
                return Err(e);
            }
            result => result?,
        };
        let status = self.observe(&state);
        if matches!(status, Status::Created | Status::Running | Status::Paused) && !force {
            return Err(RuntimeError::WrongStatus {
                id: id.to_string(),
                status,
                what: "stop it first, or delete with --force",
            });
        }
        match self.cgroup_of(&state) {
            Ok(cgroup) => {
                if status == Status::Paused {
                    let _ = cgroup.freeze(false);
                }
                self.driver
                    .remove(cgroup)
                    .map_err(|e| RuntimeError::Cgroup(e.to_string()))?;
            }
            // Creation died before the cgroup existed.
            Err(_) if !state.cgroup_path.exists() => {}
            Err(e) => return Err(e),
        }
        let init = ProcessId {
            pid: state.pid,
            start_time: state.pid_start_time,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while state.pid > 0 && init.is_alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        self.store.remove(id)?;
        let mut warnings = Vec::new();
        let json = serde_json::to_vec(&state.oci(Status::Stopped)).expect("state serializes");
        let hooks = state.hooks.clone().unwrap_or_default();
        for (i, hook) in hooks.poststop().iter().flatten().enumerate() {
            if let Err(e) = crate::hooks::run("poststop", std::slice::from_ref(hook), &json) {
                warnings.push(e.to_string().replacen("hook 0", &format!("hook {i}"), 1));
            }
        }
        Ok(warnings)
    }
}
