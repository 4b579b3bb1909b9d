//! `corral install-units`: writes `corral-master.service` and
//! `corral-agent.service` (the units shipped in `systemd/units/`) into a
//! systemd unit folder, with ExecStart pointing at this binary or `--bin`.
//! It enables and starts nothing: that stays the operator's `systemctl`.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// `corral install-units`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// Where the unit files go.
    #[arg(long, default_value = "/etc/systemd/system")]
    dir: PathBuf,
    /// The corral binary the units run (default: this one).
    #[arg(long)]
    bin: Option<PathBuf>,
}

/// The unit text with its binary set. Pure.
pub fn unit_text(template: &str, bin: &Path) -> String {
    template.replace("@CORRAL@", &bin.display().to_string())
}

fn install(args: InstallArgs) -> Result<()> {
    let bin = match args.bin {
        Some(b) => b,
        None => std::env::current_exe().context("finding this binary")?,
    };
    if !bin.is_absolute() {
        bail!("--bin {}: systemd needs an absolute path", bin.display());
    }
    if bin.to_str().is_none_or(|s| s.contains(char::is_whitespace)) {
        bail!(
            "--bin {}: the path must be UTF-8 without spaces",
            bin.display()
        );
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    for (name, template) in [
        ("corral-master.service", corral_systemd::MASTER_UNIT),
        ("corral-agent.service", corral_systemd::AGENT_UNIT),
    ] {
        let path = args.dir.join(name);
        let tmp = args.dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, unit_text(template, &bin))
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!(
        "next: put CORRAL_MASTER=HOST:PORT in /etc/default/corral-agent, then\n  \
         systemctl daemon-reload && systemctl enable --now corral-master corral-agent"
    );
    Ok(())
}

/// Runs it; the exit code.
pub fn main(args: InstallArgs) -> i32 {
    match install(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("corral install-units: {e:#}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_units_run_the_given_binary_as_notify_services() {
        for t in [corral_systemd::MASTER_UNIT, corral_systemd::AGENT_UNIT] {
            let text = unit_text(t, Path::new("/opt/corral/bin/corral"));
            assert!(!text.contains("@CORRAL@"));
            assert!(text.contains("ExecStart=/opt/corral/bin/corral "), "{text}");
            assert!(text.contains("Type=notify") && text.contains("WatchdogSec="));
            assert!(text.contains("Restart=on-failure"));
        }
        let agent = corral_systemd::AGENT_UNIT;
        assert!(agent.contains("Delegate=yes") && agent.contains("KillMode=process"));
    }
}
