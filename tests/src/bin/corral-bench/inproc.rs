//! The lifecycle through the corral-oci library in-process, and waiting
//! for a container's init.

use super::Sample;
use corral_oci::{ContainerId, CreateOptions, Runtime};
use std::path::Path;
use std::time::{Duration, Instant};

/// The in-process lifecycle through the library, as the agent runs it: the
/// init is this process's child.
pub(crate) fn in_process(rt: &Runtime, bundle: &Path, id: &str) -> Result<Sample, String> {
    let cid = ContainerId::new(id).map_err(|e| e.to_string())?;
    let fail =
        |verb: &'static str| move |e: corral_oci::RuntimeError| format!("in-process {verb}: {e}");
    let t0 = Instant::now();
    let state = rt
        .create(&cid, bundle, &CreateOptions::default())
        .map_err(fail("create"))?;
    let t1 = Instant::now();
    rt.start(&cid).map_err(fail("start"))?;
    let t2 = Instant::now();
    let code = wait_child(state.pid)?;
    let t3 = Instant::now();
    rt.delete(&cid, false).map_err(fail("delete"))?;
    let t4 = Instant::now();
    exited_zero(id, code)?;
    Ok(vec![t1 - t0, t2 - t1, t3 - t2, t4 - t3])
}

/// Waits for `pid` (our child, or an orphan we inherited as subreaper),
/// reaping any other orphan on the way; returns its wait status.
pub(crate) fn wait_child(pid: i32) -> Result<i32, String> {
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        let got = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if got == pid {
            return Ok(status);
        }
        if got == -1 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(format!("waiting for container init {pid}: {e}"));
            }
        }
    }
}

pub(crate) fn exited_zero(id: &str, status: i32) -> Result<(), String> {
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    Err(format!(
        "container {id}: `true` did not exit 0 (wait status {status:#x})"
    ))
}

/// The agent's way: `run` (create and start in one call, the init execs
/// right after setup), wait, delete. The start column holds zero.
pub(crate) fn in_process_run(rt: &Runtime, bundle: &Path, id: &str) -> Result<Sample, String> {
    let cid = ContainerId::new(id).map_err(|e| e.to_string())?;
    let fail =
        |verb: &'static str| move |e: corral_oci::RuntimeError| format!("in-process {verb}: {e}");
    let t0 = Instant::now();
    let (state, _) = rt
        .run(&cid, bundle, &CreateOptions::default())
        .map_err(fail("run"))?;
    let t1 = Instant::now();
    let code = wait_child(state.pid)?;
    let t2 = Instant::now();
    rt.delete(&cid, false).map_err(fail("delete"))?;
    let t3 = Instant::now();
    exited_zero(id, code)?;
    Ok(vec![t1 - t0, Duration::ZERO, t2 - t1, t3 - t2])
}
