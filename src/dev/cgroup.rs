//! The cgroup side of `corral dev`: where the cgroup v2 hierarchy is
//! mounted (the unified `/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a
//! hybrid host), whether it has the controllers the agent's isolators
//! need, and, on stop, killing everything left in the agent's subtree
//! (`cgroup.kill`) and removing its cgroups deepest first. The agent
//! leaves its tasks running when it stops, by design; `corral dev` does
//! not.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The isolators that need no cgroup controller: what `corral dev` runs
/// the agent with on a host without them.
pub const NAMESPACES_ONLY: &str =
    "filesystem/linux,namespaces/pid,namespaces/ipc,linux/capabilities,linux/seccomp,posix/rlimits";

/// The cgroup2 mount point in a `/proc/self/mountinfo` text: the one at
/// `/sys/fs/cgroup` if there is one, else the first. Pure.
pub fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    let mounts: Vec<&str> = mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fstype = right.split_whitespace().next()?;
            let point = left.split_whitespace().nth(4)?;
            (fstype == "cgroup2").then_some(point)
        })
        .collect();
    let chosen = mounts
        .iter()
        .find(|m| **m == "/sys/fs/cgroup")
        .or_else(|| mounts.first())?;
    Some(PathBuf::from(chosen.replace("\\040", " ")))
}

/// Whether a `cgroup.events` text says processes are left. Pure.
pub fn populated(events: &str) -> bool {
    events
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["populated", "1"])
}

/// The controllers the isolators (`isolation`, else the default ones)
/// need that the subtree `root` under `mount` cannot have (empty: all
/// there).
pub fn missing_controllers(
    mount: &Path,
    root: &Path,
    isolation: Option<&str>,
) -> Result<Vec<&'static str>> {
    let available = corral_agent::fingerprint::controllers_for(mount, &root.join("containers"))
        .context("reading the cgroup controllers")?;
    let isolators = corral_agent::isolators::select(isolation).context("--isolation")?;
    Ok(corral_agent::isolators::missing_controllers(
        &isolators, &available,
    ))
}

/// Every cgroup below `root` (and `root`), children before parents.
fn deepest_first(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), false)];
    while let Some((dir, visited)) = stack.pop() {
        if visited {
            out.push(dir);
            continue;
        }
        stack.push((dir.clone(), true));
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((entry.path(), false));
            }
        }
    }
    out
}

/// Kills every process in the subtree `cgroup` (a path under the mount)
/// and removes its cgroups, deepest first. Nothing there is fine.
pub fn remove_subtree(cgroup: &Path) -> Result<()> {
    if !cgroup.exists() {
        return Ok(());
    }
    let kill = cgroup.join("cgroup.kill");
    std::fs::write(&kill, "1").with_context(|| format!("writing 1 to {}", kill.display()))?;
    let events = cgroup.join("cgroup.events");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&events).is_ok_and(|e| populated(&e)) {
        if Instant::now() > deadline {
            bail!(
                "processes are still in {} after cgroup.kill",
                cgroup.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for dir in deepest_first(cgroup) {
        let mut tries = 0;
        loop {
            match std::fs::remove_dir(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                // A cgroup just emptied can stay busy for a moment.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e).with_context(|| format!("removing {}", dir.display())),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup2_mount_is_found_unified_or_hybrid() {
        let unified = "35 24 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            cgroup2_mount(unified),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        let hybrid = "\
25 24 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
27 25 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
";
        assert_eq!(
            cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let v1 = "27 25 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        assert_eq!(cgroup2_mount(v1), None);
    }

    #[test]
    fn populated_reads_cgroup_events() {
        assert!(populated("populated 1\nfrozen 0\n"));
        assert!(!populated("populated 0\nfrozen 0\n"));
        assert!(!populated(""));
    }

    #[test]
    fn folders_are_listed_children_first() {
        let root = std::env::temp_dir().join(format!("corral-dev-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("c")).unwrap();
        std::fs::write(root.join("a/file"), "").unwrap();
        let order = deepest_first(&root);
        let pos = |p: &str| order.iter().position(|d| *d == root.join(p)).unwrap();
        assert_eq!(order.len(), 4);
        assert!(pos("a/b") < pos("a") && pos("a") < pos("") && pos("c") < pos(""));
        let _ = std::fs::remove_dir_all(&root);
    }
}
