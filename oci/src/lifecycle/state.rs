//! `state`: the recorded state with its status as observed now — the init's
//! identity (pid and start time) decides stopped, the cgroup freezer decides
//! paused.

use super::{Runtime, RuntimeError};
use crate::id::ContainerId;
use crate::process::ProcessId;
use crate::state::{State, Status};

impl Runtime {
    /// The state of `id`, status refreshed.
    pub fn state(&self, id: &ContainerId) -> Result<State, RuntimeError> {
        let mut state = self.load(id)?;
        state.status = self.observe(&state);
        Ok(state)
    }

    /// The status of `state` as the system shows it now.
    pub(super) fn observe(&self, state: &State) -> Status {
        let init = ProcessId {
            pid: state.pid,
            start_time: state.pid_start_time,
        };
        if state.pid <= 0 {
            return if state.status == Status::Creating {
                Status::Creating
            } else {
                Status::Stopped
            };
        }
        if !init.is_alive() {
            return Status::Stopped;
        }
        if state.status == Status::Created {
            return Status::Created;
        }
        match self.cgroup_of(state).and_then(|c| {
            c.is_frozen()
                .map_err(|e| RuntimeError::Cgroup(e.to_string()))
        }) {
            Ok(true) => Status::Paused,
            _ => Status::Running,
        }
    }
}
