//! `corral oci` (and `corral-oci`): the OCI runtime's command line, with
//! runc's verbs, flags, output formats and exit codes, so the OCI
//! runtime-tools suite, podman or containerd's runc shim can drive it.

mod exec;
mod log;
mod output;
mod run;
mod update;

use clap::{Args, Parser, Subcommand};
use corral_oci::{ContainerId, CreateOptions, Runtime};
use std::path::PathBuf;

/// OCI runtime: create and run containers from OCI bundles.
#[derive(Debug, Parser)]
#[command(name = "corral-oci", version, about, long_about = None)]
pub struct OciArgs {
    /// Root folder of the containers' state.
    #[arg(long, global = true, default_value = corral_oci::lifecycle::DEFAULT_ROOT)]
    root: PathBuf,
    /// Also write errors to this file.
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Format of the log file: text or json.
    #[arg(long, global = true, default_value = "text")]
    log_format: log::Format,
    /// Make containers systemd transient scopes (linux.cgroupsPath is then
    /// SLICE:PREFIX:NAME; default corral-ID.scope in corral.slice). Pass it
    /// to every command of such a container, as with runc.
    #[arg(long, global = true)]
    systemd_cgroup: bool,
    /// Accepted for runc compatibility.
    #[arg(long, global = true, hide = true)]
    debug: bool,
    /// Root of the cgroup v2 hierarchy.
    #[arg(long, global = true, default_value = "/sys/fs/cgroup", hide = true)]
    cgroup_root: PathBuf,
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The bundle folder (holding config.json).
    #[arg(long, short, default_value = ".")]
    bundle: PathBuf,
    /// Write the container's init pid to this file.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Unix socket to send the terminal's master fd to.
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Use move and chroot instead of pivot_root.
    #[arg(long)]
    no_pivot: bool,
    /// Accepted for runc compatibility (no session keyring is created).
    #[arg(long)]
    no_new_keyring: bool,
    /// Pass this many extra descriptors, 3 .. 3+N, to the container process.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    /// The container id.
    id: String,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Create a container; its process waits for `start`.
    Create(CreateArgs),
    /// Start a created container's process.
    Start { id: String },
    /// Print a container's state as JSON.
    State { id: String },
    /// Send a signal (default TERM) to a container.
    Kill {
        /// Signal every process of the container.
        #[arg(long, short)]
        all: bool,
        id: String,
        signal: Option<String>,
    },
    /// Delete a stopped container (or any with --force).
    Delete {
        #[arg(long, short)]
        force: bool,
        id: String,
    },
    /// Create and start a container, wait for it, delete it.
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Return once started instead of waiting.
        #[arg(long, short)]
        detach: bool,
        /// Keep the container after it exits.
        #[arg(long)]
        keep: bool,
    },
    /// Run another process in a running container.
    Exec(exec::ExecArgs),
    /// List containers.
    List {
        #[arg(long, short, default_value = "table")]
        format: output::Format,
        /// Print ids only.
        #[arg(long, short)]
        quiet: bool,
    },
    /// List a container's processes.
    Ps {
        #[arg(long, short, default_value = "table")]
        format: output::Format,
        id: String,
    },
    /// Freeze every process of a container.
    Pause { id: String },
    /// Thaw a paused container.
    Resume { id: String },
    /// Change a live container's resources.
    Update(update::UpdateArgs),
    /// Print resource usage events.
    Events {
        /// Print one stats event and exit.
        #[arg(long)]
        stats: bool,
        /// Seconds between events.
        #[arg(long, default_value = "5s")]
        interval: String,
        id: String,
    },
    /// Write a default config.json into the bundle.
    Spec {
        #[arg(long, short, default_value = ".")]
        bundle: PathBuf,
        /// Accepted for runc compatibility (rootless specs are not generated yet).
        #[arg(long)]
        rootless: bool,
    },
    /// Print what this runtime supports, as JSON.
    Features,
}

/// Runs the OCI command line; returns the exit code.
pub fn main(args: OciArgs) -> i32 {
    let logger = log::Logger::new(args.log.clone(), args.log_format);
    match dispatch(&args) {
        Ok(code) => code,
        Err(e) => {
            logger.error(&format!("{e}"));
            1
        }
    }
}

fn id(s: &str) -> anyhow::Result<ContainerId> {
    Ok(ContainerId::new(s)?)
}

fn create_options(c: &CreateArgs) -> anyhow::Result<CreateOptions> {
    // runc's meaning: the caller's descriptors 3 .. 3+N go to the process
    // as they are numbered.
    let preserve_fds = (3..).take(c.preserve_fds as usize).collect();
    Ok(CreateOptions {
        pid_file: c.pid_file.clone(),
        console_socket: c.console_socket.clone(),
        no_pivot: c.no_pivot,
        stdio: None,
        preserve_fds,
    })
}

fn dispatch(args: &OciArgs) -> anyhow::Result<i32> {
    let rt = match args.systemd_cgroup {
        true => Runtime::systemd(&args.root, &args.cgroup_root),
        false => Runtime::new(&args.root, &args.cgroup_root),
    };
    let warn = |w: Vec<String>| w.iter().for_each(|m| eprintln!("corral-oci: warning: {m}"));
    match &args.verb {
        Verb::Create(c) => {
            let state = rt.create(&id(&c.id)?, &c.bundle, &create_options(c)?)?;
            warn(state.warnings);
        }
        Verb::Start { id: i } => warn(rt.start(&id(i)?)?),
        Verb::State { id: i } => {
            let s = rt.state(&id(i)?)?;
            println!("{}", serde_json::to_string_pretty(&s.oci(s.status))?);
        }
        Verb::Kill { all, id: i, signal } => {
            let sig = output::parse_signal(signal.as_deref().unwrap_or("TERM"))?;
            rt.kill(&id(i)?, sig, *all)?;
        }
        Verb::Delete { force, id: i } => warn(rt.delete(&id(i)?, *force)?),
        Verb::Run {
            create,
            detach,
            keep,
        } => return run::run(&rt, create, *detach, *keep),
        Verb::Exec(e) => return exec::exec(&rt, e),
        Verb::List { format, quiet } => output::list(&rt, *format, *quiet)?,
        Verb::Ps { format, id: i } => output::ps(&rt, &id(i)?, *format)?,
        Verb::Pause { id: i } => rt.pause(&id(i)?)?,
        Verb::Resume { id: i } => rt.resume(&id(i)?)?,
        Verb::Update(u) => update::update(&rt, u)?,
        Verb::Events {
            stats,
            interval,
            id: i,
        } => output::events(&rt, &id(i)?, *stats, interval)?,
        Verb::Spec { bundle, .. } => output::spec(bundle)?,
        Verb::Features => println!("{}", output::features()),
    }
    Ok(0)
}
