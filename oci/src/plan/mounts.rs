//! Mounts: the spec's mount options parsed into mount(2) flags, propagation
//! changes and filesystem data, and the default devices and links every
//! container gets. Pure: the caller says which bind sources are directories.

use oci_spec::runtime::Mount;
use std::path::PathBuf;

/// One mount to perform inside the new root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountStep {
    /// Source (device, path or filesystem name).
    pub source: PathBuf,
    /// Destination inside the container (absolute).
    pub destination: PathBuf,
    /// Filesystem type; empty for bind mounts.
    pub fstype: String,
    /// mount(2) flags for the first mount call.
    pub flags: u64,
    /// Flags needing a remount after a bind (ro, nosuid, ...); 0 for none.
    pub remount_flags: u64,
    /// Propagation changes (MS_SHARED, MS_PRIVATE, ... with MS_REC).
    pub propagation: Vec<u64>,
    /// Filesystem-specific data (`mode=755,size=65536k`).
    pub data: String,
    pub bind: bool,
    /// The mount point is a file (bind mount of a file).
    pub file: bool,
    /// A cgroup filesystem: mounted as cgroup2 with a cgroup namespace, or
    /// as a bind of the container's cgroup without one.
    pub cgroup: bool,
    /// Recursive attributes (`rro`, `rnosuid`, ...): MOUNT_ATTR_* bits set
    /// and cleared on the mount and every mount below it with
    /// mount_setattr(2) and AT_RECURSIVE; both 0 for none.
    pub rec_attr_set: u64,
    pub rec_attr_clr: u64,
    /// An id mapping (`plan::idmap`); the option parser sets it, without
    /// maps, for `idmap`/`ridmap`, and `idmap::resolve` completes it.
    pub idmap: Option<super::idmap::IdMap>,
}

/// MOUNT_ATTR_* values of mount_setattr(2) (linux/mount.h).
pub mod attr {
    pub const RDONLY: u64 = 0x1;
    pub const NOSUID: u64 = 0x2;
    pub const NODEV: u64 = 0x4;
    pub const NOEXEC: u64 = 0x8;
    /// The atime mode field: RELATIME (0), NOATIME or STRICTATIME.
    pub const ATIME: u64 = 0x70;
    pub const RELATIME: u64 = 0x0;
    pub const NOATIME: u64 = 0x10;
    pub const STRICTATIME: u64 = 0x20;
    pub const NODIRATIME: u64 = 0x80;
    pub const NOSYMFOLLOW: u64 = 0x0020_0000;
}

/// Recursive options (runtime spec, config.md): (name, clear, MOUNT_ATTR_*).
const RECURSIVE: [(&str, bool, u64); 12] = [
    ("rro", false, attr::RDONLY),
    ("rrw", true, attr::RDONLY),
    ("rnosuid", false, attr::NOSUID),
    ("rsuid", true, attr::NOSUID),
    ("rnodev", false, attr::NODEV),
    ("rdev", true, attr::NODEV),
    ("rnoexec", false, attr::NOEXEC),
    ("rexec", true, attr::NOEXEC),
    ("rnodiratime", false, attr::NODIRATIME),
    ("rdiratime", true, attr::NODIRATIME),
    ("rnosymfollow", false, attr::NOSYMFOLLOW),
    ("rsymfollow", true, attr::NOSYMFOLLOW),
];

/// Recursive atime modes: the kernel takes one mode, with the whole atime
/// field cleared.
const RECURSIVE_ATIME: [(&str, u64); 3] = [
    ("rrelatime", attr::RELATIME),
    ("rnoatime", attr::NOATIME),
    ("rstrictatime", attr::STRICTATIME),
];

/// A mount option corral does not know or cannot honour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mounts[{index}].options: {option:?}: {problem}")]
pub struct MountOptionError {
    pub index: usize,
    pub option: String,
    pub problem: &'static str,
}

const MS: [(&str, bool, u64); 27] = [
    ("async", true, libc::MS_SYNCHRONOUS),
    ("atime", true, libc::MS_NOATIME),
    ("bind", false, libc::MS_BIND),
    ("defaults", false, 0),
    ("dev", true, libc::MS_NODEV),
    ("diratime", true, libc::MS_NODIRATIME),
    ("dirsync", false, libc::MS_DIRSYNC),
    ("exec", true, libc::MS_NOEXEC),
    ("iversion", false, libc::MS_I_VERSION),
    ("lazytime", false, libc::MS_LAZYTIME),
    ("loud", true, libc::MS_SILENT),
    ("mand", false, libc::MS_MANDLOCK),
    ("noatime", false, libc::MS_NOATIME),
    ("nodev", false, libc::MS_NODEV),
    ("nodiratime", false, libc::MS_NODIRATIME),
    ("noexec", false, libc::MS_NOEXEC),
    ("noiversion", true, libc::MS_I_VERSION),
    ("nolazytime", true, libc::MS_LAZYTIME),
    ("nomand", true, libc::MS_MANDLOCK),
    ("norelatime", true, libc::MS_RELATIME),
    ("nosuid", false, libc::MS_NOSUID),
    ("rbind", false, libc::MS_BIND | libc::MS_REC),
    ("relatime", false, libc::MS_RELATIME),
    ("ro", false, libc::MS_RDONLY),
    ("rw", true, libc::MS_RDONLY),
    ("strictatime", false, libc::MS_STRICTATIME),
    ("sync", false, libc::MS_SYNCHRONOUS),
];

const PROPAGATION: [(&str, u64); 8] = [
    ("private", libc::MS_PRIVATE),
    ("rprivate", libc::MS_PRIVATE | libc::MS_REC),
    ("shared", libc::MS_SHARED),
    ("rshared", libc::MS_SHARED | libc::MS_REC),
    ("slave", libc::MS_SLAVE),
    ("rslave", libc::MS_SLAVE | libc::MS_REC),
    ("unbindable", libc::MS_UNBINDABLE),
    ("runbindable", libc::MS_UNBINDABLE | libc::MS_REC),
];

/// Parses the propagation name of `rootfsPropagation`.
pub fn propagation(name: &str) -> Option<u64> {
    PROPAGATION
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
}

/// Plans mount `index` of the spec; `is_dir(source)` tells whether a bind
/// source is a directory.
pub fn plan(
    index: usize,
    m: &Mount,
    is_dir: &dyn Fn(&std::path::Path) -> bool,
) -> Result<MountStep, MountOptionError> {
    let (mut flags, mut propagation, mut data) = (0u64, Vec::new(), Vec::new());
    let (mut rec_set, mut rec_clr) = (0u64, 0u64);
    let mut idmap: Option<bool> = None;
    for opt in m.options().iter().flatten() {
        if let Some(&(_, clear, f)) = MS.iter().find(|(n, _, _)| n == opt) {
            if clear { flags &= !f } else { flags |= f }
        } else if let Some(p) = propagation_of(opt) {
            propagation.push(p);
        } else if let Some(&(_, clear, a)) = RECURSIVE.iter().find(|(n, _, _)| n == opt) {
            if clear {
                rec_set &= !a;
                rec_clr |= a;
            } else {
                rec_set |= a;
                rec_clr &= !a;
            }
        } else if let Some(&(_, mode)) = RECURSIVE_ATIME.iter().find(|(n, _)| n == opt) {
            rec_set = (rec_set & !attr::ATIME) | mode;
            rec_clr |= attr::ATIME;
        } else if ["ratime", "rnorelatime", "rnostrictatime"].contains(&opt.as_str()) {
            return Err(MountOptionError {
                index,
                option: opt.clone(),
                problem: "the kernel sets one recursive atime mode: use rrelatime, rnoatime or rstrictatime",
            });
        } else if opt == "idmap" || opt == "ridmap" {
            idmap = Some(idmap.unwrap_or(false) || opt == "ridmap");
        } else if opt == "remount" {
            return Err(MountOptionError {
                index,
                option: opt.clone(),
                problem: "remount is not a valid option for a new mount",
            });
        } else {
            data.push(opt.clone());
        }
    }
    let fstype = m.typ().clone().unwrap_or_default();
    let bind = flags & libc::MS_BIND != 0 || fstype == "bind";
    let source = m.source().clone().unwrap_or_else(|| PathBuf::from(&fstype));
    let cgroup = fstype == "cgroup" || fstype == "cgroup2";
    let (flags, remount_flags) = if bind {
        let rest = flags & !(libc::MS_BIND | libc::MS_REC);
        (flags | libc::MS_BIND, rest)
    } else {
        (flags, 0)
    };
    Ok(MountStep {
        file: bind && !is_dir(&source),
        source,
        destination: m.destination().clone(),
        fstype: if bind { String::new() } else { fstype },
        flags,
        remount_flags,
        propagation,
        data: data.join(","),
        bind,
        cgroup,
        rec_attr_set: rec_set,
        rec_attr_clr: rec_clr,
        idmap: idmap.map(|recursive| super::idmap::IdMap {
            uid_map: String::new(),
            gid_map: String::new(),
            recursive,
        }),
    })
}

fn propagation_of(opt: &str) -> Option<u64> {
    propagation(opt)
}

/// A device node every container gets (runtime spec, "Default Devices").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    pub path: PathBuf,
    /// S_IFCHR, S_IFBLK or S_IFIFO.
    pub kind: u32,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// /dev/null, zero, full, random, urandom and tty.
pub fn default_devices() -> Vec<DeviceNode> {
    [
        ("null", 3),
        ("zero", 5),
        ("full", 7),
        ("random", 8),
        ("urandom", 9),
    ]
    .into_iter()
    .map(|(n, minor)| (n, 1, minor))
    .chain([("tty", 5, 0)])
    .map(|(name, major, minor)| DeviceNode {
        path: PathBuf::from("/dev").join(name),
        kind: libc::S_IFCHR,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

/// The symlinks in /dev every container gets: (target, link).
pub fn default_links() -> Vec<(&'static str, &'static str)> {
    vec![
        ("/proc/self/fd", "/dev/fd"),
        ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"),
        ("/proc/self/fd/2", "/dev/stderr"),
        ("pts/ptmx", "/dev/ptmx"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(json: &str) -> Mount {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn filesystem_mount_with_flags_and_data() {
        let m = mount(
            r#"{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}"#,
        );
        let s = plan(0, &m, &|_| true).unwrap();
        assert_eq!(s.flags, libc::MS_NOSUID | libc::MS_STRICTATIME);
        assert_eq!(s.data, "mode=755,size=65536k");
        assert_eq!(s.fstype, "tmpfs");
        assert!(!s.bind && !s.file && s.remount_flags == 0);
    }

    #[test]
    fn bind_mounts_remount_for_their_flags() {
        let m = mount(
            r#"{"destination":"/etc/hosts","type":"bind","source":"/etc/hosts","options":["rbind","ro","nosuid","rprivate"]}"#,
        );
        let s = plan(1, &m, &|_| false).unwrap();
        assert!(s.bind && s.file);
        assert_eq!(
            s.flags & (libc::MS_BIND | libc::MS_REC),
            libc::MS_BIND | libc::MS_REC
        );
        assert_eq!(s.remount_flags, libc::MS_RDONLY | libc::MS_NOSUID);
        assert_eq!(s.propagation, vec![libc::MS_PRIVATE | libc::MS_REC]);
        assert_eq!(s.fstype, "");
    }

    #[test]
    fn clearing_options_undo_earlier_ones() {
        let m =
            mount(r#"{"destination":"/x","type":"tmpfs","options":["ro","rw","noexec","exec"]}"#);
        assert_eq!(plan(0, &m, &|_| true).unwrap().flags, 0);
    }

    #[test]
    fn recursive_options_become_mount_attributes() {
        let m = mount(
            r#"{"destination":"/x","type":"bind","source":"/x",
                "options":["rbind","rro","rnosuid","rnoexec","rexec","rnoatime","rnosymfollow"]}"#,
        );
        let p = plan(0, &m, &|_| true).unwrap();
        assert_eq!(
            p.rec_attr_set,
            attr::RDONLY | attr::NOSUID | attr::NOATIME | attr::NOSYMFOLLOW
        );
        assert_eq!(p.rec_attr_clr, attr::NOEXEC | attr::ATIME);
        // rbind alone stays a bind; the recursive part is not a mount flag.
        assert_eq!(p.flags, libc::MS_BIND | libc::MS_REC);
        let m = mount(r#"{"destination":"/x","type":"bind","source":"/x","options":["rbind"]}"#);
        let p = plan(0, &m, &|_| true).unwrap();
        assert_eq!((p.rec_attr_set, p.rec_attr_clr), (0, 0));
    }

    #[test]
    fn unsupported_options_are_refused_by_index() {
        let m = mount(
            r#"{"destination":"/x","type":"bind","source":"/x","options":["rbind","ratime"]}"#,
        );
        let e = plan(4, &m, &|_| true).unwrap_err();
        assert_eq!(e.index, 4);
        assert!(
            e.to_string().contains("mounts[4].options: \"ratime\""),
            "{e}"
        );
        let m = mount(
            r#"{"destination":"/x","type":"bind","source":"/x","options":["rbind","ridmap"]}"#,
        );
        let s = plan(1, &m, &|_| true).unwrap();
        assert!(
            s.idmap.unwrap().recursive,
            "ridmap asks a recursive mapping"
        );
        assert_eq!(s.data, "", "idmap options never reach mount(2)");
    }

    #[test]
    fn default_devices_are_the_specs() {
        let d = default_devices();
        assert_eq!(d.len(), 6);
        assert!(
            d.iter()
                .any(|n| n.path == std::path::Path::new("/dev/urandom") && n.minor == 9)
        );
    }
}
