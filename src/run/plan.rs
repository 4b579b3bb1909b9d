//! The pure decisions of `corral run`: the command line as a CommandInfo,
//! which resources of an offer a task takes, how a task status reads on
//! the terminal and which exit status it becomes. No I/O.

use corral_api::v1::{
    CommandInfo, ContainerInfo, ContainerType, Image, MesosInfo, Offer, Resource, Scalar,
    TaskState, TaskStatus,
};

/// The resources a task asks for; `disk` 0 asks for none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Want {
    pub cpus: f64,
    pub mem: f64,
    pub disk: f64,
}

impl std::fmt::Display for Want {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cpus:{};mem:{}", self.cpus, self.mem)?;
        if self.disk > 0.0 {
            write!(f, ";disk:{}", self.disk)?;
        }
        Ok(())
    }
}

/// One argument is a shell command (`/bin/sh -c ARG`, as `mesos-execute
/// --command`); several are an argv run without a shell.
pub fn command_info(args: &[String]) -> Result<CommandInfo, String> {
    match args {
        [] => Err("no command given: corral run [OPTIONS] -- CMD [ARGS...]".into()),
        [one] if one.trim().is_empty() => Err("the command is empty".into()),
        [one] => Ok(CommandInfo::shell(one.clone())),
        argv => Ok(CommandInfo::argv(argv.iter().cloned())),
    }
}

/// No command with `--image`: the image's Entrypoint/Cmd (a command that
/// is not a shell command and has no value, as Mesos reads it).
pub fn image_default_command() -> CommandInfo {
    CommandInfo {
        shell: false,
        ..CommandInfo::default()
    }
}

/// `--image NAME`: a Mesos container with that Docker image.
pub fn container_info(name: &str) -> ContainerInfo {
    ContainerInfo {
        r#type: ContainerType::Mesos,
        mesos: Some(MesosInfo {
            image: Some(Image::docker(name)),
        }),
        ..ContainerInfo::default()
    }
}

/// The task's name: `--name`, else the command's first word without its
/// folder; letters, digits, `.`, `_` and `-` kept, anything else `-` (it
/// starts the task id).
pub fn task_name(name: Option<&str>, command: &[String]) -> String {
    let word = command
        .first()
        .and_then(|c| c.split_whitespace().next())
        .map(|w| w.rsplit('/').next().unwrap_or(w));
    let raw = name.or(word).filter(|n| !n.is_empty()).unwrap_or("task");
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The entries of `offer` the task takes: for each wanted scalar, the
/// first plain entry (no persistent volume, no revocable, no disk source)
/// holding enough, cut to the amount wanted (its role, allocation and
/// reservations kept). `None` when the offer cannot hold the task.
pub fn take(offer: &Offer, want: Want) -> Option<Vec<Resource>> {
    let mut out = Vec::new();
    for (name, amount) in [("cpus", want.cpus), ("mem", want.mem), ("disk", want.disk)] {
        if amount <= 0.0 {
            continue;
        }
        let found = offer.resources.iter().find(|r| {
            r.name == name
                && !r.is_persistent_volume()
                && !r.is_revocable()
                && r.disk.is_none()
                && r.scalar_value().is_some_and(|v| v + 1e-9 >= amount)
        })?;
        out.push(Resource {
            scalar: Some(Scalar::new(amount)),
            ..found.clone()
        });
    }
    Some(out)
}

/// The scalars of an offer, `cpus:2;mem:1024;disk:3000`, for messages.
pub fn offered(offer: &Offer) -> String {
    let mut parts = Vec::new();
    for name in ["cpus", "mem", "disk"] {
        let total: f64 = offer
            .resources
            .iter()
            .filter(|r| r.name == name)
            .filter_map(Resource::scalar_value)
            .sum();
        parts.push(format!("{name}:{total}"));
    }
    parts.join(";")
}

/// A status as one line: `TASK_FAILED: Command exited with status 3
/// (REASON_COMMAND_EXECUTOR_FAILED)`.
pub fn describe(s: &TaskStatus) -> String {
    let mut line = s.state.to_string();
    if let Some(m) = s.message.as_deref().filter(|m| !m.is_empty()) {
        line.push_str(": ");
        line.push_str(m);
    }
    if let Some(r) = s.reason {
        line.push_str(&format!(" ({r})"));
    }
    line
}

/// The number of a signal as the agent names it (`SIGKILL`, or
/// `signal 10` for those it has no name for).
pub fn signal_number(name: &str) -> Option<i32> {
    if let Some(n) = name.strip_prefix("signal ") {
        return n.trim().parse().ok();
    }
    let known = [
        ("SIGHUP", libc::SIGHUP),
        ("SIGINT", libc::SIGINT),
        ("SIGQUIT", libc::SIGQUIT),
        ("SIGILL", libc::SIGILL),
        ("SIGTRAP", libc::SIGTRAP),
        ("SIGABRT", libc::SIGABRT),
        ("SIGBUS", libc::SIGBUS),
        ("SIGFPE", libc::SIGFPE),
        ("SIGKILL", libc::SIGKILL),
        ("SIGUSR1", libc::SIGUSR1),
        ("SIGSEGV", libc::SIGSEGV),
        ("SIGUSR2", libc::SIGUSR2),
        ("SIGPIPE", libc::SIGPIPE),
        ("SIGALRM", libc::SIGALRM),
        ("SIGTERM", libc::SIGTERM),
        ("SIGXCPU", libc::SIGXCPU),
        ("SIGXFSZ", libc::SIGXFSZ),
        ("SIGSYS", libc::SIGSYS),
    ];
    known.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The exit status `corral run` ends with for a terminal status: 0 for
/// TASK_FINISHED; N for TASK_FAILED "Command exited with status N";
/// 128+S for "Command terminated by signal S"; 1 for anything else (a
/// launch failure, an OOM kill, a lost task...).
pub fn exit_code(s: &TaskStatus) -> i32 {
    let message = s.message.as_deref().unwrap_or("");
    match s.state {
        TaskState::Finished => 0,
        TaskState::Failed => {
            if let Some(n) = message.strip_prefix("Command exited with status ") {
                return n.trim().parse().ok().filter(|n| *n != 0).unwrap_or(1);
            }
            if let Some(name) = message.strip_prefix("Command terminated by signal ") {
                return signal_number(name.trim()).map_or(1, |n| 128 + n);
            }
            1
        }
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_api::v1::{Reason, ReservationInfo};
    use corral_api::{AgentId, OfferId, TaskId};

    fn status(state: TaskState, message: &str) -> TaskStatus {
        let mut s = TaskStatus::new(TaskId::new("t"), state);
        s.message = Some(message.into());
        s
    }

    #[test]
    fn one_argument_is_a_shell_command_several_an_argv() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let c = command_info(&args(&["echo hi | tr a-z A-Z"])).unwrap();
        assert!(c.shell);
        assert_eq!(c.value.as_deref(), Some("echo hi | tr a-z A-Z"));
        assert!(c.arguments.is_empty());
        let c = command_info(&args(&["sh", "-c", "exit 3"])).unwrap();
        assert!(!c.shell);
        assert_eq!(c.value.as_deref(), Some("sh"));
        assert_eq!(c.arguments, ["sh", "-c", "exit 3"]);
        assert!(command_info(&[]).is_err());
        let c = container_info("busybox:latest");
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "MESOS");
        assert_eq!(v["mesos"]["image"]["type"], "DOCKER");
        assert_eq!(v["mesos"]["image"]["docker"]["name"], "busybox:latest");
        let d = image_default_command();
        assert!(!d.shell && d.value.is_none());
        assert!(command_info(&args(&["  "])).is_err());
    }

    #[test]
    fn task_names() {
        let cmd = |s: &str| vec![s.to_string()];
        assert_eq!(task_name(None, &cmd("/usr/bin/env FOO=1 x")), "env");
        assert_eq!(task_name(None, &cmd("sleep $((1 + 1))")), "sleep");
        assert_eq!(task_name(Some("my job/1"), &cmd("x")), "my-job-1");
        assert_eq!(task_name(None, &cmd("  ")), "task");
    }

    #[test]
    fn exit_statuses() {
        assert_eq!(
            exit_code(&status(TaskState::Finished, "Command exited with status 0")),
            0
        );
        assert_eq!(
            exit_code(&status(TaskState::Failed, "Command exited with status 3")),
            3
        );
        assert_eq!(
            exit_code(&status(TaskState::Failed, "Command exited with status 255")),
            255
        );
        let signaled = |m| exit_code(&status(TaskState::Failed, m));
        assert_eq!(signaled("Command terminated by signal SIGKILL"), 137);
        assert_eq!(signaled("Command terminated by signal SIGSEGV"), 139);
        assert_eq!(signaled("Command terminated by signal signal 10"), 138);
        assert_eq!(signaled("Command terminated by signal SIGWHAT"), 1);
        assert_eq!(signaled("Memory limit exceeded: ..."), 1);
        assert_eq!(signaled("Command exited with status 0"), 1);
        assert_eq!(exit_code(&status(TaskState::Killed, "")), 1);
        assert_eq!(exit_code(&status(TaskState::Error, "bad")), 1);
        assert_eq!(exit_code(&status(TaskState::Lost, "")), 1);
    }

    #[test]
    fn a_status_reads_as_one_line() {
        let mut s = status(TaskState::Failed, "Command exited with status 3");
        assert_eq!(describe(&s), "TASK_FAILED: Command exited with status 3");
        s.reason = Some(Reason::ContainerLimitationMemory);
        s.message = None;
        assert_eq!(
            describe(&s),
            "TASK_FAILED (REASON_CONTAINER_LIMITATION_MEMORY)"
        );
    }

    fn offer(resources: Vec<Resource>) -> Offer {
        Offer {
            id: OfferId::new("o"),
            agent_id: AgentId::new("a"),
            resources,
            ..Offer::default()
        }
    }

    #[test]
    fn a_task_takes_what_it_wants_from_an_offer_that_fits() {
        let o = offer(vec![
            Resource::scalar("cpus", 0.2).allocated_to("*"),
            Resource::scalar("cpus", 2.0)
                .reserved(ReservationInfo::static_for("eng"))
                .allocated_to("eng"),
            Resource::scalar("mem", 1024.0).allocated_to("*"),
            Resource::scalar("disk", 500.0).allocated_to("*"),
        ]);
        let want = Want {
            cpus: 0.5,
            mem: 128.0,
            disk: 0.0,
        };
        let got = take(&o, want).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].scalar_value(), Some(0.5));
        assert_eq!(
            got[0].reservation_role(),
            Some("eng"),
            "the entry with room"
        );
        assert_eq!(got[0].allocation_role(), Some("eng"));
        assert_eq!(
            (got[1].name.as_str(), got[1].scalar_value()),
            ("mem", Some(128.0))
        );
        let with_disk = take(
            &o,
            Want {
                disk: 100.0,
                ..want
            },
        )
        .unwrap();
        assert_eq!(with_disk[2].name, "disk");
        assert!(
            take(
                &o,
                Want {
                    disk: 600.0,
                    ..want
                }
            )
            .is_none()
        );
        assert!(
            take(
                &o,
                Want {
                    mem: 2048.0,
                    ..want
                }
            )
            .is_none()
        );
        assert_eq!(offered(&o), "cpus:2.2;mem:1024;disk:500");
        assert_eq!(want.to_string(), "cpus:0.5;mem:128");
    }
}
