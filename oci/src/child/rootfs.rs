//! The root filesystem: preparing the mount, device and link lists in the
//! parent, and in the child mounting them under the new root, writing the
//! sysctls, masking and protecting paths, then pivoting into it.
//!
//! Nothing in the rootfs is trusted: an image can hold symlinks such as
//! `data -> /etc` or `data -> ../../..` (runc's CVE-2021-30465). So every
//! container path — mount destinations, device nodes, links, sysctl files,
//! masked and read-only paths, the cwd — is normalised by the plan
//! (`plan::paths`) and opened by the child with openat2(RESOLVE_IN_ROOT |
//! RESOLVE_NO_MAGICLINKS) against a descriptor of the rootfs, missing
//! components made one at a time under the same resolution (`inroot.rs`);
//! mounts go onto the opened descriptor through `/proc/self/fd/N`, nodes and
//! links are made with mknodat/symlinkat in the opened directory. A symlink
//! can only ever resolve inside the rootfs, and a kernel without openat2
//! (before 5.6) fails the create instead of falling back to plain paths.
//! All of that happens before the pivot, while the host's /proc is there to
//! give the /proc/self/fd paths, whether the container mounts a /proc or not.

use super::inroot::{self, ProcFd};
use super::report::{Failure, Step};
use super::{
    NulError, PreparedDevice, PreparedLink, PreparedMount, PreparedRoot, cpath, cstr, in_root,
};
use crate::plan::paths::{self, Leaf};
use crate::plan::{LaunchPlan, RootfsPlan};
use crate::sys::{self, MountAttr};
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Prepares the root plan `r` (parent side).
pub fn prepare(
    r: &RootfsPlan,
    plan: &LaunchPlan,
    cgroup_dir: &Path,
) -> Result<PreparedRoot, NulError> {
    let mut mounts = Vec::new();
    for m in &r.mounts {
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
        mounts.push(PreparedMount {
            source: cpath("mount source", &source)?,
            target: in_root("mount destination", &m.destination)?,
            leaf: if m.file { Leaf::File } else { Leaf::Dir },
            fstype: cstr("mount type", &fstype)?,
            flags,
            remount_flags: remount,
            propagation: m.propagation.clone(),
            data: cstr("mount options", &m.data)?,
            bind,
            rec_attr_set: m.rec_attr_set,
            rec_attr_clr: m.rec_attr_clr,
            tree: -1,
        });
    }
    let devices = r
        .devices
        .iter()
        .map(|d| {
            let target = paths::in_root(&d.path);
            let (dir, name) = paths::split_leaf(&target);
            Ok(PreparedDevice {
                host_path: cpath("device", &d.path)?,
                target: cpath("device", &target)?,
                dir: cpath("device", &dir)?,
                name: cstr("device", name.as_bytes())?,
                mode: d.kind | (d.mode & 0o7777),
                dev: libc::makedev(d.major as u32, d.minor as u32),
                uid: d.uid,
                gid: d.gid,
            })
        })
        .collect::<Result<_, NulError>>()?;
    let links = r
        .links
        .iter()
        .map(|(t, l)| {
            let (dir, name) = paths::split_leaf(&paths::in_root(l));
            Ok(PreparedLink {
                target: cpath("link", t)?,
                dir: cpath("link", &dir)?,
                name: cstr("link", name.as_bytes())?,
            })
        })
        .collect::<Result<_, NulError>>()?;
    let all = |what, v: &[std::path::PathBuf]| {
        v.iter()
            .map(|p| in_root(what, p))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(PreparedRoot {
        rootfs: cpath("root", &r.rootfs)?,
        propagation: r.propagation,
        root_propagation: r.root_propagation,
        readonly: r.readonly,
        pivot: r.pivot,
        mounts,
        devices,
        bind_devices: r.bind_devices,
        links,
        masked: all("masked path", &r.masked)?,
        readonly_paths: all("readonly path", &r.readonly_paths)?,
        cwd: in_root("cwd", &plan.cwd)?,
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

fn fail(step: Step, i: usize) -> impl Fn(i32) -> Failure {
    move |errno| Failure {
        step,
        index: i as u32,
        errno,
    }
}

/// An O_PATH descriptor of the directory `path`, opened with openat2 so a
/// kernel without it (ENOSYS) is found out before anything is mounted.
fn open_dir(path: &CStr) -> Result<OwnedFd, i32> {
    let fd = sys::openat2(libc::AT_FDCWD, path, libc::O_PATH | libc::O_DIRECTORY, 0, 0)?;
    // SAFETY: openat2 just returned fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Mounts, devices and links under the rootfs, the `before_pivot` hooks,
/// sysctls, masked and read-only paths, then the pivot (child side).
pub fn build(
    r: &PreparedRoot,
    sysctls: &[(CString, CString)],
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
    // Opened after the bind, so what is resolved from it is on the mount
    // that becomes the container's root.
    let root = open_dir(&r.rootfs).map_err(fail(Step::OpenRoot, 0))?;
    let root = root.as_fd();
    for (i, m) in r.mounts.iter().enumerate() {
        mount_one(root, i, m)?;
    }
    for (i, d) in r.devices.iter().enumerate() {
        device(root, d, r.bind_devices).map_err(fail(Step::Device, i))?;
    }
    for (i, l) in r.links.iter().enumerate() {
        link(root, l).map_err(fail(Step::Link, i))?;
    }
    before_pivot()?;
    for (i, (path, value)) in sysctls.iter().enumerate() {
        sysctl(root, path, value).map_err(fail(Step::Sysctl, i))?;
    }
    for (i, path) in r.masked.iter().enumerate() {
        mask(root, path).map_err(fail(Step::Masked, i))?;
    }
    for (i, path) in r.readonly_paths.iter().enumerate() {
        readonly(root, path).map_err(fail(Step::ReadonlyPath, i))?;
    }
    pivot(r)
}

fn mount_one(root: BorrowedFd, i: usize, m: &PreparedMount) -> Result<(), Failure> {
    let target = inroot::make(root, &m.target, m.leaf).map_err(fail(Step::MountDir, i))?;
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
    if m.tree >= 0 {
        move_tree(m.tree, target.as_raw_fd()).map_err(fail(Step::Mount, i))?;
    } else {
        let at = ProcFd::new(target.as_raw_fd());
        mount(m.source.as_ptr(), at.as_cstr(), fstype, m.flags, data)
            .map_err(fail(Step::Mount, i))?;
    }
    let remount = m.bind && m.remount_flags != 0;
    let recursive = m.rec_attr_set | m.rec_attr_clr != 0;
    if !remount && m.propagation.is_empty() && !recursive {
        return Ok(());
    }
    // The descriptor holds the mount point, now under the new mount: open
    // the path again to reach the mount itself.
    drop(target);
    let top = inroot::open(root, &m.target, libc::O_PATH).map_err(fail(Step::MountRemount, i))?;
    let at = ProcFd::new(top.as_raw_fd());
    if remount {
        remount_bind(at.as_cstr(), m.remount_flags).map_err(fail(Step::MountRemount, i))?;
    }
    for &p in &m.propagation {
        mount(null(), at.as_cstr(), null(), p, null()).map_err(fail(Step::MountPropagation, i))?;
    }
    if recursive {
        set_recursive(top.as_raw_fd(), m).map_err(fail(Step::MountSetattr, i))?;
    }
    Ok(())
}

/// move_mount(2) of the detached tree `tree` onto the mount point `target`
/// (both descriptors, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH).
fn move_tree(tree: RawFd, target: RawFd) -> Result<(), i32> {
    const F_EMPTY_PATH: u32 = 0x4;
    const T_EMPTY_PATH: u32 = 0x40;
    // SAFETY: both descriptors are open and the empty paths name them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree,
            c"".as_ptr(),
            target,
            c"".as_ptr(),
            F_EMPTY_PATH | T_EMPTY_PATH,
        )
    };
    if r == -1 { Err(sys::errno()) } else { Ok(()) }
}

/// mount_setattr(2) with AT_RECURSIVE on the mount `fd` holds: the
/// attributes reach every mount below it too (Linux 5.12).
fn set_recursive(fd: RawFd, m: &PreparedMount) -> Result<(), i32> {
    let attr = MountAttr {
        attr_set: m.rec_attr_set,
        attr_clr: m.rec_attr_clr,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: fd is an open O_PATH descriptor of the mount, the empty path
    // with AT_EMPTY_PATH names it, and attr is valid for its size.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r == -1 { Err(sys::errno()) } else { Ok(()) }
}

/// Remounts the bind mount at `target` with `flags`, keeping the flags the
/// kernel locks (nodev, nosuid, noexec, atime) when a user namespace
/// forbids clearing them.
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

/// A device node: bound from the host (user namespaces), or made with
/// mknodat in its directory, opened inside the root.
fn device(root: BorrowedFd, d: &PreparedDevice, bind: bool) -> Result<(), i32> {
    if bind {
        let target = inroot::make(root, &d.target, Leaf::File)?;
        let at = ProcFd::new(target.as_raw_fd());
        return mount(
            d.host_path.as_ptr(),
            at.as_cstr(),
            null(),
            libc::MS_BIND,
            null(),
        );
    }
    let dir = inroot::make(root, &d.dir, Leaf::Dir)?;
    let dir = dir.as_raw_fd();
    // A node already there (or a symlink in its place) is replaced: unlinkat
    // removes the link itself, never what it points to.
    match mknodat(dir, &d.name, d.mode, d.dev) {
        Err(libc::EEXIST) => {
            // SAFETY: name is a valid NUL-terminated string; dir an open fd.
            unsafe { libc::unlinkat(dir, d.name.as_ptr(), 0) };
            mknodat(dir, &d.name, d.mode, d.dev)?;
        }
        other => other?,
    }
    // SAFETY: as above; AT_SYMLINK_NOFOLLOW changes the node itself.
    let chown = unsafe {
        libc::fchownat(
            dir,
            d.name.as_ptr(),
            d.uid,
            d.gid,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    sys::check(chown).map(drop)
}

/// mknodat with the exact `mode`: the umask is cleared for the call.
fn mknodat(dir: i32, name: &CStr, mode: u32, dev: u64) -> Result<(), i32> {
    // SAFETY: umask cannot fail.
    let old = unsafe { libc::umask(0) };
    // SAFETY: name is a valid NUL-terminated string; dir an open fd.
    let ret = sys::check(unsafe { libc::mknodat(dir, name.as_ptr(), mode, dev) });
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    ret.map(drop)
}

fn link(root: BorrowedFd, l: &PreparedLink) -> Result<(), i32> {
    let dir = inroot::make(root, &l.dir, Leaf::Dir)?;
    // SAFETY: target and name are valid NUL-terminated strings.
    let ret = unsafe { libc::symlinkat(l.target.as_ptr(), dir.as_raw_fd(), l.name.as_ptr()) };
    match sys::check(ret) {
        Err(libc::EEXIST) => Ok(()),
        other => other.map(drop),
    }
}

/// Writes a sysctl through the container's /proc, opened inside the root.
fn sysctl(root: BorrowedFd, path: &CStr, value: &CStr) -> Result<(), i32> {
    let bytes = path.to_bytes_with_nul();
    let rel = CStr::from_bytes_with_nul(bytes.strip_prefix(b"/").unwrap_or(bytes))
        .map_err(|_| libc::EINVAL)?;
    let file = inroot::open(root, rel, libc::O_WRONLY)?;
    let value = value.to_bytes();
    // SAFETY: value is valid for its length; file is open for writing.
    let n = unsafe { libc::write(file.as_raw_fd(), value.as_ptr().cast(), value.len()) };
    if n < 0 { Err(sys::errno()) } else { Ok(()) }
}

/// Hides a path: an empty read-only tmpfs on a directory, /dev/null on
/// anything else; nothing when it does not exist.
fn mask(root: BorrowedFd, path: &CStr) -> Result<(), i32> {
    let target = match inroot::open(root, path, libc::O_PATH) {
        Err(libc::ENOENT) => return Ok(()),
        other => other?,
    };
    let at = ProcFd::new(target.as_raw_fd());
    if inroot::is_dir(target.as_fd())? {
        mount(
            c"tmpfs".as_ptr(),
            at.as_cstr(),
            c"tmpfs".as_ptr(),
            libc::MS_RDONLY,
            null(),
        )
    } else {
        mount(
            c"/dev/null".as_ptr(),
            at.as_cstr(),
            null(),
            libc::MS_BIND,
            null(),
        )
    }
}

/// Binds a path onto itself and makes the bind read-only, nosuid, nodev,
/// noexec; nothing when it does not exist.
fn readonly(root: BorrowedFd, path: &CStr) -> Result<(), i32> {
    let target = match inroot::open(root, path, libc::O_PATH) {
        Err(libc::ENOENT) => return Ok(()),
        other => other?,
    };
    let at = ProcFd::new(target.as_raw_fd());
    let rec = libc::MS_BIND | libc::MS_REC;
    mount(at.as_cstr().as_ptr(), at.as_cstr(), null(), rec, null())?;
    drop(target);
    let top = inroot::open(root, path, libc::O_PATH)?;
    let at = ProcFd::new(top.as_raw_fd());
    remount_bind(
        at.as_cstr(),
        libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
    )
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

/// After the pivot: the read-only root, then the cwd, made inside the new
/// root if missing.
pub fn finish(r: &PreparedRoot) -> Result<(), Failure> {
    if r.readonly {
        remount_bind(c"/", libc::MS_RDONLY).map_err(fail(Step::ReadonlyRoot, 0))?;
    }
    let root = open_dir(c"/").map_err(fail(Step::Cwd, 0))?;
    inroot::make(root.as_fd(), &r.cwd, Leaf::Dir)
        .map(drop)
        .map_err(fail(Step::Cwd, 0))
}
