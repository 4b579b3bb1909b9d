//! The read-only verbs' output: list, ps, events, spec, features, and signal
//! names.

use corral_oci::{ContainerId, Runtime};
use std::path::Path;

/// Output format of list and ps.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// A signal by name (TERM, SIGTERM) or number.
pub fn parse_signal(s: &str) -> anyhow::Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        anyhow::ensure!((1..=64).contains(&n), "signal {n} is out of range 1-64");
        return Ok(n);
    }
    let name = s.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    const NAMES: [(&str, i32); 31] = [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("ILL", 4),
        ("TRAP", 5),
        ("ABRT", 6),
        ("IOT", 6),
        ("BUS", 7),
        ("FPE", 8),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("USR2", 12),
        ("PIPE", 13),
        ("ALRM", 14),
        ("TERM", 15),
        ("STKFLT", 16),
        ("CHLD", 17),
        ("CONT", 18),
        ("STOP", 19),
        ("TSTP", 20),
        ("TTIN", 21),
        ("TTOU", 22),
        ("URG", 23),
        ("XCPU", 24),
        ("XFSZ", 25),
        ("VTALRM", 26),
        ("PROF", 27),
        ("WINCH", 28),
        ("IO", 29),
        ("PWR", 30),
    ];
    if let Some(&(_, n)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(n);
    }
    if name == "SYS" {
        return Ok(31);
    }
    anyhow::bail!("unknown signal {s:?}")
}

pub fn list(rt: &Runtime, format: Format, quiet: bool) -> anyhow::Result<()> {
    let mut states = Vec::new();
    for id in rt.list()? {
        if let Ok(s) = rt.state(&id) {
            states.push(s);
        }
    }
    if quiet {
        states.iter().for_each(|s| println!("{}", s.id));
        return Ok(());
    }
    match format {
        Format::Json => {
            let v: Vec<_> = states.iter().map(|s| s.oci(s.status)).collect();
            println!("{}", serde_json::to_string(&v)?);
        }
        Format::Table => {
            println!(
                "{:<20} {:<8} {:<10} {:<40} {:<32} OWNER",
                "ID", "PID", "STATUS", "BUNDLE", "CREATED"
            );
            for s in &states {
                let o = s.oci(s.status);
                println!(
                    "{:<20} {:<8} {:<10} {:<40} {:<32} {}",
                    s.id,
                    o.pid,
                    s.status,
                    s.bundle.display(),
                    s.created,
                    o.owner
                );
            }
        }
    }
    Ok(())
}

pub fn ps(rt: &Runtime, id: &ContainerId, format: Format) -> anyhow::Result<()> {
    let pids = rt.ps(id)?;
    match format {
        Format::Json => println!("{}", serde_json::to_string(&pids)?),
        Format::Table => {
            println!("{:<8} CMD", "PID");
            for pid in pids {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                println!("{pid:<8} {}", cmd.trim_end());
            }
        }
    }
    Ok(())
}

fn parse_interval(s: &str) -> anyhow::Result<std::time::Duration> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("bad interval {s:?}"))?;
    Ok(match unit {
        "ms" => std::time::Duration::from_millis(n),
        "s" | "" => std::time::Duration::from_secs(n),
        "m" => std::time::Duration::from_secs(n * 60),
        _ => anyhow::bail!("bad interval {s:?}: use ms, s or m"),
    })
}

pub fn events(rt: &Runtime, id: &ContainerId, once: bool, interval: &str) -> anyhow::Result<()> {
    let every = parse_interval(interval)?;
    loop {
        let stats = rt.stats(id)?;
        let ev = serde_json::json!({"type": "stats", "id": id.as_str(), "data": stats});
        println!("{ev}");
        if once {
            return Ok(());
        }
        std::thread::sleep(every);
    }
}

pub fn spec(bundle: &Path) -> anyhow::Result<()> {
    let file = bundle.join("config.json");
    anyhow::ensure!(
        !file.exists(),
        "{} already exists: remove it first",
        file.display()
    );
    std::fs::write(&file, corral_oci::spec::DEFAULT_SPEC)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", file.display()))
}

pub fn features() -> String {
    let caps: Vec<String> = corral_oci::plan::caps::NAMES
        .iter()
        .map(|n| format!("CAP_{n}"))
        .collect();
    serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.2.0",
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": ["async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
            "iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec",
            "noiversion", "nolazytime", "nomand", "norelatime", "nosuid", "private", "rbind",
            "relatime", "rprivate", "rshared", "rslave", "runbindable", "ro", "rw", "shared",
            "slave", "strictatime", "sync", "unbindable",
            "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec",
            "rnodiratime", "rdiratime", "rrelatime", "rnoatime", "rstrictatime",
            "rnosymfollow", "rsymfollow", "idmap", "ridmap"],
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": caps,
            "cgroup": {"v1": false, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {"enabled": true, "actions": ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE",
                "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]},
            "mountExtensions": {"idmap": {"enabled": true}},
            "netDevices": {"enabled": true},
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false}
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("TERM").unwrap(), 15);
        assert_eq!(parse_signal("SIGKILL").unwrap(), 9);
        assert_eq!(parse_signal("usr1").unwrap(), 10);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert!(
            parse_signal("NOPE")
                .unwrap_err()
                .to_string()
                .contains("NOPE")
        );
        assert!(parse_signal("99").is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("5s").unwrap().as_secs(), 5);
        assert_eq!(parse_interval("250ms").unwrap().as_millis(), 250);
        assert!(parse_interval("5h").is_err());
    }
}
