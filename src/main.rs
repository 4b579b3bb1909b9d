//! The `corral` binary: one executable for the master, the agent, the OCI
//! runtime and the operator commands. Subcommands arrive with their issues.

use clap::Parser;

/// corral: a cluster manager for multi-tenant bare-metal Linux servers.
#[derive(Debug, Parser)]
#[command(name = "corral", version, about, long_about = None)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
