//! How a container's end becomes a terminal task status, as Mesos reports
//! it: a kill the agent was asked for → TASK_KILLED; an OOM kill →
//! TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY citing the limit and
//! the peak; exit 0 → TASK_FINISHED; anything else → TASK_FAILED with the
//! status or signal. Pure: the caller gathers the facts.

use crate::executor::ExitRecord;
use corral_api::v1::{Reason, Resource, TaskState};

/// What is known when a container has ended.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ending {
    /// The executor's record, if it wrote one.
    pub record: Option<ExitRecord>,
    /// The agent had sent a kill.
    pub killed: bool,
    /// OOM kills counted in memory.events.
    pub oom_kills: u64,
    /// memory.max, bytes.
    pub mem_limit: Option<u64>,
    /// memory.peak, bytes.
    pub mem_peak: Option<u64>,
    /// The agent killed it for using more disk than its quota: (used,
    /// limit) bytes.
    pub disk: Option<(u64, u64)>,
}

/// The terminal status to report.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub state: TaskState,
    pub reason: Option<Reason>,
    pub message: String,
    /// The resources whose limit was hit.
    pub limitation: Vec<Resource>,
}

const MIB: f64 = 1024.0 * 1024.0;

fn signal_name(s: i32) -> String {
    let names = [
        (1, "SIGHUP"),
        (2, "SIGINT"),
        (3, "SIGQUIT"),
        (6, "SIGABRT"),
        (9, "SIGKILL"),
        (11, "SIGSEGV"),
        (13, "SIGPIPE"),
        (15, "SIGTERM"),
    ];
    names
        .iter()
        .find(|(n, _)| *n == s)
        .map_or_else(|| format!("signal {s}"), |(_, name)| name.to_string())
}

/// Decides the terminal status.
pub fn verdict(e: &Ending) -> Verdict {
    let plain = |state, reason, message: String| Verdict {
        state,
        reason,
        message,
        limitation: Vec::new(),
    };
    if e.oom_kills > 0 && !e.killed {
        let mib = |b: Option<u64>| {
            b.map_or("unknown".to_string(), |b| {
                format!("{:.1} MiB", b as f64 / MIB)
            })
        };
        return Verdict {
            state: TaskState::Failed,
            reason: Some(Reason::ContainerLimitationMemory),
            message: format!(
                "Memory limit exceeded: the container was OOM-killed at its limit of {} (peak usage {})",
                mib(e.mem_limit),
                mib(e.mem_peak)
            ),
            limitation: e
                .mem_limit
                .map(|l| vec![Resource::scalar("mem", l as f64 / MIB)])
                .unwrap_or_default(),
        };
    }
    if let Some((used, limit)) = e.disk.filter(|_| !e.killed) {
        return Verdict {
            state: TaskState::Failed,
            reason: Some(Reason::ContainerLimitationDisk),
            message: format!(
                "Disk usage ({:.1} MiB) exceeds quota ({:.1} MiB)",
                used as f64 / MIB,
                limit as f64 / MIB
            ),
            limitation: vec![Resource::scalar("disk", limit as f64 / MIB)],
        };
    }
    if e.killed {
        return plain(TaskState::Killed, None, "Command killed".into());
    }
    match e.record {
        Some(ExitRecord::Exited(0)) => plain(
            TaskState::Finished,
            None,
            "Command exited with status 0".into(),
        ),
        Some(ExitRecord::Exited(c)) => plain(
            TaskState::Failed,
            None,
            format!("Command exited with status {c}"),
        ),
        Some(ExitRecord::Signaled(s)) => plain(
            TaskState::Failed,
            None,
            format!("Command terminated by signal {}", signal_name(s)),
        ),
        Some(ExitRecord::NotStarted(errno)) => plain(
            TaskState::Failed,
            Some(Reason::CommandExecutorFailed),
            format!(
                "Command could not be started: {}",
                std::io::Error::from_raw_os_error(errno)
            ),
        ),
        None => plain(
            TaskState::Failed,
            Some(Reason::ExecutorTerminated),
            "The command executor ended without reporting the command's exit".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_kills_and_ooms() {
        let v = |e: Ending| verdict(&e);
        let exited = |c| Ending {
            record: Some(ExitRecord::Exited(c)),
            ..Ending::default()
        };
        assert_eq!(v(exited(0)).state, TaskState::Finished);
        let f = v(exited(3));
        assert_eq!(
            (f.state, f.message.as_str()),
            (TaskState::Failed, "Command exited with status 3")
        );
        let k = v(Ending {
            killed: true,
            record: Some(ExitRecord::Signaled(15)),
            ..Ending::default()
        });
        assert_eq!(k.state, TaskState::Killed);
        let oom = v(Ending {
            oom_kills: 1,
            mem_limit: Some(64 << 20),
            mem_peak: Some(64 << 20),
            ..Ending::default()
        });
        assert_eq!(oom.reason, Some(Reason::ContainerLimitationMemory));
        assert!(oom.message.contains("64.0 MiB"), "{}", oom.message);
        assert_eq!(oom.limitation[0].scalar_value(), Some(64.0));
        let disk = v(Ending {
            disk: Some((3 << 20, 2 << 20)),
            record: Some(ExitRecord::Signaled(9)),
            ..Ending::default()
        });
        assert_eq!(disk.reason, Some(Reason::ContainerLimitationDisk));
        assert_eq!(disk.message, "Disk usage (3.0 MiB) exceeds quota (2.0 MiB)");
        assert_eq!(disk.limitation[0].scalar_value(), Some(2.0));
        let lost = v(Ending::default());
        assert_eq!(lost.reason, Some(Reason::ExecutorTerminated));
        let sig = v(Ending {
            record: Some(ExitRecord::Signaled(9)),
            ..Ending::default()
        });
        assert!(sig.message.ends_with("SIGKILL"));
    }
}
