//! File operations confined to a root folder: folders are opened with
//! openat2(`RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS`), so a symlink in the
//! path — absolute, or full of `..` — resolves inside the root and never
//! outside it; the last component is then acted on through the opened
//! folder's descriptor (`/proc/self/fd/N/NAME`) by calls that do not
//! follow it (O_NOFOLLOW, lstat, unlink, mkdir, symlink, link).

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// A root folder every path is resolved in.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
}

/// The path naming `name` in the folder open as `dir`.
pub fn at(dir: &OwnedFd, name: &OsStr) -> PathBuf {
    Path::new(&format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name)
}

fn openat2(dir: &OwnedFd, rel: &Path, flags: i32) -> io::Result<OwnedFd> {
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let c = CString::new(rel.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: open_how is plain integers; all-zero is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: c and how outlive the call; the size is how's.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

impl Root {
    /// Opens `path` as the root.
    pub fn open(path: &Path) -> io::Result<Root> {
        let f = File::options()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(path)?;
        Ok(Root { fd: f.into() })
    }

    /// Opens folder `rel` (resolved inside the root).
    pub fn open_dir(&self, rel: &Path) -> io::Result<OwnedFd> {
        openat2(&self.fd, rel, libc::O_RDONLY | libc::O_DIRECTORY)
    }

    /// Opens file `rel` for reading (resolved inside the root).
    pub fn open_file(&self, rel: &Path) -> io::Result<File> {
        openat2(&self.fd, rel, libc::O_RDONLY).map(File::from)
    }

    /// Opens folder `rel`, making missing folders (0755) one at a time.
    pub fn make_dirs(&self, rel: &Path) -> io::Result<OwnedFd> {
        let mut dir = self.open_dir(Path::new(""))?;
        let mut prefix = PathBuf::new();
        for c in rel.components() {
            let Component::Normal(name) = c else {
                return Err(io::Error::from(io::ErrorKind::InvalidInput));
            };
            prefix.push(name);
            dir = match self.open_dir(&prefix) {
                Ok(d) => d,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    std::fs::create_dir(at(&dir, name))?;
                    self.open_dir(&prefix)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(dir)
    }
}

use std::os::unix::fs::OpenOptionsExt;

/// Removes `name` in `dir` (a whole tree for a folder, never following a
/// symlink); a missing entry is fine.
pub fn remove_at(dir: &OwnedFd, name: &OsStr) -> io::Result<()> {
    let p = at(dir, name);
    let r = match std::fs::symlink_metadata(&p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p),
        Ok(_) => std::fs::remove_file(&p),
        Err(e) => Err(e),
    };
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let base = std::env::temp_dir().join(format!("corral-fsat-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (root, outside) = (base.join("root"), base.join("outside"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../outside", root.join("up")).unwrap();
        let r = Root::open(&root).unwrap();
        // A link whose target is missing inside the root is not made through.
        assert!(r.make_dirs(Path::new("abs/x")).is_err());
        r.make_dirs(outside.strip_prefix("/").unwrap()).unwrap();
        r.make_dirs(Path::new("outside")).unwrap();
        // Both links land inside the root: the folders are made there.
        for link in ["abs/x", "up/y"] {
            let d = r.make_dirs(Path::new(link)).unwrap();
            std::fs::write(at(&d, OsStr::new("f")), b"in").unwrap();
        }
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert!(
            root.join(outside.strip_prefix("/").unwrap())
                .join("x/f")
                .exists()
        );
        assert!(root.join("outside/y/f").exists());
        remove_at(&r.open_dir(Path::new("")).unwrap(), OsStr::new("abs")).unwrap();
        assert!(outside.exists() && !root.join("abs").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
