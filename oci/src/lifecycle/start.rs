//! `start`: connect to the waiting init's start socket and let it exec the
//! user program. The connection stays open across the exec (close-on-exec):
//! EOF means the program runs, a report means exec failed and why. Then the
//! poststart hooks run; their failures are warnings, as the spec says.

use super::{Runtime, RuntimeError};
use crate::child::report::Report;
use crate::id::ContainerId;
use crate::state::Status;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

impl Runtime {
    /// Starts created container `id`; returns warnings from poststart hooks.
    pub fn start(&self, id: &ContainerId) -> Result<Vec<String>, RuntimeError> {
        let mut state = self.load(id)?;
        let status = self.observe(&state);
        if status != Status::Created {
            return Err(RuntimeError::WrongStatus {
                id: id.to_string(),
                status,
                what: "only a created container can be started",
            });
        }
        let sock = self.start_socket(id);
        let dir = std::fs::File::open(self.store.dir(id))
            .map_err(RuntimeError::io(format!("opening state of {id}")))?;
        let short = Path::new("/proc/self/fd")
            .join(dir.as_raw_fd().to_string())
            .join("start.sock");
        let mut conn = UnixStream::connect(&short).map_err(RuntimeError::io(format!(
            "connecting to {}",
            sock.display()
        )))?;
        conn.write_all(&[0]).map_err(RuntimeError::io(format!(
            "signalling start on {}",
            sock.display()
        )))?;
        let mut buf = [0u8; std::mem::size_of::<Report>()];
        let n = read_all(&mut conn, &mut buf)
            .map_err(RuntimeError::io(format!("waiting for the exec of {id}")))?;
        let _ = std::fs::remove_file(&sock);
        if n == buf.len() {
            // SAFETY: Report is plain repr(C) integers; any bytes are valid.
            let report: Report = unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) };
            let plan_err = self.exec_error(&state, report);
            state.status = Status::Stopped;
            let _ = self.store.save(&state);
            return Err(plan_err);
        }
        state.status = Status::Running;
        self.store.save(&state)?;
        Ok(poststart(&state))
    }

    fn exec_error(&self, state: &crate::state::State, report: Report) -> RuntimeError {
        match crate::spec::load(&state.bundle) {
            Ok(bundle) => {
                let host = crate::plan::HostFacts {
                    last_cap: super::last_cap(),
                    no_pivot: false,
                };
                match crate::plan::plan(&bundle, &host, &|p| p.is_dir()) {
                    Ok(plan) => crate::launch::child_error(&plan, report).into(),
                    Err(e) => e.into(),
                }
            }
            Err(_) => RuntimeError::Io {
                what: format!(
                    "starting {}: {}",
                    state.id,
                    crate::child::report::describe(report.step)
                ),
                source: std::io::Error::from_raw_os_error(report.value),
            },
        }
    }
}

/// Runs the poststart hooks of a container that just started; their
/// failures are returned as warnings.
pub(super) fn poststart(state: &crate::state::State) -> Vec<String> {
    let json = serde_json::to_vec(&state.oci(Status::Running)).expect("state serializes");
    let hooks = state.hooks.clone().unwrap_or_default();
    let mut warnings = Vec::new();
    for (i, hook) in hooks.poststart().iter().flatten().enumerate() {
        if let Err(e) = crate::hooks::run("poststart", std::slice::from_ref(hook), &json) {
            warnings.push(e.to_string().replacen("hook 0", &format!("hook {i}"), 1));
        }
    }
    warnings
}

fn read_all(conn: &mut UnixStream, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match conn.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
