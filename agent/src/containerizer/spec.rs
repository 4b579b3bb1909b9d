//! The base of a command task's OCI spec, before the isolators patch it:
//! the built-in command executor as the process (running the task's
//! command), its user, Mesos' environment variables, the hostname and the
//! cgroup path; with an image, its runtime defaults applied as Mesos'
//! `docker/runtime` isolator does (Entrypoint/Cmd when the command is not
//! a shell command and has no value, image Env under the task's own).
//! Pure: tested without a kernel.

use super::user::User;
use crate::images::RuntimeConfig;
use corral_api::v1::{CommandInfo, TaskInfo, VariableType};
use corral_api::{AgentId, FrameworkId};
use serde_json::{Value, json};
use std::path::Path;

/// The PATH tasks start with.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the base spec is made from.
#[derive(Debug)]
pub struct BaseSpec<'a> {
    pub task: &'a TaskInfo,
    pub framework_id: &'a FrameworkId,
    pub agent_id: &'a AgentId,
    pub container_id: &'a str,
    /// The command executor binary (the agent's own, normally).
    pub executor: &'a Path,
    pub user: Option<User>,
    pub hostname: &'a str,
    /// The container's cgroup, relative to the cgroup mount.
    pub cgroups_path: &'a Path,
    /// A custom executor's container: Mesos' executor environment (no
    /// MESOS_TASK_ID; the task is the executor).
    pub executor_env: Option<&'a [String]>,
    /// The image's runtime defaults, when the task has an image.
    pub image: Option<&'a RuntimeConfig>,
    /// What starts the executor binary (the bound host loader in image
    /// containers when the binary is dynamically linked; else nothing).
    pub launcher: &'a [String],
}

/// The task's command as argv: `/bin/sh -c VALUE` for a shell command,
/// else VALUE with `arguments[1..]`; with an image and no VALUE (not a
/// shell command), the image's Entrypoint followed by the task's
/// arguments or else the image's Cmd, or without an Entrypoint the
/// task's arguments or else the Cmd (Mesos' table).
pub fn command_argv(c: &CommandInfo, image: Option<&RuntimeConfig>) -> Result<Vec<String>, String> {
    let value = c.value.clone().filter(|v| !v.is_empty());
    let no_value = "the task's command has no value";
    match (c.shell, value, image) {
        (true, Some(v), _) => Ok(vec!["/bin/sh".into(), "-c".into(), v]),
        (false, Some(v), _) => Ok(std::iter::once(v)
            .chain(c.arguments.iter().skip(1).cloned())
            .collect()),
        (false, None, Some(img)) => {
            let tail = if c.arguments.is_empty() {
                &img.cmd
            } else {
                &c.arguments
            };
            let argv: Vec<String> = img.entrypoint.iter().chain(tail).cloned().collect();
            if argv.is_empty() {
                return Err(format!("{no_value} and its image has no Entrypoint or Cmd"));
            }
            Ok(argv)
        }
        _ => Err(no_value.into()),
    }
}

/// Sets `NAME=VALUE` in `env`, replacing an earlier value of NAME.
fn set(env: &mut Vec<String>, entry: String) {
    let name = entry.split('=').next().unwrap_or_default().to_string();
    env.retain(|e| e.split('=').next() != Some(name.as_str()));
    env.push(entry);
}

fn environment(b: &BaseSpec, c: &CommandInfo) -> Result<Vec<String>, String> {
    let mut env = vec![format!("PATH={DEFAULT_PATH}")];
    for e in b.image.map(|i| i.env.as_slice()).unwrap_or_default() {
        if e.contains('=') && !e.starts_with('=') {
            set(&mut env, e.clone());
        }
    }
    for e in [
        format!("MESOS_TASK_ID={}", b.task.task_id),
        format!("MESOS_EXECUTOR_ID={}", b.task.task_id),
        format!("MESOS_FRAMEWORK_ID={}", b.framework_id),
        format!("MESOS_AGENT_ID={}", b.agent_id),
        format!("MESOS_SLAVE_ID={}", b.agent_id),
        format!("MESOS_CONTAINER_ID={}", b.container_id),
    ] {
        set(&mut env, e);
    }
    if let Some(extra) = b.executor_env {
        env.retain(|e| !e.starts_with("MESOS_TASK_ID="));
        for e in extra {
            set(&mut env, e.clone());
        }
    }
    for v in c.environment.iter().flat_map(|e| &e.variables) {
        if v.r#type == VariableType::Secret {
            return Err(format!(
                "environment variable {}: secrets are not supported",
                v.name
            ));
        }
        if v.name.is_empty() || v.name.contains('=') {
            return Err(format!(
                "environment variable {:?} has an invalid name",
                v.name
            ));
        }
        set(
            &mut env,
            format!("{}={}", v.name, v.value.clone().unwrap_or_default()),
        );
    }
    Ok(env)
}

/// The base spec as JSON; errors say what in the task is wrong.
pub fn base_spec(b: &BaseSpec) -> Result<Value, String> {
    let command = b.task.command.as_ref().ok_or("the task has no command")?;
    let mut args = b.launcher.to_vec();
    args.extend([
        b.executor
            .to_str()
            .ok_or("the executor path is not UTF-8")?
            .to_string(),
        "executor".into(),
        "--".into(),
    ]);
    args.extend(command_argv(command, b.image)?);
    let user = b.user.map_or(
        json!({"uid": 0, "gid": 0}),
        |u| json!({"uid": u.uid, "gid": u.gid}),
    );
    Ok(json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": user,
            "args": args,
            "env": environment(b, command)?,
            "cwd": "/",
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": b.hostname,
        "mounts": [],
        "linux": {
            "cgroupsPath": b.cgroups_path,
            "resources": {},
            "namespaces": [],
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_api::TaskId;
    use corral_api::v1::{Environment, Variable};

    fn task(cmd: CommandInfo) -> TaskInfo {
        TaskInfo {
            task_id: TaskId::new("t1"),
            command: Some(cmd),
            ..TaskInfo::default()
        }
    }

    fn base<'a>(t: &'a TaskInfo, f: &'a FrameworkId, a: &'a AgentId) -> BaseSpec<'a> {
        BaseSpec {
            task: t,
            framework_id: f,
            agent_id: a,
            container_id: "c1",
            executor: Path::new("/usr/bin/corral"),
            user: Some(User {
                uid: 1000,
                gid: 100,
            }),
            hostname: "h",
            cgroups_path: Path::new("corral/containers/c1"),
            executor_env: None,
            image: None,
            launcher: &[],
        }
    }

    #[test]
    fn shell_commands_run_under_the_executor_with_mesos_env() {
        let mut cmd = CommandInfo::shell("echo hi");
        cmd.environment = Some(Environment {
            variables: vec![Variable::new("FOO", "bar"), Variable::new("PATH", "/x")],
        });
        let (t, f, a) = (task(cmd), FrameworkId::new("f"), AgentId::new("a"));
        let s = base_spec(&base(&t, &f, &a)).unwrap();
        assert_eq!(
            s["process"]["args"],
            json!([
                "/usr/bin/corral",
                "executor",
                "--",
                "/bin/sh",
                "-c",
                "echo hi"
            ])
        );
        let env: Vec<&str> = s["process"]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(env.contains(&"MESOS_TASK_ID=t1") && env.contains(&"FOO=bar"));
        assert!(env.contains(&"PATH=/x") && !env.iter().any(|e| e.starts_with("PATH=/usr")));
        assert_eq!(s["process"]["user"], json!({"uid": 1000, "gid": 100}));
        assert_eq!(s["linux"]["cgroupsPath"], "corral/containers/c1");
    }

    #[test]
    fn a_custom_executor_gets_the_executor_environment_and_no_task_id() {
        let mut cmd = CommandInfo::shell("./my-executor");
        cmd.environment = Some(Environment {
            variables: vec![Variable::new("MESOS_CHECKPOINT", "0")],
        });
        let (t, f, a) = (task(cmd), FrameworkId::new("f"), AgentId::new("a"));
        let extra = [
            "MESOS_AGENT_ENDPOINT=127.0.0.1:5051".to_string(),
            "MESOS_CHECKPOINT=1".into(),
        ];
        let mut b = base(&t, &f, &a);
        b.executor_env = Some(&extra);
        let s = base_spec(&b).unwrap();
        let env: Vec<&str> = s["process"]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            !env.iter().any(|e| e.starts_with("MESOS_TASK_ID=")),
            "{env:?}"
        );
        assert!(env.contains(&"MESOS_EXECUTOR_ID=t1"));
        assert!(env.contains(&"MESOS_AGENT_ENDPOINT=127.0.0.1:5051"));
        // The command's own environment still wins.
        assert!(env.contains(&"MESOS_CHECKPOINT=0") && !env.contains(&"MESOS_CHECKPOINT=1"));
    }

    #[test]
    fn image_defaults_follow_mesos_table() {
        let img = RuntimeConfig {
            entrypoint: vec!["/ep".into(), "-x".into()],
            cmd: vec!["c1".into()],
            env: vec!["PATH=/img/bin".into(), "A=img".into(), "B=img".into()],
            ..RuntimeConfig::default()
        };
        let bare = CommandInfo {
            shell: false,
            ..CommandInfo::default()
        };
        assert_eq!(
            command_argv(&bare, Some(&img)).unwrap(),
            ["/ep", "-x", "c1"]
        );
        let mut args = bare.clone();
        args.arguments = vec!["a1".into(), "a2".into()];
        assert_eq!(
            command_argv(&args, Some(&img)).unwrap(),
            ["/ep", "-x", "a1", "a2"]
        );
        let cmd_only = RuntimeConfig {
            cmd: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            ..RuntimeConfig::default()
        };
        assert_eq!(command_argv(&bare, Some(&cmd_only)).unwrap()[0], "/bin/sh");
        assert_eq!(command_argv(&args, Some(&cmd_only)).unwrap(), ["a1", "a2"]);
        let e = command_argv(&bare, Some(&RuntimeConfig::default())).unwrap_err();
        assert!(e.contains("Entrypoint"), "{e}");
        // A value overrides the image; a shell command runs the image's sh.
        let v = CommandInfo::argv(["/bin/echo", "x"]);
        assert_eq!(command_argv(&v, Some(&img)).unwrap(), ["/bin/echo", "x"]);
        let sh = CommandInfo::shell("echo hi");
        assert_eq!(
            command_argv(&sh, Some(&img)).unwrap()[..2],
            ["/bin/sh", "-c"]
        );
        // Env: the image's over the default PATH, the task's over both.
        let mut cmd = CommandInfo::shell("env");
        cmd.environment = Some(Environment {
            variables: vec![Variable::new("B", "task")],
        });
        let (t, f, a) = (task(cmd), FrameworkId::new("f"), AgentId::new("a"));
        let launcher = ["/run/corral/lib/ld.so".to_string()];
        let mut b = base(&t, &f, &a);
        b.image = Some(&img);
        b.launcher = &launcher;
        let s = base_spec(&b).unwrap();
        let env: Vec<&str> = s["process"]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            env.contains(&"PATH=/img/bin") && env.contains(&"A=img"),
            "{env:?}"
        );
        assert!(
            env.contains(&"B=task") && !env.contains(&"B=img"),
            "{env:?}"
        );
        assert_eq!(s["process"]["args"][0], "/run/corral/lib/ld.so");
        assert_eq!(s["process"]["args"][1], "/usr/bin/corral");
    }

    #[test]
    fn argv_commands_and_bad_tasks() {
        let c = CommandInfo::argv(["/bin/echo", "a", "b"]);
        assert_eq!(command_argv(&c, None).unwrap(), ["/bin/echo", "a", "b"]);
        let none = CommandInfo {
            shell: false,
            ..CommandInfo::default()
        };
        assert!(command_argv(&none, None).is_err());
        let (f, a) = (FrameworkId::new("f"), AgentId::new("a"));
        let no_cmd = TaskInfo::default();
        assert_eq!(
            base_spec(&base(&no_cmd, &f, &a)).unwrap_err(),
            "the task has no command"
        );
    }
}
