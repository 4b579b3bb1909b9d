//! Paths inside the container's root, the pure half of resolving them: a
//! container path (mount destination, device, link, masked or read-only
//! path, cwd) becomes a normalised path relative to the rootfs, which the
//! child opens with openat2(RESOLVE_IN_ROOT) against a descriptor of the
//! rootfs (`child/inroot.rs`); what the child makes where a path is missing
//! (`Leaf`); and the allocation-free byte helpers its walk uses to go
//! component by component and to follow a symlink whose target is missing.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// What the child makes when the last component of a path is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// A directory (mount point of a filesystem or a directory, the cwd).
    Dir,
    /// An empty file (mount point of a bind-mounted file or device).
    File,
    /// Nothing: a missing path is not made (masked and read-only paths).
    Existing,
}

/// The container path `dest` relative to the root, normalised lexically as
/// runc does (filepath.Clean): empty and `.` components dropped, `..` takes
/// the previous component away and stops at the root. The root is ".".
/// Symlinks are left to the kernel, which resolves them inside the root.
pub fn in_root(dest: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in dest.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// The parent (relative to the root, "." at the top) and the last component
/// of the normalised relative path `rel`: where a device node or a link is
/// made with mknodat/symlinkat.
pub fn split_leaf(rel: &Path) -> (PathBuf, OsString) {
    match (rel.parent(), rel.file_name()) {
        (Some(p), Some(n)) if !p.as_os_str().is_empty() => (p.to_path_buf(), n.to_os_string()),
        (_, Some(n)) => (PathBuf::from("."), n.to_os_string()),
        _ => (PathBuf::from("."), OsString::from(".")),
    }
}

/// The next component of `path` at or after byte `from`, as (start, end),
/// skipping slashes; None when only slashes are left. Allocation-free.
pub fn next_component(path: &[u8], from: usize) -> Option<(usize, usize)> {
    let start = from + path.get(from..)?.iter().position(|&b| b != b'/')?;
    let end = path[start..]
        .iter()
        .position(|&b| b == b'/')
        .map_or(path.len(), |i| start + i);
    Some((start, end))
}

/// Whether the component ending at `end` is the last of `path`.
pub fn is_last(path: &[u8], end: usize) -> bool {
    next_component(path, end).is_none()
}

/// Whether `name` is `.` or `..`, which always exist and are never made.
pub fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

/// The path to walk instead of `path` once its component `start..end` turned
/// out to be a symlink to the missing `target`: the target, from the link's
/// directory (`path[..start]`) when relative or from the root when absolute,
/// followed by the rest of `path`. Written to `out`; returns its length, or
/// ENAMETOOLONG when `out` (with room for a NUL) is too small. The result
/// is relative to the root; `..` in it is left to openat2, which stops it
/// at the root. Allocation-free: the child calls it.
pub fn splice(
    path: &[u8],
    start: usize,
    end: usize,
    target: &[u8],
    out: &mut [u8],
) -> Result<usize, i32> {
    let (head, target): (&[u8], &[u8]) = if target.first() == Some(&b'/') {
        let i = target
            .iter()
            .position(|&b| b != b'/')
            .unwrap_or(target.len());
        (b"", &target[i..])
    } else {
        (&path[..start], target)
    };
    let room = out.len().checked_sub(1).ok_or(libc::ENAMETOOLONG)?;
    let mut len = 0;
    for part in [head, target, &path[end..]] {
        if len + part.len() > room {
            return Err(libc::ENAMETOOLONG);
        }
        out[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    if len == 0 {
        if room == 0 {
            return Err(libc::ENAMETOOLONG);
        }
        out[0] = b'.';
        len = 1;
    }
    Ok(len)
}

/// The bytes of a path, for building the C strings the child gets.
pub fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_normalised_below_the_root() {
        let cases = [
            ("/", "."),
            ("/proc", "proc"),
            ("/dev//pts/", "dev/pts"),
            ("/./a/./b", "a/b"),
            ("/a/../b", "b"),
            ("/../../../etc", "etc"),
            ("/a/b/../../..", "."),
            ("/x/../../y/z", "y/z"),
        ];
        for (dest, want) in cases {
            assert_eq!(in_root(Path::new(dest)), Path::new(want), "{dest}");
        }
    }

    #[test]
    fn leaves_split_into_parent_and_name() {
        let s = |p: &str| {
            let (d, n) = split_leaf(Path::new(p));
            (d.display().to_string(), n.to_string_lossy().into_owned())
        };
        assert_eq!(s("dev/null"), ("dev".into(), "null".into()));
        assert_eq!(s("dev/x/y"), ("dev/x".into(), "y".into()));
        assert_eq!(s("console"), (".".into(), "console".into()));
        assert_eq!(s("."), (".".into(), ".".into()));
    }

    #[test]
    fn components_are_walked_skipping_slashes() {
        let p = b"/a//bc/d/";
        let mut got = Vec::new();
        let mut at = 0;
        while let Some((s, e)) = next_component(p, at) {
            got.push((&p[s..e], is_last(p, e)));
            at = e;
        }
        assert_eq!(
            got,
            [(&b"a"[..], false), (&b"bc"[..], false), (&b"d"[..], true)]
        );
        assert_eq!(next_component(b"", 0), None);
        assert_eq!(next_component(b"a", 1), None);
        assert!(is_dot(b"..") && is_dot(b".") && !is_dot(b"..."));
    }

    fn spliced(path: &str, link: &str, target: &str) -> Result<String, i32> {
        let start = path.find(link).unwrap();
        let mut out = [0u8; 64];
        let n = splice(
            path.as_bytes(),
            start,
            start + link.len(),
            target.as_bytes(),
            &mut out,
        )?;
        Ok(String::from_utf8(out[..n].to_vec()).unwrap())
    }

    #[test]
    fn a_dangling_symlink_is_followed_inside_the_root() {
        // Relative targets start from the link's directory.
        assert_eq!(spliced("a/link/c", "link", "x/y").unwrap(), "a/x/y/c");
        assert_eq!(
            spliced("etc/resolv.conf", "resolv.conf", "../run/r.conf").unwrap(),
            "etc/../run/r.conf"
        );
        // Absolute targets start from the root, not the host's /.
        assert_eq!(
            spliced("data/f", "data", "/tmp/victim").unwrap(),
            "tmp/victim/f"
        );
        assert_eq!(
            spliced("data", "data", "../../../tmp/v").unwrap(),
            "../../../tmp/v"
        );
        assert_eq!(spliced("data", "data", "/").unwrap(), ".");
        assert_eq!(spliced("d/data", "data", "//x").unwrap(), "x");
    }

    #[test]
    fn a_spliced_path_longer_than_the_buffer_is_refused() {
        let long = "x".repeat(80);
        assert_eq!(spliced("a/l", "l", &long), Err(libc::ENAMETOOLONG));
        // 63 bytes fit a 64-byte buffer (one is kept for the NUL).
        let fits = "y".repeat(63);
        assert_eq!(spliced("l", "l", &fits).unwrap(), fits);
    }
}
