//! `corral dev`: a one-machine cluster for trying corral and developing
//! frameworks. It starts `corral master` and `corral agent` (children of
//! this binary) on loopback with their state under one data dir, prints
//! their URLs once both serve and the agent has registered, and on Ctrl-C
//! or SIGTERM stops the agent, kills whatever tasks it left (its cgroup
//! subtree, removed deepest first) and stops the master: nothing is left
//! running. On a host whose cgroup v2 hierarchy lacks the controllers, it
//! says so and runs the agent with the isolators that need none.

mod cgroup;
mod daemon;
mod signals;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use daemon::Daemon;
use signals::Signals;
use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// How long each daemon may take to serve, and the agent to register.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the agent has to stop after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long the master has: it keeps serving frameworks' open event
/// streams after SIGTERM, so a subscribed `corral run` holds it up.
const MASTER_GRACE: Duration = Duration::from_secs(3);

/// Flags of `corral dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// The master's registry, the agent's work dir and both logs.
    #[arg(long = "data-dir", default_value = "/var/lib/corral/dev")]
    data_dir: PathBuf,
    /// The master's port; 0 picks a free one (and one for the agent).
    #[arg(long, default_value_t = 5050)]
    port: u16,
    /// The agent's port (default: the master's + 1; free with --port 0).
    #[arg(long = "agent-port")]
    agent_port: Option<u16>,
    /// The agent's cgroup subtree, relative to the cgroup v2 mount; killed
    /// and removed on stop.
    #[arg(long = "cgroup-root", default_value = "corral-dev")]
    cgroup_root: PathBuf,
    /// The agent's isolators (default: all; namespaces only when the cgroup
    /// v2 controllers are missing).
    #[arg(long)]
    isolation: Option<String>,
    /// The agent's resources (default: what the machine has).
    #[arg(long)]
    resources: Option<String>,
}

/// Runs the cluster until Ctrl-C or SIGTERM; the process's exit code.
pub fn main(args: DevArgs) -> i32 {
    // Before any thread exists, so every thread inherits the mask.
    let signals = match Signals::block() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("corral dev: {e:#}");
            return 1;
        }
    };
    match dev(args, &signals) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("corral dev: {e:#}");
            1
        }
    }
}

/// The running master and agent; stopped in order on drop.
#[derive(Debug)]
struct Cluster {
    master: Option<Daemon>,
    agent: Option<Daemon>,
    /// The agent's cgroup subtree on the host.
    cgroup: PathBuf,
}

impl Cluster {
    /// Agent, its tasks, master. Errors are reported, not fatal: each step
    /// runs whatever the one before did.
    fn stop(&mut self) -> Result<()> {
        if let Some(mut agent) = self.agent.take()
            && !agent.stop(STOP_GRACE)
        {
            eprintln!("corral dev: the agent ignored SIGTERM for {STOP_GRACE:?}; killed");
        }
        let tasks = cgroup::remove_subtree(&self.cgroup);
        if let Some(mut master) = self.master.take()
            && !master.stop(MASTER_GRACE)
        {
            eprintln!(
                "corral dev: the master still served open streams (subscribed frameworks) \
                 {MASTER_GRACE:?} after SIGTERM; killed (its registry survives that)"
            );
        }
        tasks.with_context(|| {
            format!(
                "killing the agent's tasks in {}: some may still run",
                self.cgroup.display()
            )
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if (self.agent.is_some() || self.master.is_some())
            && let Err(e) = self.stop()
        {
            eprintln!("corral dev: {e:#}");
        }
    }
}

fn os(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_os_string()).collect()
}

/// A relative path without `..`: a cgroup below the mount.
fn below(root: &Path) -> Result<()> {
    let ok = !root.as_os_str().is_empty()
        && root.components().all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        bail!(
            "--cgroup-root '{}' must be a relative path below the cgroup mount",
            root.display()
        );
    }
    Ok(())
}

/// The isolators to run the agent with: as asked when the controllers are
/// there; namespaces only, loudly, when they are not and none were asked.
fn isolation(mount: &Path, args: &DevArgs) -> Result<Option<String>> {
    let missing = cgroup::missing_controllers(mount, &args.cgroup_root, args.isolation.as_deref())?;
    if missing.is_empty() {
        return Ok(args.isolation.clone());
    }
    if let Some(asked) = &args.isolation {
        bail!(
            "--isolation {asked} needs the cgroup controllers {} that {} lacks",
            missing.join(", "),
            mount.display()
        );
    }
    eprintln!(
        "corral dev: WARNING: the cgroup v2 hierarchy at {} has no {} controller(s) \
         (a cgroup v1 or hybrid host?).\n\
         corral dev: WARNING: running the agent with namespaces only: tasks' CPU, memory, \
         pids and I/O limits are NOT enforced.\n\
         corral dev: WARNING: boot with systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all \
         for real isolation.",
        mount.display(),
        missing.join(", ")
    );
    Ok(Some(cgroup::NAMESPACES_ONLY.to_string()))
}

fn dev(args: DevArgs, signals: &Signals) -> Result<()> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the agent runs tasks as containers and needs root: run `sudo corral dev`");
    }
    below(&args.cgroup_root)?;
    let mountinfo =
        std::fs::read_to_string("/proc/self/mountinfo").context("reading /proc/self/mountinfo")?;
    let mount = cgroup::cgroup2_mount(&mountinfo).ok_or_else(|| {
        anyhow!("no cgroup v2 hierarchy is mounted; the agent needs one (mount -t cgroup2 none /sys/fs/cgroup)")
    })?;
    let isolation = isolation(&mount, &args)?;
    let data = std::path::absolute(&args.data_dir).context("resolving --data-dir")?;
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let agent_port = match (args.agent_port, args.port) {
        (Some(p), _) => p,
        (None, 0) => 0,
        (None, p) => p
            .checked_add(1)
            .context("--port 65535 leaves no port for the agent")?,
    };
    let mut cluster = Cluster {
        master: None,
        agent: None,
        cgroup: mount.join(&args.cgroup_root),
    };
    let master_args = os(&[
        &"--ip",
        &"127.0.0.1",
        &"--port",
        &args.port.to_string(),
        &"--work-dir",
        &data.join("master"),
    ]);
    let master = cluster.master.insert(Daemon::spawn(
        "master",
        &master_args,
        &data.join("master.log"),
    )?);
    let master_addr = master.wait_listening(START_TIMEOUT)?;
    let mut agent_args = os(&[
        &"--master",
        &master_addr.to_string(),
        &"--ip",
        &"127.0.0.1",
        &"--port",
        &agent_port.to_string(),
        &"--hostname",
        &"localhost",
        &"--work-dir",
        &data.join("agent"),
        &"--cgroup-mount",
        &mount,
        &"--cgroup-root",
        &args.cgroup_root,
    ]);
    for (flag, value) in [
        ("--isolation", &isolation),
        ("--resources", &args.resources),
    ] {
        if let Some(v) = value {
            agent_args.extend(os(&[&flag, v]));
        }
    }
    let agent = cluster.agent.insert(Daemon::spawn(
        "agent",
        &agent_args,
        &data.join("agent.log"),
    )?);
    let agent_addr = agent.wait_listening(START_TIMEOUT)?;
    if !wait_registered(&mut cluster, master_addr, agent_addr, signals)? {
        return cluster.stop();
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "master: http://{master_addr}")?;
    writeln!(out, "agent: http://{agent_addr}")?;
    out.flush()?;
    drop(out);
    let flag = if master_addr.port() == 5050 {
        String::new()
    } else {
        format!(" --master http://{master_addr}")
    };
    eprintln!(
        "corral dev: ready; try `corral run{flag} -- echo hi`. Ctrl-C stops both \
         (logs: {}/master.log, agent.log)",
        data.display()
    );
    let signo = watch(&mut cluster, signals)?;
    eprintln!(
        "corral dev: {}: stopping the agent, killing its tasks, stopping the master",
        signals::name(signo)
    );
    cluster.stop()?;
    eprintln!("corral dev: stopped; nothing left running");
    Ok(())
}

/// Waits for a signal; fails if a daemon ends first.
fn watch(cluster: &mut Cluster, signals: &Signals) -> Result<i32> {
    loop {
        if let Some(signo) = signals.wait(Duration::from_millis(200)) {
            return Ok(signo);
        }
        check_alive(cluster)?;
    }
}

fn check_alive(cluster: &mut Cluster) -> Result<()> {
    for d in [cluster.agent.as_mut(), cluster.master.as_mut()]
        .into_iter()
        .flatten()
    {
        if let Some(status) = d.exited() {
            return Err(daemon::ended(d, status));
        }
    }
    Ok(())
}

/// Polls the master's GET_AGENTS until the agent at `agent` is listed
/// active. `false` when a signal came first.
fn wait_registered(
    cluster: &mut Cluster,
    master: SocketAddr,
    agent: SocketAddr,
    signals: &Signals,
) -> Result<bool> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let deadline = Instant::now() + START_TIMEOUT;
    let call = br#"{"type":"GET_AGENTS"}"#.to_vec();
    loop {
        let answer = rt.block_on(crate::client::exchange(
            &master.to_string(),
            "POST",
            "/api/v1",
            Some(call.clone()),
        ));
        if let Ok((200, body)) = answer
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body)
            && registered(&v, agent.port())
        {
            return Ok(true);
        }
        check_alive(cluster)?;
        if Instant::now() > deadline {
            bail!(
                "the agent did not register with the master within {START_TIMEOUT:?}:\n{}",
                cluster
                    .agent
                    .as_ref()
                    .map(|a| a.log_tail(20))
                    .unwrap_or_default()
            );
        }
        if signals.wait(Duration::from_millis(100)).is_some() {
            eprintln!("corral dev: interrupted while starting; stopping");
            return Ok(false);
        }
    }
}

/// Whether a GET_AGENTS answer lists an active agent on `port`. Pure.
fn registered(v: &serde_json::Value, port: u16) -> bool {
    v["get_agents"]["agents"].as_array().is_some_and(|agents| {
        agents.iter().any(|a| {
            a["active"].as_bool() == Some(true)
                && a["agent_info"]["port"].as_i64() == Some(i64::from(port))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_is_registered_once_listed_active() {
        let v = |active: bool| {
            serde_json::json!({"get_agents": {"agents": [
                {"agent_info": {"hostname": "localhost", "port": 5051}, "active": active}
            ]}})
        };
        assert!(registered(&v(true), 5051));
        assert!(!registered(&v(false), 5051));
        assert!(!registered(&v(true), 5052));
        assert!(!registered(&serde_json::json!({}), 5051));
    }

    #[test]
    fn the_cgroup_root_stays_below_the_mount() {
        assert!(below(Path::new("corral-dev")).is_ok());
        assert!(below(Path::new("a/b")).is_ok());
        for bad in ["", "/sys/fs/cgroup", "../x", "a/../../b", "./a"] {
            assert!(below(Path::new(bad)).is_err(), "{bad}");
        }
    }
}
