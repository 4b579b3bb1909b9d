//! A container's own root when its task names an image: an overlay whose
//! lower layer is the image's rootfs in the store and whose upper and work
//! folders are in the container's bundle (Mesos' `overlay` provisioner
//! backend), or — where the work dir's filesystem cannot hold an overlay's
//! upper layer (an overlayfs or a filesystem without the needed xattrs) —
//! a copy of the rootfs in the bundle (Mesos' `copy` backend). Either way
//! the task's writes land in its bundle, never in the store, and go with
//! the bundle when the container is removed (after the overlay is
//! unmounted: [`release`]).

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// How image roots are made (`--image-provisioner-backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Overlay,
    Copy,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Backend, String> {
        match s {
            "overlay" => Ok(Backend::Overlay),
            "copy" => Ok(Backend::Copy),
            other => Err(format!(
                "unknown provisioner backend {other:?} (overlay or copy)"
            )),
        }
    }
}

/// The overlay's folders in the bundle.
pub const UPPER: &str = "overlay/upper";
pub const WORK: &str = "overlay/work";

/// overlayfs mount data for the three folders; paths with `,` or `:`
/// (overlayfs separators) or not UTF-8 are refused.
pub fn overlay_data(lower: &Path, upper: &Path, work: &Path) -> Result<String, String> {
    let s = |p: &Path| {
        p.to_str()
            .filter(|t| !t.contains([',', ':']))
            .map(str::to_string)
            .ok_or_else(|| {
                format!(
                    "{} cannot be an overlayfs folder (',' or ':' or not UTF-8)",
                    p.display()
                )
            })
    };
    Ok(format!(
        "lowerdir={},upperdir={},workdir={}",
        s(lower)?,
        s(upper)?,
        s(work)?
    ))
}

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Mounts an overlay of `lower` at `rootfs`, upper and work in `bundle`.
pub fn mount_overlay(lower: &Path, bundle: &Path, rootfs: &Path) -> io::Result<()> {
    let (upper, work) = (bundle.join(UPPER), bundle.join(WORK));
    std::fs::create_dir_all(&upper)?;
    std::fs::create_dir_all(&work)?;
    std::fs::create_dir_all(rootfs)?;
    let data = overlay_data(lower, &upper, &work).map_err(io::Error::other)?;
    let data = CString::new(data).map_err(io::Error::other)?;
    let target = cstr(rootfs)?;
    // SAFETY: every pointer is a valid C string for the call's duration.
    let rc = unsafe {
        libc::mount(
            c"overlay".as_ptr(),
            target.as_ptr(),
            c"overlay".as_ptr(),
            libc::MS_NODEV,
            data.as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Unmounts the root of a container in `bundle` if it is mounted.
pub fn release(rootfs: &Path) -> io::Result<()> {
    let target = cstr(rootfs)?;
    // SAFETY: target is a valid C string for the call's duration.
    if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW) } != 0 {
        let e = io::Error::last_os_error();
        // Not a mount point, or not there: nothing to release.
        if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOENT)) {
            return Err(e);
        }
    }
    Ok(())
}

/// Whether an overlay with its upper layer in `dir` can be mounted (made
/// and removed at once).
pub fn overlay_works(dir: &Path) -> bool {
    let probe = dir.join(format!("overlay-probe-{}", std::process::id()));
    let lower = probe.join("lower");
    let ok = std::fs::create_dir_all(&lower).is_ok()
        && mount_overlay(&lower, &probe, &probe.join("merged")).is_ok();
    if ok {
        let _ = release(&probe.join("merged"));
    }
    let _ = std::fs::remove_dir_all(&probe);
    ok
}

/// Copies the tree at `from` to `to` (made here), keeping modes, owners
/// and symlinks; never follows a symlink. Hard links become separate
/// files; device nodes and sockets are not copied (the store has none).
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let m = std::fs::symlink_metadata(from)?;
    let ft = m.file_type();
    if ft.is_dir() {
        std::fs::create_dir(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
    } else if ft.is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(from)?, to)?;
        return owner(to, &m);
    } else if ft.is_file() {
        std::fs::copy(from, to)?;
    } else {
        return Ok(());
    }
    owner(to, &m)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(m.mode() & 0o7777))
}

fn owner(to: &Path, m: &std::fs::Metadata) -> io::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    std::os::unix::fs::lchown(to, Some(m.uid()), Some(m.gid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_data_refuses_separators() {
        let d = overlay_data(Path::new("/s/l"), Path::new("/b/u"), Path::new("/b/w")).unwrap();
        assert_eq!(d, "lowerdir=/s/l,upperdir=/b/u,workdir=/b/w");
        assert!(overlay_data(Path::new("/s/a,b"), Path::new("/u"), Path::new("/w")).is_err());
        assert!(overlay_data(Path::new("/s/a:b"), Path::new("/u"), Path::new("/w")).is_err());
        assert_eq!("copy".parse::<Backend>(), Ok(Backend::Copy));
        assert!("aufs".parse::<Backend>().is_err());
    }

    #[test]
    fn copies_keep_links_and_modes() {
        let base = std::env::temp_dir().join(format!("corral-copy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let src = base.join("src");
        std::fs::create_dir_all(src.join("bin")).unwrap();
        std::fs::write(src.join("bin/tool"), b"t").unwrap();
        std::fs::set_permissions(src.join("bin/tool"), std::fs::Permissions::from_mode(0o751))
            .unwrap();
        std::os::unix::fs::symlink("/etc/shadow", src.join("evil")).unwrap();
        copy_tree(&src, &base.join("dst")).unwrap();
        let dst = base.join("dst");
        assert_eq!(std::fs::read(dst.join("bin/tool")).unwrap(), b"t");
        let mode = std::fs::metadata(dst.join("bin/tool")).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o751);
        assert_eq!(
            std::fs::read_link(dst.join("evil")).unwrap(),
            Path::new("/etc/shadow")
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
