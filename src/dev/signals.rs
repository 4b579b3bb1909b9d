//! SIGINT, SIGTERM and SIGHUP for `corral dev`, taken synchronously: they
//! are blocked in every thread (the mask is set before any thread starts)
//! and picked up with `sigtimedwait` between checks of the children. A
//! blocked mask survives exec, so the children clear theirs before it
//! (`daemon.rs`).

use anyhow::{Result, bail};
use std::time::Duration;

/// The blocked set.
pub struct Signals {
    set: libc::sigset_t,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signals(SIGINT, SIGTERM, SIGHUP)")
    }
}

const SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

impl Signals {
    /// Blocks the signals in the calling thread (and so in threads it
    /// starts afterwards).
    pub fn block() -> Result<Signals> {
        // SAFETY: an all-zero sigset_t is a valid value to initialise.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid sigset_t owned here.
        unsafe { libc::sigemptyset(&mut set) };
        for s in SIGNALS {
            // SAFETY: as above; `s` is a valid signal number.
            unsafe { libc::sigaddset(&mut set, s) };
        }
        // SAFETY: `set` is initialised; the old mask is not asked for.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if rc != 0 {
            bail!(
                "blocking SIGINT and SIGTERM: {}",
                std::io::Error::from_raw_os_error(rc)
            );
        }
        Ok(Signals { set })
    }

    /// The next pending signal of the set, waiting at most `timeout`.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
        };
        // SAFETY: `set` and `ts` are valid; no siginfo is asked for.
        let signo = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &ts) };
        (signo > 0).then_some(signo)
    }
}

/// `SIGINT`, `SIGTERM`, `SIGHUP` or `signal N`.
pub fn name(signo: i32) -> String {
    match signo {
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGHUP => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}
