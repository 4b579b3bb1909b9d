//! `kill`: a signal to the container's init (through a pidfd opened after
//! its identity was checked, so a recycled pid is never hit), or with `all`
//! to every process in its cgroup.

use super::{Runtime, RuntimeError};
use crate::id::ContainerId;
use crate::process::ProcessId;
use crate::state::Status;

impl Runtime {
    /// Sends `signal` to container `id`.
    pub fn kill(&self, id: &ContainerId, signal: i32, all: bool) -> Result<(), RuntimeError> {
        let state = self.live(id, "there is no process to signal")?;
        if all {
            let cgroup = self.cgroup_of(&state)?;
            let pids = cgroup
                .procs()
                .map_err(|e| RuntimeError::Cgroup(e.to_string()))?;
            for pid in pids {
                if let Some(p) = ProcessId::of(pid) {
                    let _ = p.signal(signal);
                }
            }
            return Ok(());
        }
        let init = ProcessId {
            pid: state.pid,
            start_time: state.pid_start_time,
        };
        match init.signal(signal) {
            Ok(true) => Ok(()),
            Ok(false) => Err(RuntimeError::WrongStatus {
                id: id.to_string(),
                status: Status::Stopped,
                what: "there is no process to signal",
            }),
            Err(e) => Err(RuntimeError::Io {
                what: format!("sending signal {signal} to {id} (pid {})", state.pid),
                source: std::io::Error::from_raw_os_error(e),
            }),
        }
    }
}
