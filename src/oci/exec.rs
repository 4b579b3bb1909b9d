//! `exec`: another process in a running container, from a process.json
//! (`--process`) or from the container's own process with runc's overrides
//! (command, `--env`, `--cwd`, `--user`, `--cap`, `--no-new-privs`). Waits
//! for it and exits with its status unless `--detach`.

use super::id;
use corral_oci::Runtime;
use oci_spec::runtime::{Capability, Process};
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// A process.json (OCI "process" object) to run.
    #[arg(long, short)]
    process: Option<PathBuf>,
    /// Return once started instead of waiting.
    #[arg(long, short)]
    detach: bool,
    /// Write the process's pid to this file.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Allocate a terminal (needs --console-socket).
    #[arg(long, short)]
    tty: bool,
    /// Unix socket for the terminal's master fd.
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Extra environment, KEY=VALUE.
    #[arg(long = "env", short = 'e')]
    env: Vec<String>,
    /// Working directory inside the container.
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// UID[:GID] to run as.
    #[arg(long, short)]
    user: Option<String>,
    /// Extra capability (CAP_NAME) in every set.
    #[arg(long = "cap")]
    caps: Vec<String>,
    /// Set no_new_privs.
    #[arg(long)]
    no_new_privs: bool,
    /// The container id.
    id: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn process(rt: &Runtime, a: &ExecArgs) -> anyhow::Result<Process> {
    if let Some(file) = &a.process {
        let text =
            std::fs::read(file).map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        let de = &mut serde_json::Deserializer::from_slice(&text);
        return serde_path_to_error::deserialize(de)
            .map_err(|e| anyhow::anyhow!("{}: at {}: {}", file.display(), e.path(), e.inner()));
    }
    anyhow::ensure!(
        !a.command.is_empty(),
        "exec: give a command or --process FILE"
    );
    let state = rt.state(&id(&a.id)?)?;
    let bundle = corral_oci::spec::load(&state.bundle)?;
    let mut p = bundle.spec.process().clone().unwrap_or_default();
    p.set_args(Some(a.command.clone()));
    p.set_terminal(Some(a.tty));
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(a.env.iter().cloned());
    p.set_env(Some(env));
    if let Some(cwd) = &a.cwd {
        p.set_cwd(cwd.clone());
    }
    if let Some(u) = &a.user {
        let (uid, gid) = u.split_once(':').unwrap_or((u, "0"));
        let parse = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| anyhow::anyhow!("--user {u:?}: use numeric UID[:GID]"))
        };
        p.user_mut().set_uid(parse(uid)?);
        p.user_mut().set_gid(parse(gid)?);
    }
    if a.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if !a.caps.is_empty() {
        let mut caps = p.capabilities().clone().unwrap_or_default();
        for name in &a.caps {
            let c = Capability::from_str(name.strip_prefix("CAP_").unwrap_or(name))
                .map_err(|_| anyhow::anyhow!("--cap {name:?}: unknown capability"))?;
            let add = |s: &Option<std::collections::HashSet<Capability>>| {
                let mut s = s.clone().unwrap_or_default();
                s.insert(c);
                Some(s)
            };
            caps.set_bounding(add(caps.bounding()));
            caps.set_effective(add(caps.effective()));
            caps.set_permitted(add(caps.permitted()));
        }
        p.set_capabilities(Some(caps));
    }
    Ok(p)
}

pub fn exec(rt: &Runtime, a: &ExecArgs) -> anyhow::Result<i32> {
    let p = process(rt, a)?;
    if !a.detach {
        // SAFETY: plain prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    let started = rt.exec(&id(&a.id)?, p, a.console_socket.as_deref())?;
    if let Some(f) = &a.pid_file {
        std::fs::write(f, started.pid.to_string())
            .map_err(|e| anyhow::anyhow!("writing pid file {}: {e}", f.display()))?;
    }
    if a.detach {
        return Ok(0);
    }
    Ok(super::run::wait(started.pid))
}
