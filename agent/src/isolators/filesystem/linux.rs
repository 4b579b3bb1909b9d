//! `filesystem/linux`: the task's view of files. A new mount namespace
//! (and cgroup namespace) whose root holds the host's top-level folders
//! bound read-only — and every writable host mount below them bound again
//! read-only — with fresh /proc, /dev, /tmp and /run, the host's /sys
//! read-only with the task's own cgroup at /sys/fs/cgroup, the sandbox
//! writable at `/mnt/mesos/sandbox` (its working dir), and the agent's own
//! folders masked. A task with an image gets the image's rootfs instead
//! (writable, its writes kept in the container's bundle), with nothing of
//! the host's folders but the executor and, for a dynamically linked
//! executor, its loader and libraries in `/run/corral/lib`; the image's
//! WorkingDir, when it has one, is the cwd. The container's volumes are
//! bound last (`volumes.rs`).

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Where the sandbox appears in the container (Mesos' path).
pub const SANDBOX: &str = "/mnt/mesos/sandbox";

/// Where the command executor binary is bound in the container (read-only,
/// on the container's own /run), wherever it lives on the host.
pub const EXECUTOR: &str = "/run/corral/executor";

/// The container's root: an empty folder in its bundle, onto which each
/// of the host's top-level folders is bound read-only. (The host's `/`
/// itself cannot be the root: pivot_root needs a root apart from the
/// current one.)
pub const ROOTFS: &str = "rootfs";

/// Top-level host folders the isolator replaces or leaves out (/mnt: the
/// host's mounts there are the host's business; the container's /mnt holds
/// only the sandbox).
const NOT_BOUND: [&str; 7] = ["proc", "dev", "sys", "tmp", "run", "mnt", "lost+found"];

/// The host's top-level folders (symlinks to folders included) that tasks
/// see read-only, from the names in `/`.
pub fn host_root_dirs(names: impl IntoIterator<Item = (String, bool)>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = names
        .into_iter()
        .filter(|(n, is_dir)| *is_dir && !NOT_BOUND.contains(&n.as_str()))
        .map(|(n, _)| Path::new("/").join(n))
        .collect();
    dirs.sort();
    dirs
}

/// Paths this isolator mounts over itself; host mounts at or below them
/// need no read-only copy. (/sys is the host's, bound: its writable
/// submounts are made read-only like any other.)
const REPLACED: [&str; 6] = ["/proc", "/dev", "/sys/fs/cgroup", "/tmp", "/run", "/mnt"];

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
fn system_mounts() -> [Value; 10] {
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
        // Tasks share the host's network namespace, whose sysfs cannot be
        // mounted anew: the host's, read-only (as runc does).
        mount(
            "/sys",
            "bind",
            "/sys",
            &["rbind", "nosuid", "noexec", "nodev", "ro"],
        ),
        // The host's cgroup2 came with /sys; the same superblock cannot be
        // mounted on itself, so cover it first. In the cgroup namespace the
        // fresh one shows the task's own cgroup as its root.
        mount(
            "/sys/fs/cgroup",
            "tmpfs",
            "tmpfs",
            &["nosuid", "noexec", "nodev", "mode=755"],
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
        let image = l.image.as_ref();
        let cwd = image
            .and_then(|i| i.working_dir.clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| SANDBOX.to_string());
        let mut p = SpecPatch::default()
            .set(
                "/root",
                json!({"path": ROOTFS, "readonly": image.is_none()}),
            )
            .set("/process/cwd", cwd)
            .append("/process/env", format!("MESOS_SANDBOX={SANDBOX}"))
            .append("/linux/namespaces", json!({"type": "mount"}))
            .append("/linux/namespaces", json!({"type": "cgroup"}));
        let host = |v: &[PathBuf]| {
            if image.is_none() {
                v.to_vec()
            } else {
                Vec::new()
            }
        };
        for dir in &host(&s.host_root) {
            let d = dir.to_string_lossy();
            p = p.append("/mounts", mount(&d, "bind", &d, &["rbind", "ro"]));
        }
        for m in system_mounts() {
            p = p.append("/mounts", m);
        }
        let executor = s.executor.to_string_lossy();
        p = p.append(
            "/mounts",
            mount(EXECUTOR, "bind", &executor, &["bind", "ro", "nodev"]),
        );
        if image.is_some() {
            for (file, dest) in &s.executor_libs {
                let f = file.to_string_lossy();
                p = p.append("/mounts", mount(dest, "bind", &f, &["bind", "ro", "nodev"]));
            }
        }
        p = p.append(
            "/mounts",
            mount(
                SANDBOX,
                "bind",
                sandbox,
                &["rbind", "rw", "nosuid", "nodev"],
            ),
        );
        for host in &host(&s.host_mounts) {
            let h = host.to_string_lossy();
            p = p.append("/mounts", mount(&h, "bind", &h, &["rbind", "ro"]));
        }
        // After the sandbox's mount and the host's: a volume may go inside
        // either.
        let volumes =
            super::volumes::mounts(&l.volumes, &l.sandbox, &|p| p.exists()).map_err(|message| {
                IsolatorError::Refused {
                    isolator: self.name(),
                    message,
                }
            })?;
        for v in volumes {
            p = p.append("/mounts", v);
        }
        for hidden in host(&s.hidden)
            .iter()
            .map(|h| h.to_string_lossy().into_owned())
        {
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
30 22 254:0 / /srv/disk rw,relatime - ext4 /dev/vda rw
31 22 0:40 / /srv/read\\040only ro,relatime - ext4 /dev/vdb ro
32 30 0:41 / /srv/disk/inner rw - tmpfs tmpfs rw
34 22 0:43 / /mnt/corral-disk rw - ext4 /dev/vdc rw
33 22 0:42 / /tmp rw - tmpfs tmpfs rw
";

    #[test]
    fn top_level_folders_but_the_replaced_ones_are_bound() {
        let names = [
            ("usr", true),
            ("proc", true),
            ("bin", true),
            ("vmlinuz", false),
        ];
        let dirs = host_root_dirs(names.iter().map(|(n, d)| (n.to_string(), *d)));
        assert_eq!(dirs, vec![PathBuf::from("/bin"), PathBuf::from("/usr")]);
    }

    #[test]
    fn writable_host_mounts_are_found_outermost_first() {
        assert_eq!(
            writable_submounts(MOUNTINFO),
            vec![PathBuf::from("/srv/disk"), PathBuf::from("/srv/disk/inner")]
        );
        assert_eq!(unescape("/a\\040b"), "/a b");
    }

    #[test]
    fn read_only_host_root_writable_sandbox_masked_work_dir() {
        let mut s = settings();
        s.hidden = vec!["/var/lib/corral".into()];
        s.host_mounts = vec!["/srv/disk".into()];
        s.host_root = vec!["/usr".into()];
        let p = Linux.prepare(&launch(1.0, 64.0), &s).unwrap();
        let mut spec = json!({});
        crate::isolators::patch::merge(&mut spec, &[("fs".into(), p)]).unwrap();
        assert_eq!(spec["root"], json!({"path": "rootfs", "readonly": true}));
        assert_eq!(spec["process"]["cwd"], SANDBOX);
        let mounts = spec["mounts"].as_array().unwrap();
        assert_eq!(mounts[0]["destination"], "/usr");
        assert_eq!(mounts[0]["options"], json!(["rbind", "ro"]));
        let sandbox = mounts.iter().find(|m| m["destination"] == SANDBOX).unwrap();
        assert_eq!(sandbox["source"], "/w/sandboxes/c");
        let disk = mounts
            .iter()
            .find(|m| m["destination"] == "/srv/disk")
            .unwrap();
        assert_eq!(disk["options"], json!(["rbind", "ro"]));
        assert_eq!(spec["linux"]["maskedPaths"][0], "/var/lib/corral");
    }

    #[test]
    fn an_image_root_is_writable_without_host_folders() {
        let mut s = settings();
        s.hidden = vec!["/var/lib/corral".into()];
        s.host_mounts = vec!["/srv/disk".into()];
        s.host_root = vec!["/usr".into()];
        s.executor_libs = vec![(
            "/lib64/ld-linux-x86-64.so.2".into(),
            "/run/corral/lib/ld-linux-x86-64.so.2".into(),
        )];
        let mut l = launch(1.0, 64.0);
        l.image = Some(crate::isolators::ImageRoot {
            working_dir: Some("/srv/app".into()),
        });
        let p = Linux.prepare(&l, &s).unwrap();
        let mut spec = json!({});
        crate::isolators::patch::merge(&mut spec, &[("fs".into(), p)]).unwrap();
        assert_eq!(spec["root"], json!({"path": "rootfs", "readonly": false}));
        assert_eq!(spec["process"]["cwd"], "/srv/app");
        let mounts = spec["mounts"].as_array().unwrap();
        let dests: Vec<&str> = mounts
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert!(
            !dests.contains(&"/usr") && !dests.contains(&"/srv/disk"),
            "{dests:?}"
        );
        assert!(
            dests.contains(&SANDBOX) && dests.contains(&EXECUTOR),
            "{dests:?}"
        );
        assert!(dests.contains(&"/run/corral/lib/ld-linux-x86-64.so.2"));
        let masked = spec["linux"]["maskedPaths"].as_array().unwrap();
        assert!(!masked.iter().any(|m| m == "/var/lib/corral"));
    }
}
