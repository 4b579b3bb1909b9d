//! The built-in command executor: the init of every command task's
//! container. It runs the task's command as its child in a session of its
//! own, forwards SIGTERM/SIGINT/SIGHUP to that session, reaps every
//! orphan (it is pid 1), and when the command ends writes an
//! [`ExitRecord`] to the descriptor the agent passed (fd 3, a file in the
//! agent's own folders the task cannot see), then exits with the
//! command's status. The record is how a restarted agent learns the true
//! end of a task that finished while it was down.
//!
//! It makes itself non-dumpable, so the task (same user, no
//! CAP_SYS_PTRACE) can neither trace it nor open its descriptors through
//! /proc; as the namespace's init it ignores signals it has no handler
//! for, SIGKILL included, when they come from inside.

use serde::{Deserialize, Serialize};
use std::os::unix::process::CommandExt;

/// The descriptor the record is written to.
pub const RECORD_FD: i32 = 3;

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitRecord {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it.
    Signaled(i32),
    /// It could not be started (errno).
    NotStarted(i32),
}

impl ExitRecord {
    /// The executor's own exit status for this outcome.
    pub fn status(self) -> i32 {
        match self {
            ExitRecord::Exited(c) => c,
            ExitRecord::Signaled(s) => 128 + s,
            ExitRecord::NotStarted(_) => 127,
        }
    }

    /// From a wait status.
    pub fn from_wait(status: libc::c_int) -> ExitRecord {
        if libc::WIFSIGNALED(status) {
            ExitRecord::Signaled(libc::WTERMSIG(status))
        } else {
            ExitRecord::Exited(libc::WEXITSTATUS(status))
        }
    }
}

const FORWARDED: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Runs `argv` and never returns. Errors go to stderr (the sandbox's
/// stderr file).
pub fn main(argv: &[String]) -> ! {
    let record = run(argv);
    write_record(record);
    std::process::exit(record.status())
}

fn empty_set() -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is valid storage for sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is valid storage.
    unsafe { libc::sigemptyset(&mut set) };
    set
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is valid storage for sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is valid storage.
    unsafe { libc::sigemptyset(&mut set) };
    for s in FORWARDED.iter().chain([&libc::SIGCHLD]) {
        // SAFETY: set is initialised and s a valid signal.
        unsafe { libc::sigaddset(&mut set, *s) };
    }
    set
}

fn run(argv: &[String]) -> ExitRecord {
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    let Some((program, args)) = argv.split_first() else {
        eprintln!("corral executor: no command given");
        return ExitRecord::NotStarted(libc::EINVAL);
    };
    let set = signal_set();
    // Blocked before the child exists, so none is lost; taken with
    // sigwaitinfo below.
    // SAFETY: set is initialised.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    let empty = empty_set();
    let hook = move || {
        // SAFETY: empty is an initialised set.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) };
        // SAFETY: setsid takes no arguments.
        unsafe { libc::setsid() };
        Ok(())
    };
    // SAFETY: the hook makes only async-signal-safe calls (sigprocmask,
    // setsid) between fork and exec, on data prepared before the fork.
    unsafe { cmd.pre_exec(hook) };
    let child = match cmd.spawn() {
        Ok(c) => c.id() as i32,
        Err(e) => {
            eprintln!("corral executor: cannot run {program:?}: {e}");
            return ExitRecord::NotStarted(e.raw_os_error().unwrap_or(libc::ENOENT));
        }
    };
    loop {
        // SAFETY: an all-zero siginfo_t is valid output storage.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: set is initialised, info valid storage.
        let sig = unsafe { libc::sigwaitinfo(&set, &mut info) };
        if sig == libc::SIGCHLD {
            if let Some(r) = reap(child) {
                return r;
            }
        } else if sig > 0 {
            // The command leads its own session: signal all of it.
            // SAFETY: kill with a process group id and a valid signal.
            unsafe { libc::kill(-child, sig) };
        }
    }
}

/// Reaps every exited child; the command's record once it is among them.
fn reap(command: i32) -> Option<ExitRecord> {
    let mut found = None;
    loop {
        let mut status = 0;
        // SAFETY: status is valid storage.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return found;
        }
        if pid == command {
            found = Some(ExitRecord::from_wait(status));
        }
    }
}

fn write_record(record: ExitRecord) {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    let text = serde_json::to_vec(&record).expect("records serialize");
    // SAFETY: the agent passed fd 3 for this; nothing else here owns it.
    let mut f = unsafe { std::fs::File::from_raw_fd(RECORD_FD) };
    if let Err(e) = f.write_all(&text).and_then(|()| f.sync_all()) {
        eprintln!("corral executor: writing the exit record: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_map_to_shell_exit_statuses() {
        assert_eq!(ExitRecord::Exited(3).status(), 3);
        assert_eq!(ExitRecord::Signaled(9).status(), 137);
        assert_eq!(ExitRecord::NotStarted(2).status(), 127);
        let text = serde_json::to_string(&ExitRecord::Signaled(15)).unwrap();
        assert_eq!(text, r#"{"signaled":15}"#);
        assert_eq!(ExitRecord::from_wait(3 << 8), ExitRecord::Exited(3));
        assert_eq!(ExitRecord::from_wait(9), ExitRecord::Signaled(9));
    }
}
