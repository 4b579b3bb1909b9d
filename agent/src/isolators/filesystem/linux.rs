//! `filesystem/linux`: the task's view of files. A new mount namespace
//! (and cgroup namespace) over the host's root, read-only — every
//! writable host mount below it is bound again read-only — with fresh
//! /proc, /dev, /sys, /tmp and /run, the sandbox writable at
//! `/mnt/mesos/sandbox` (its working dir), and the agent's own folders
//! masked.

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Where the sandbox appears in the container (Mesos' path).
pub const SANDBOX: &str = "/mnt/mesos/sandbox";

/// Paths this isolator mounts over itself; host mounts at or below them
/// need no read-only copy.
const REPLACED: [&str; 6] = ["/proc", "/dev", "/sys", "/tmp", "/run", "/mnt/mesos"];

/// Host files and folders no task may read.
const MASKED: [&str; 6] = [
    "/proc/kcore",
    "/proc/keys",
    "/proc/timer_list",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];

/// Kernel interfaces a task may read but not write.
const READONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The isolator.
#[derive(Debug)]
pub struct Linux;

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Value {
    json!({"destination": dest, "type": typ, "source": source, "options": options})
}

/// The mounts every task gets after its sandbox.
fn system_mounts() -> [Value; 9] {
    [
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
            ],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        mount(
            "/sys/fs/cgroup",
            "cgroup2",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", "ro"],
        ),
        mount("/tmp", "tmpfs", "tmpfs", &["nosuid", "nodev", "mode=1777"]),
        mount("/run", "tmpfs", "tmpfs", &["nosuid", "nodev", "mode=755"]),
    ]
}

impl Isolator for Linux {
    fn name(&self) -> &'static str {
        "filesystem/linux"
    }

    fn prepare(&self, l: &Launch, s: &Settings) -> Result<SpecPatch, IsolatorError> {
        let sandbox = l.sandbox.to_str().ok_or_else(|| IsolatorError::Refused {
            isolator: self.name(),
            message: format!("sandbox path {} is not UTF-8", l.sandbox.display()),
        })?;
        let mut p = SpecPatch::default()
            .set("/root", json!({"path": "/", "readonly": true}))
            .set("/process/cwd", SANDBOX)
            .append("/process/env", format!("MESOS_SANDBOX={SANDBOX}"))
            .append("/linux/namespaces", json!({"type": "mount"}))
            .append("/linux/namespaces", json!({"type": "cgroup"}));
        // The sandbox first: later mounts (a tmpfs on /tmp) may hide its
        // host path.
        p = p.append(
            "/mounts",
            mount(
                SANDBOX,
                "bind",
                sandbox,
                &["rbind", "rw", "nosuid", "nodev"],
            ),
        );
        for m in system_mounts() {
            p = p.append("/mounts", m);
        }
        for host in &s.host_mounts {
            let h = host.to_string_lossy();
            p = p.append("/mounts", mount(&h, "bind", &h, &["rbind", "ro"]));
        }
        for hidden in s.hidden.iter().map(|h| h.to_string_lossy().into_owned()) {
            p = p.append("/linux/maskedPaths", hidden);
        }
        for m in MASKED {
            p = p.append("/linux/maskedPaths", m);
        }
        for r in READONLY {
            p = p.append("/linux/readonlyPaths", r);
        }
        Ok(p)
    }
}

/// The writable mounts below `/` in a mountinfo text that a read-only
/// root would leave writable (outside the paths the isolator replaces),
/// outermost first.
pub fn writable_submounts(mountinfo: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let point = unescape(f.nth(4)?);
            let writable = f.next()?.split(',').any(|o| o == "rw");
            let replaced = REPLACED.iter().any(|r| Path::new(&point).starts_with(r));
            (writable && point != "/" && !replaced).then(|| PathBuf::from(point))
        })
        .collect();
    out.sort_by_key(|p| p.components().count());
    out.dedup();
    out
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        match rest.get(i + 1..i + 4).map(|o| u8::from_str_radix(o, 8)) {
            Some(Ok(b)) => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            _ => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolators::tests_support::{launch, settings};

    const MOUNTINFO: &str = "\
22 1 0:20 / / rw,relatime - overlay overlay rw
23 22 0:21 / /proc rw,nosuid - proc proc rw
24 22 0:5 / /dev rw,nosuid - devtmpfs udev rw
30 22 254:0 / /mnt/corral-disk rw,relatime - ext4 /dev/vda rw
31 22 0:40 / /srv/read\\040only ro,relatime - ext4 /dev/vdb ro
32 30 0:41 / /mnt/corral-disk/inner rw - tmpfs tmpfs rw
33 22 0:42 / /tmp rw - tmpfs tmpfs rw
";

    #[test]
    fn writable_host_mounts_are_found_outermost_first() {
        assert_eq!(
            writable_submounts(MOUNTINFO),
            vec![
                PathBuf::from("/mnt/corral-disk"),
                PathBuf::from("/mnt/corral-disk/inner")
            ]
        );
        assert_eq!(unescape("/a\\040b"), "/a b");
    }

    #[test]
    fn read_only_host_root_writable_sandbox_masked_work_dir() {
        let mut s = settings();
        s.hidden = vec!["/var/lib/corral".into()];
        s.host_mounts = vec!["/mnt/corral-disk".into()];
        let p = Linux.prepare(&launch(1.0, 64.0), &s).unwrap();
        let mut spec = json!({});
        crate::isolators::patch::merge(&mut spec, &[("fs".into(), p)]).unwrap();
        assert_eq!(spec["root"], json!({"path": "/", "readonly": true}));
        assert_eq!(spec["process"]["cwd"], SANDBOX);
        let mounts = spec["mounts"].as_array().unwrap();
        assert_eq!(mounts[0]["destination"], SANDBOX);
        assert_eq!(mounts[0]["source"], "/w/sandboxes/c");
        let disk = mounts
            .iter()
            .find(|m| m["destination"] == "/mnt/corral-disk")
            .unwrap();
        assert_eq!(disk["options"], json!(["rbind", "ro"]));
        assert_eq!(spec["linux"]["maskedPaths"][0], "/var/lib/corral");
    }
}
