//! `run`: create, start, wait for the init (it is our child: the runtime made
//! it, and as a child subreaper we also inherit it if a joined pid namespace
//! made it a grandchild), delete; exit with the container's status, 128+N
//! for a signal, as runc does. Signals to the runtime are forwarded.

use super::{CreateArgs, create_options, id};
use corral_oci::Runtime;
use std::sync::atomic::{AtomicI32, Ordering};

static INIT: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int) {
    let pid = INIT.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

pub fn run(rt: &Runtime, c: &CreateArgs, detach: bool, keep: bool) -> anyhow::Result<i32> {
    let cid = id(&c.id)?;
    if !detach {
        // SAFETY: plain prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    let state = rt.create(&cid, &c.bundle, &create_options(c)?)?;
    for w in &state.warnings {
        eprintln!("corral-oci: warning: {w}");
    }
    if let Err(e) = rt.start(&cid) {
        let _ = rt.delete(&cid, true);
        return Err(e.into());
    }
    if detach {
        return Ok(0);
    }
    INIT.store(state.pid, Ordering::Relaxed);
    for sig in [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
    ] {
        // SAFETY: forward is an async-signal-safe handler.
        unsafe { libc::signal(sig, forward as *const () as libc::sighandler_t) };
    }
    let code = wait(state.pid);
    if !keep {
        for w in rt.delete(&cid, true)? {
            eprintln!("corral-oci: warning: {w}");
        }
    }
    Ok(code)
}

/// Waits for `pid`, reaping any other orphan on the way; its exit code.
pub fn wait(pid: i32) -> i32 {
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        let got = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if got == -1 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return 255;
        }
        if got == pid {
            return if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            };
        }
    }
}
