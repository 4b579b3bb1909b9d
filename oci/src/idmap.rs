//! Id-mapped mounts, made by the runtime before the clone: a detached copy
//! of the bind source (open_tree(2) with OPEN_TREE_CLONE), given the mapping
//! of a throw-away user namespace with mount_setattr(2) MOUNT_ATTR_IDMAP.
//! The container's init then only moves the tree into place
//! (move_mount(2)). It is made here because the kernel wants CAP_SYS_ADMIN
//! over the source's superblock, which an init in a new user namespace no
//! longer has. Filesystems without id-mapping support (9p, and tmpfs before
//! Linux 6.3) answer EINVAL.

use crate::child::PreparedRoot;
use crate::launch::LaunchError;
use crate::plan::LaunchPlan;
use crate::plan::idmap::IdMap;
use crate::sys::{self, MountAttr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Why an id-mapped mount could not be made: the step and the errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdmapFailure {
    pub step: &'static str,
    pub errno: i32,
}

fn failed(step: &'static str) -> impl Fn(i32) -> IdmapFailure {
    move |errno| IdmapFailure { step, errno }
}

const OPEN_TREE_CLONE: u32 = 1;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

/// User namespaces already made, by their maps, so mounts with the same
/// mapping share one.
#[derive(Debug, Default)]
pub struct Namespaces {
    made: Vec<(String, String, OwnedFd)>,
}

impl Namespaces {
    fn get(&mut self, map: &IdMap) -> Result<&OwnedFd, IdmapFailure> {
        let at = self
            .made
            .iter()
            .position(|(u, g, _)| *u == map.uid_map && *g == map.gid_map);
        let at = match at {
            Some(i) => i,
            None => {
                let fd = userns(&map.uid_map, &map.gid_map)?;
                self.made
                    .push((map.uid_map.clone(), map.gid_map.clone(), fd));
                self.made.len() - 1
            }
        };
        Ok(&self.made[at].2)
    }
}

/// The id-mapped trees of `plan`'s mounts, by mount index; `root` gives the
/// sources as prepared (relative ones made absolute).
pub fn trees(plan: &LaunchPlan, root: &PreparedRoot) -> Result<Vec<(usize, OwnedFd)>, LaunchError> {
    let Some(r) = &plan.rootfs else {
        return Ok(Vec::new());
    };
    let mut namespaces = Namespaces::default();
    let mut out = Vec::new();
    for (index, (step, pm)) in r.mounts.iter().zip(&root.mounts).enumerate() {
        let Some(map) = &step.idmap else { continue };
        let source = Path::new(std::ffi::OsStr::from_bytes(pm.source.to_bytes()));
        let rbind = pm.flags & libc::MS_REC != 0;
        let fd = tree(source, rbind, map, &mut namespaces).map_err(|f| LaunchError::Idmap {
            index,
            destination: step.destination.clone(),
            step: f.step,
            source: std::io::Error::from_raw_os_error(f.errno),
        })?;
        out.push((index, fd));
    }
    Ok(out)
}

/// A detached, id-mapped copy of `source` (with the mounts below it when
/// `rbind`): the descriptor move_mount(2) takes.
pub fn tree(
    source: &Path,
    rbind: bool,
    map: &IdMap,
    ns: &mut Namespaces,
) -> Result<OwnedFd, IdmapFailure> {
    let path = crate::child::cpath("mount source", source)
        .map_err(|_| failed("open_tree")(libc::EINVAL))?;
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32;
    if rbind {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: path is a valid NUL-terminated string; plain integer flags.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) };
    if fd < 0 {
        return Err(failed("open_tree")(sys::errno()));
    }
    // SAFETY: open_tree just returned fd; nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let userns = ns.get(map)?;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    let mut at = libc::AT_EMPTY_PATH;
    if map.recursive {
        at |= libc::AT_RECURSIVE;
    }
    // SAFETY: fd is the detached tree, the empty path with AT_EMPTY_PATH
    // names it, and attr is valid for its size.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            at,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r == -1 {
        return Err(failed("mount_setattr(MOUNT_ATTR_IDMAP)")(sys::errno()));
    }
    Ok(fd)
}

/// A user namespace with `uid_map` and `gid_map`: a child cloned into a new
/// one waits while the maps are written and the namespace opened, then is
/// killed and reaped.
fn userns(uid_map: &str, gid_map: &str) -> Result<OwnedFd, IdmapFailure> {
    let mut args = sys::CloneArgs {
        flags: libc::CLONE_NEWUSER as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    // SAFETY: the child only calls pause(2), which is async-signal-safe,
    // until it is killed.
    let pid = unsafe { sys::clone3(&mut args) }.map_err(failed("clone3 of a user namespace"))?;
    if pid == 0 {
        loop {
            // SAFETY: pause has no arguments.
            unsafe { libc::pause() };
        }
    }
    let result = (|| {
        for (file, map) in [("uid_map", uid_map), ("gid_map", gid_map)] {
            std::fs::write(format!("/proc/{pid}/{file}"), map)
                .map_err(|e| failed("writing the id map")(e.raw_os_error().unwrap_or(libc::EIO)))?;
        }
        std::fs::File::open(format!("/proc/{pid}/ns/user"))
            .map(OwnedFd::from)
            .map_err(|e| {
                failed("opening the user namespace")(e.raw_os_error().unwrap_or(libc::EIO))
            })
    })();
    // SAFETY: pid is our child, waiting in pause(2).
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let mut status = 0;
    // SAFETY: pid is our child; status is a valid out-pointer.
    unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    result
}
