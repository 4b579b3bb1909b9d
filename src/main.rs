//! The `corral` binary: one executable for the master, the agent, the OCI
//! runtime, a one-machine cluster (`corral dev`), running one command as a
//! task (`corral run`) and the operator commands. Invoked as `corral-oci` (a link to the
//! same binary) it is the OCI runtime directly, with runc's command line.

mod agent;
mod client;
mod dev;
mod install;
mod master;
mod oci;
mod ops;
mod run;

use clap::{Parser, Subcommand};

/// corral: a cluster manager for multi-tenant bare-metal Linux servers.
#[derive(Debug, Parser)]
#[command(name = "corral", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The master: Mesos v1 scheduler API, DRF allocator, agent link.
    Master(master::MasterArgs),
    /// The agent: runs tasks as OCI containers under cgroup v2 limits.
    Agent(agent::AgentArgs),
    /// A master and an agent on this machine, until Ctrl-C.
    Dev(dev::DevArgs),
    /// Run one command as a task and follow it to its end.
    Run(run::RunArgs),
    /// The OCI runtime (runc-compatible command line).
    Oci(oci::OciArgs),
    /// The agents the master knows, with their use.
    Agents(ops::ListArgs),
    /// The frameworks the master knows.
    Frameworks(ops::ListArgs),
    /// The tasks the master tracks.
    Tasks(ops::ListArgs),
    /// Kill a task (as its framework would).
    Kill(ops::KillArgs),
    /// Per-task CPU, memory, I/O and pressure, refreshed live.
    Top(ops::TopArgs),
    /// Write the systemd units of the master and the agent.
    InstallUnits(install::InstallArgs),
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The command executor starts every task: skip the parser's set-up.
    if args.get(1).map(String::as_str) == Some("executor")
        && args.get(2).map(String::as_str) == Some("--")
    {
        corral_agent::executor::main(&args[3..]);
    }
    // The default executor, for task groups (run under the one above).
    if args.get(1).map(String::as_str) == Some("executor")
        && args.get(2).map(String::as_str) == Some("--default")
    {
        corral_agent::default_executor::main();
    }
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let name = std::path::Path::new(&argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("corral");
    let code = if name == "corral-oci" {
        oci::main(oci::OciArgs::parse_from(std::env::args_os()))
    } else if args.get(1).map(String::as_str) == Some("oci") {
        // Every `corral oci` verb is its own process (one of three per
        // container for runc's callers): parse only the runtime's command
        // line, not the whole tree of corral's commands.
        let rest = std::env::args_os().skip(2);
        oci::main(oci::OciArgs::parse_from(
            std::iter::once(std::ffi::OsString::from("corral oci")).chain(rest),
        ))
    } else {
        match Cli::parse().command {
            Command::Master(args) => master::main(args),
            Command::Agent(args) => agent::main(args),
            Command::Dev(args) => dev::main(args),
            Command::Run(args) => run::main(args),
            Command::Oci(args) => oci::main(args),
            Command::Agents(args) => ops::list(ops::What::Agents, args),
            Command::Frameworks(args) => ops::list(ops::What::Frameworks, args),
            Command::Tasks(args) => ops::list(ops::What::Tasks, args),
            Command::Kill(args) => ops::kill(args),
            Command::Top(args) => ops::top(args),
            Command::InstallUnits(args) => install::main(args),
        }
    };
    std::process::exit(code);
}
