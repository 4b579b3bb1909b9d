//! What one layer entry does to the rootfs, decided before any syscall:
//! the entry's path made relative and refused if it has `..`; whiteouts
//! (`.wh.NAME` removes NAME of lower layers, `.wh..wh..opq` hides all of
//! a folder's lower content, other `.wh..wh.` names are aufs bookkeeping
//! and skipped); device nodes skipped (a container gets its own /dev, and
//! a layer has no business making host device nodes in the store); FIFOs,
//! files, folders, symlinks and hard links made. Symlink targets are kept
//! as written: they are only ever resolved inside a root (openat2
//! `RESOLVE_IN_ROOT` while unpacking, the container's own root after).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";
const AUFS_META: &str = ".wh..wh.";

/// A tar entry's type, as far as unpacking cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    Fifo,
    CharDevice,
    BlockDevice,
    /// Anything else (sparse files, unknown types): refused.
    Other(u8),
}

/// What an entry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Removes `0` (relative to the root) as lower layers left it.
    Whiteout(PathBuf),
    /// Hides everything lower layers left under folder `0`.
    Opaque(PathBuf),
    /// Makes `path` (the root itself when empty: only a folder may be).
    Create {
        path: PathBuf,
        kind: EntryKind,
        /// A symlink's target as written, or a hard link's target path
        /// (relative to the root).
        link: Option<PathBuf>,
    },
    /// Nothing, for the reason given.
    Skip(&'static str),
}

/// `raw` as a path relative to the root: leading `/` and `.` components
/// dropped; `..` refused.
pub fn normalise(raw: &[u8]) -> Result<PathBuf, String> {
    if raw.contains(&0) {
        return Err("the path holds a NUL byte".into());
    }
    let mut out = PathBuf::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err("the path goes up with '..'".into()),
            c => out.push(OsStr::from_bytes(c)),
        }
    }
    Ok(out)
}

/// The step for an entry at `path` of `kind`, with `link` its link name.
pub fn plan_entry(path: &[u8], kind: EntryKind, link: Option<&[u8]>) -> Result<Step, String> {
    let rel = normalise(path)?;
    let parent = rel.parent().map(Path::to_path_buf).unwrap_or_default();
    if parent
        .iter()
        .any(|c| c.as_bytes().starts_with(AUFS_META.as_bytes()))
    {
        return Ok(Step::Skip("aufs metadata"));
    }
    if let Some(bad) = parent
        .iter()
        .find(|c| c.as_bytes().starts_with(WHITEOUT.as_bytes()))
    {
        return Err(format!("whiteout {bad:?} used as a folder"));
    }
    let name = rel.file_name().map(|n| n.as_bytes()).unwrap_or_default();
    if name == OPAQUE.as_bytes() {
        return Ok(Step::Opaque(parent));
    }
    if name.starts_with(AUFS_META.as_bytes()) {
        return Ok(Step::Skip("aufs metadata"));
    }
    if let Some(hidden) = name.strip_prefix(WHITEOUT.as_bytes()) {
        if hidden.is_empty() || hidden == b"." || hidden == b".." {
            return Err("a whiteout names no entry".into());
        }
        return Ok(Step::Whiteout(parent.join(OsStr::from_bytes(hidden))));
    }
    let link = match kind {
        EntryKind::CharDevice | EntryKind::BlockDevice => {
            return Ok(Step::Skip("device node (containers get their own /dev)"));
        }
        EntryKind::Other(t) => return Err(format!("entry type {t:?} is not supported")),
        EntryKind::Symlink => {
            let l = link.filter(|l| !l.is_empty() && !l.contains(&0));
            Some(PathBuf::from(OsStr::from_bytes(
                l.ok_or("a symlink without a valid target")?,
            )))
        }
        EntryKind::HardLink => {
            let target = normalise(link.unwrap_or_default())?;
            if target.as_os_str().is_empty() {
                return Err("a hard link to the root".into());
            }
            Some(target)
        }
        _ => None,
    };
    if rel.as_os_str().is_empty() && kind != EntryKind::Dir {
        return Err("only a folder can be the root".into());
    }
    Ok(Step::Create {
        path: rel,
        kind,
        link,
    })
}

/// The paths one layer made (and their ancestors): what its own whiteouts
/// and opaque markers must not remove, since they only hide lower layers.
#[derive(Debug, Default)]
pub struct Made {
    kept: HashSet<PathBuf>,
}

impl Made {
    /// Records `path` as made by this layer.
    pub fn mark(&mut self, path: &Path) {
        let mut p = Some(path);
        while let Some(q) = p.filter(|q| !q.as_os_str().is_empty()) {
            if !self.kept.insert(q.to_path_buf()) {
                break;
            }
            p = q.parent();
        }
    }

    /// Whether `path` (or something below it) was made by this layer.
    pub fn kept(&self, path: &Path) -> bool {
        self.kept.contains(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(path: &str, kind: EntryKind) -> Step {
        Step::Create {
            path: path.into(),
            kind,
            link: None,
        }
    }

    #[test]
    fn paths_are_made_relative_and_dot_dot_is_refused() {
        assert_eq!(normalise(b"/./a//b/").unwrap(), PathBuf::from("a/b"));
        assert_eq!(normalise(b"./").unwrap(), PathBuf::new());
        for bad in [&b"../x"[..], b"a/../../x", b"a/..", b"a\0b"] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            plan_entry(b"./bin/sh", EntryKind::File, None).unwrap(),
            create("bin/sh", EntryKind::File)
        );
        assert_eq!(
            plan_entry(b"./", EntryKind::Dir, None).unwrap(),
            create("", EntryKind::Dir)
        );
        assert!(plan_entry(b"/", EntryKind::File, None).is_err());
    }

    #[test]
    fn whiteouts_and_opaque_folders() {
        assert_eq!(
            plan_entry(b"etc/.wh.motd", EntryKind::File, None).unwrap(),
            Step::Whiteout("etc/motd".into())
        );
        assert_eq!(
            plan_entry(b"var/cache/.wh..wh..opq", EntryKind::File, None).unwrap(),
            Step::Opaque("var/cache".into())
        );
        assert_eq!(
            plan_entry(b".wh..wh..opq", EntryKind::File, None).unwrap(),
            Step::Opaque(PathBuf::new())
        );
        assert!(matches!(
            plan_entry(b".wh..wh.plnk/1", EntryKind::File, None).unwrap(),
            Step::Skip(_)
        ));
        assert!(matches!(
            plan_entry(b"a/.wh..wh.aufs", EntryKind::File, None).unwrap(),
            Step::Skip(_)
        ));
        for bad in [&b"a/.wh."[..], b"a/.wh..", b".wh.x/y"] {
            assert!(plan_entry(bad, EntryKind::File, None).is_err(), "{bad:?}");
        }
        assert!(plan_entry(b"../.wh.x", EntryKind::File, None).is_err());
    }

    #[test]
    fn links_devices_and_odd_types() {
        assert_eq!(
            plan_entry(b"lib", EntryKind::Symlink, Some(b"/../../../etc")).unwrap(),
            Step::Create {
                path: "lib".into(),
                kind: EntryKind::Symlink,
                link: Some("/../../../etc".into())
            }
        );
        assert_eq!(
            plan_entry(b"bin/ls", EntryKind::HardLink, Some(b"/bin/busybox")).unwrap(),
            Step::Create {
                path: "bin/ls".into(),
                kind: EntryKind::HardLink,
                link: Some("bin/busybox".into())
            }
        );
        assert!(plan_entry(b"x", EntryKind::HardLink, Some(b"../../etc/shadow")).is_err());
        assert!(plan_entry(b"x", EntryKind::HardLink, Some(b"/")).is_err());
        assert!(plan_entry(b"x", EntryKind::Symlink, Some(b"")).is_err());
        assert!(matches!(
            plan_entry(b"dev/sda", EntryKind::BlockDevice, None).unwrap(),
            Step::Skip(_)
        ));
        assert!(plan_entry(b"s", EntryKind::Other(b'S'), None).is_err());
    }

    #[test]
    fn a_layer_keeps_what_it_made_and_their_folders() {
        let mut m = Made::default();
        m.mark(Path::new("a/b/c"));
        assert!(m.kept(Path::new("a")) && m.kept(Path::new("a/b")) && m.kept(Path::new("a/b/c")));
        assert!(!m.kept(Path::new("a/d")));
    }
}
