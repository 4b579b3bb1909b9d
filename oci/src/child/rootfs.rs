//! The root filesystem: preparing the mount, device and link lists in the
//! parent, and in the child mounting them under the new root, pivoting into
//! it and applying masked and read-only paths.
//!
//! Mount points are created by path under the bundle's rootfs. A rootfs
//! whose directories are symlinks pointing outside it would redirect those
//! mounts; they stay inside the container's private mount namespace, but
//! resolving targets with openat2(RESOLVE_IN_ROOT) is still to come.

use super::report::{Failure, Step};
use super::{
    Made, NulError, PreparedDevice, PreparedMount, PreparedRoot, cpath, cstr, parents_except,
    parents_of, under,
};
use crate::plan::{LaunchPlan, RootfsPlan};
use crate::sys;
use std::ffi::{CStr, CString};
use std::path::Path;

/// Prepares the root plan `r` (parent side).
pub fn prepare(
    r: &RootfsPlan,
    plan: &LaunchPlan,
    cgroup_dir: &Path,
) -> Result<PreparedRoot, NulError> {
    let mut mounts = Vec::new();
    let mut made = Made::default();
    for m in &r.mounts {
        let target = under(&r.rootfs, &m.destination);
        let (source, fstype, flags, remount, bind) = if m.cgroup && !plan.namespaces.new_cgroup_ns {
            // No cgroup namespace: show the container its own cgroup only.
            let ro = m.flags & libc::MS_RDONLY;
            (
                cgroup_dir.to_path_buf(),
                String::new(),
                libc::MS_BIND | libc::MS_REC,
                ro | (m.flags & !libc::MS_RDONLY),
                true,
            )
        } else if m.cgroup {
            (m.source.clone(), "cgroup2".to_string(), m.flags, 0, false)
        } else {
            (
                m.source.clone(),
                m.fstype.clone(),
                m.flags,
                m.remount_flags,
                m.bind,
            )
        };
        let source = if bind && source.is_relative() {
            // Relative bind sources are relative to the bundle (runc).
            r.rootfs.parent().unwrap_or(Path::new("/")).join(&source)
        } else {
            source
        };
        let parents = parents_except(&r.rootfs, &target, &mut made)?;
        if !m.file {
            made.mounted_on(&target);
        }
        mounts.push(PreparedMount {
            source: cpath("mount source", &source)?,
            parents,
            target: cpath("mount destination", &target)?,
            fstype: cstr("mount type", &fstype)?,
            flags,
            remount_flags: remount,
            propagation: m.propagation.clone(),
            data: cstr("mount options", &m.data)?,
            bind,
            file: m.file,
        });
    }
    let devices = r
        .devices
        .iter()
        .map(|d| {
            let target = under(&r.rootfs, &d.path);
            Ok(PreparedDevice {
                host_path: cpath("device", &d.path)?,
                parents: parents_except(&r.rootfs, &target, &mut made)?,
                target: cpath("device", &target)?,
                mode: d.kind | (d.mode & 0o7777),
                dev: libc::makedev(d.major as u32, d.minor as u32),
                uid: d.uid,
                gid: d.gid,
            })
        })
        .collect::<Result<_, NulError>>()?;
    let mut cwd_parents = parents_of(Path::new("/"), &plan.cwd)?;
    if plan.cwd != Path::new("/") {
        cwd_parents.push(cpath("cwd", &plan.cwd)?);
    }
    Ok(PreparedRoot {
        rootfs: cpath("root", &r.rootfs)?,
        propagation: r.propagation,
        root_propagation: r.root_propagation,
        readonly: r.readonly,
        pivot: r.pivot,
        mounts,
        devices,
        bind_devices: r.bind_devices,
        links: r
            .links
            .iter()
            .map(|(t, l)| Ok((cpath("link", t)?, cpath("link", &under(&r.rootfs, l))?)))
            .collect::<Result<_, NulError>>()?,
        masked: r
            .masked
            .iter()
            .map(|p| cpath("masked path", p))
            .collect::<Result<_, _>>()?,
        readonly_paths: r
            .readonly_paths
            .iter()
            .map(|p| cpath("readonly path", p))
            .collect::<Result<_, _>>()?,
        cwd_parents,
    })
}

fn null() -> *const libc::c_char {
    std::ptr::null()
}

fn mount(
    src: *const libc::c_char,
    target: &CStr,
    fstype: *const libc::c_char,
    flags: u64,
    data: *const libc::c_char,
) -> Result<(), i32> {
    // SAFETY: every pointer is null or a valid NUL-terminated string.
    let ret = unsafe { libc::mount(src, target.as_ptr(), fstype, flags, data.cast()) };
    sys::check(ret).map(drop)
}

fn mkdirs(dirs: &[CString]) -> Result<(), i32> {
    for d in dirs {
        // SAFETY: d is a valid NUL-terminated path.
        if unsafe { libc::mkdir(d.as_ptr(), 0o755) } == -1 && sys::errno() != libc::EEXIST {
            return Err(sys::errno());
        }
    }
    Ok(())
}

fn touch(path: &CStr) -> Result<(), i32> {
    // SAFETY: path is a valid NUL-terminated string.
    let fd = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
            0o644,
        )
    };
    if fd < 0 {
        // An existing directory or device is a fine mount point too.
        return if sys::errno() == libc::EISDIR {
            Ok(())
        } else {
            Err(sys::errno())
        };
    }
    // SAFETY: fd was just opened by us.
    unsafe { libc::close(fd) };
    Ok(())
}

fn fail(step: Step, i: usize) -> impl Fn(i32) -> Failure {
    move |errno| Failure {
        step,
        index: i as u32,
        errno,
    }
}

/// Mounts, devices and links under the rootfs, then the pivot (child side).
pub fn build(
    r: &PreparedRoot,
    before_pivot: impl FnOnce() -> Result<(), Failure>,
) -> Result<(), Failure> {
    mount(null(), c"/", null(), r.propagation, null()).map_err(fail(Step::RootPropagation, 0))?;
    mount(
        r.rootfs.as_ptr(),
        &r.rootfs,
        null(),
        libc::MS_BIND | libc::MS_REC,
        null(),
    )
    .map_err(fail(Step::RootBind, 0))?;
    for (i, m) in r.mounts.iter().enumerate() {
        mount_one(i, m)?;
    }
    for (i, d) in r.devices.iter().enumerate() {
        device(d, r.bind_devices).map_err(fail(Step::Device, i))?;
    }
    for (i, (target, link)) in r.links.iter().enumerate() {
        // SAFETY: both are valid NUL-terminated strings.
        if unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) } == -1
            && sys::errno() != libc::EEXIST
        {
            return Err(Failure::now(Step::Link, i));
        }
    }
    before_pivot()?;
    pivot(r)
}

fn mount_one(i: usize, m: &PreparedMount) -> Result<(), Failure> {
    mkdirs(&m.parents).map_err(fail(Step::MountDir, i))?;
    if m.file {
        touch(&m.target).map_err(fail(Step::MountDir, i))?;
    } else {
        mkdirs(std::slice::from_ref(&m.target)).map_err(fail(Step::MountDir, i))?;
    }
    let fstype = if m.fstype.is_empty() {
        null()
    } else {
        m.fstype.as_ptr()
    };
    let data = if m.data.is_empty() {
        null()
    } else {
        m.data.as_ptr()
    };
    mount(m.source.as_ptr(), &m.target, fstype, m.flags, data).map_err(fail(Step::Mount, i))?;
    if m.bind && m.remount_flags != 0 {
        remount_bind(&m.target, m.remount_flags).map_err(fail(Step::MountRemount, i))?;
    }
    for &p in &m.propagation {
        mount(null(), &m.target, null(), p, null()).map_err(fail(Step::MountPropagation, i))?;
    }
    Ok(())
}

/// Remounts a bind mount with `flags`, keeping the flags the kernel locks
/// (nodev, nosuid, noexec, atime) when a user namespace forbids clearing them.
fn remount_bind(target: &CStr, flags: u64) -> Result<(), i32> {
    let base = libc::MS_REMOUNT | libc::MS_BIND;
    match mount(null(), target, null(), base | flags, null()) {
        Err(libc::EPERM) => {
            // SAFETY: an all-zero statvfs is a valid out-value.
            let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
            // SAFETY: target is a valid path and st a valid out-pointer.
            sys::check(unsafe { libc::statvfs(target.as_ptr(), &mut st) })?;
            let locked = st.f_flag
                & (libc::ST_NODEV
                    | libc::ST_NOSUID
                    | libc::ST_NOEXEC
                    | libc::ST_NOATIME
                    | libc::ST_NODIRATIME
                    | libc::ST_RELATIME);
            mount(null(), target, null(), base | flags | locked, null())
        }
        other => other,
    }
}

fn device(d: &PreparedDevice, bind: bool) -> Result<(), i32> {
    mkdirs(&d.parents)?;
    if bind {
        touch(&d.target)?;
        return mount(
            d.host_path.as_ptr(),
            &d.target,
            null(),
            libc::MS_BIND,
            null(),
        );
    }
    // SAFETY: target is a valid path; mode and dev are plain integers.
    if unsafe { libc::mknod(d.target.as_ptr(), d.mode, d.dev) } == -1 {
        if sys::errno() != libc::EEXIST {
            return Err(sys::errno());
        }
        // SAFETY: target is a valid path.
        unsafe { libc::unlink(d.target.as_ptr()) };
        // SAFETY: as above.
        sys::check(unsafe { libc::mknod(d.target.as_ptr(), d.mode, d.dev) })?;
    }
    // mknod applies the umask; set the exact mode, then the owner.
    // SAFETY: target is a valid path.
    sys::check(unsafe { libc::chmod(d.target.as_ptr(), d.mode & 0o7777) })?;
    // SAFETY: target is a valid path.
    sys::check(unsafe { libc::chown(d.target.as_ptr(), d.uid, d.gid) }).map(drop)
}

fn pivot(r: &PreparedRoot) -> Result<(), Failure> {
    let err = |_: i32| Failure::now(Step::Pivot, 0);
    // SAFETY: rootfs is a valid path.
    sys::check(unsafe { libc::chdir(r.rootfs.as_ptr()) }).map_err(err)?;
    if r.pivot {
        // pivot_root(".", ".") stacks the old root on the new one; then
        // detach it from our view without a put_old directory.
        sys::pivot_root(c".", c".").map_err(err)?;
        mount(null(), c".", null(), libc::MS_SLAVE | libc::MS_REC, null()).map_err(err)?;
        // SAFETY: "." is a valid path.
        sys::check(unsafe { libc::umount2(c".".as_ptr(), libc::MNT_DETACH) }).map_err(err)?;
    } else {
        mount(c".".as_ptr(), c"/", null(), libc::MS_MOVE, null()).map_err(err)?;
        // SAFETY: "." is a valid path.
        sys::check(unsafe { libc::chroot(c".".as_ptr()) }).map_err(err)?;
    }
    // SAFETY: "/" is a valid path.
    sys::check(unsafe { libc::chdir(c"/".as_ptr()) }).map_err(err)?;
    if let Some(p) = r.root_propagation {
        mount(null(), c"/", null(), p, null()).map_err(fail(Step::RootPropagation, 1))?;
    }
    Ok(())
}

/// After the pivot: masked and read-only paths, then the read-only root.
pub fn finish(r: &PreparedRoot) -> Result<(), Failure> {
    for (i, path) in r.masked.iter().enumerate() {
        mask(path).map_err(fail(Step::Masked, i))?;
    }
    for (i, path) in r.readonly_paths.iter().enumerate() {
        match mount(
            path.as_ptr(),
            path,
            null(),
            libc::MS_BIND | libc::MS_REC,
            null(),
        ) {
            Err(libc::ENOENT) => continue,
            Err(e) => return Err(fail(Step::ReadonlyPath, i)(e)),
            Ok(()) => {}
        }
        remount_bind(
            path,
            libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        )
        .map_err(fail(Step::ReadonlyPath, i))?;
    }
    if r.readonly {
        remount_bind(c"/", libc::MS_RDONLY).map_err(fail(Step::ReadonlyRoot, 0))?;
    }
    mkdirs(&r.cwd_parents).map_err(fail(Step::Cwd, 0))
}

fn mask(path: &CStr) -> Result<(), i32> {
    // SAFETY: an all-zero stat is a valid out-value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: path is valid, st a valid out-pointer.
    if unsafe { libc::stat(path.as_ptr(), &mut st) } == -1 {
        return if sys::errno() == libc::ENOENT {
            Ok(())
        } else {
            Err(sys::errno())
        };
    }
    if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        mount(
            c"tmpfs".as_ptr(),
            path,
            c"tmpfs".as_ptr(),
            libc::MS_RDONLY,
            null(),
        )
    } else {
        mount(c"/dev/null".as_ptr(), path, null(), libc::MS_BIND, null())
    }
}
