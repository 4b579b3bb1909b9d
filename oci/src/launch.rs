//! The parent's side of starting a container's init: prepare, one clone3
//! straight into the container's cgroup and namespaces (with a fallback to
//! cgroup.procs on kernels without CLONE_INTO_CGROUP), id maps, the hooks
//! that run between namespace creation and the pivot, then the go signal and
//! the child's report. On any failure the child is killed and reaped.

use crate::child::fds::FdMap;
use crate::child::report::{self, Report};
use crate::child::{self, NulError, Prepared};
use crate::plan::LaunchPlan;
use crate::seccomp::SeccompProgram;
use crate::sys;
use fds::{fd_sources, raise, raise_copy, socketpair};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

mod fds;

/// Why a container's init could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("opening namespace {path}: {source}")]
    Namespace {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Nul(#[from] NulError),
    #[error("creating the sync socketpair: {0}")]
    Socket(std::io::Error),
    #[error("opening cgroup {path}: {message}")]
    Cgroup { path: PathBuf, message: String },
    #[error("clone3 of the container init: {0}")]
    Clone(std::io::Error),
    #[error("writing {file} for the user namespace: {source}")]
    IdMap {
        file: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Hook(String),
    #[error("container init failed {step}{item}: {source}")]
    Child {
        step: &'static str,
        item: String,
        source: std::io::Error,
    },
    #[error("file descriptor {fd} for the container process: {source}")]
    Fd { fd: RawFd, source: std::io::Error },
    #[error("process.execCPUAffinity.initial: sched_setaffinity(2) of the runtime's thread: {0}")]
    Affinity(std::io::Error),
    #[error("container init exited during setup without a report")]
    Died,
    #[error("{0}")]
    SeccompListener(String),
    #[error("mounts[{index}] id-mapped on {destination}: {step}: {source}")]
    Idmap {
        index: usize,
        destination: PathBuf,
        step: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    NetDevice(#[from] crate::netdev::NetDevError),
}

/// A started init.
#[derive(Debug)]
pub struct Launched {
    /// Host pid of the container's init.
    pub pid: i32,
    /// A pidfd on it (None when a joined pid namespace needed a second fork).
    pub pidfd: Option<OwnedFd>,
    /// The parent's end of the sync socket: EOF once the init has exec'd.
    pub sync: OwnedFd,
    /// The init's start time (field 22 of /proc/PID/stat), 0 if unknown.
    pub start_time: u64,
    /// linux.netDevices moved in: given back to the host when dropped, so
    /// the caller `keep`s them once the create has succeeded.
    pub net_devices: Option<crate::netdev::Moved>,
}

/// What `launch` needs besides the plan.
pub struct LaunchRequest<'a> {
    pub plan: &'a LaunchPlan,
    /// The container's cgroup directory (created by the caller).
    pub cgroup_dir: &'a Path,
    pub seccomp: Option<SeccompProgram>,
    /// The socket `start` connects to; None to exec right after setup.
    pub start_listener: Option<&'a OwnedFd>,
    /// Connected to the caller's console socket, when process.terminal is set.
    pub console: Option<&'a OwnedFd>,
    /// /proc/sys/kernel/cap_last_cap.
    pub last_cap: u32,
    /// Runs once the namespaces exist, before the child touches its root
    /// (prestart and createRuntime hooks); gets the init's pid and returns
    /// the state JSON the in-container hooks read on stdin.
    pub before_go: &'a dyn Fn(i32) -> Result<Vec<u8>, LaunchError>,
    /// The process's stdin, stdout and stderr; None to inherit the caller's.
    pub stdio: Option<[RawFd; 3]>,
    /// Descriptors the process gets as 3, 4, ... (runc's --preserve-fds).
    pub preserve_fds: &'a [RawFd],
}

impl std::fmt::Debug for LaunchRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchRequest")
            .field("cgroup_dir", &self.cgroup_dir)
            .finish()
    }
}

/// Clones and sets up the container init; returns once it is ready to
/// exec (waiting for `start`, or exec'ing right away).
pub fn launch(req: &LaunchRequest) -> Result<Launched, LaunchError> {
    let joins = open_joins(req.plan)?;
    let (parent_end, child_end) = socketpair()?;
    let floor = 3 + req.preserve_fds.len() as RawFd;
    let sources = fd_sources(req, floor)?;
    // What the child still uses after placing the process's descriptors
    // must sit at or above them.
    let child_end = raise(child_end, floor)?;
    let listener = req
        .start_listener
        .map(|l| raise_copy(l, floor))
        .transpose()?;
    let mut prepared = Prepared::new(
        req.plan,
        child_end.as_raw_fd(),
        listener.as_ref().map(|l| l.as_raw_fd()),
        joins.iter().map(|(f, t)| (f.as_raw_fd(), *t)).collect(),
        req.cgroup_dir,
        req.seccomp.clone(),
        req.last_cap,
    )?;
    prepared.console = req.console.map(|c| c.as_raw_fd());
    prepared.fds = FdMap {
        moves: sources.iter().map(|(s, t)| (s.as_raw_fd(), *t)).collect(),
        floor,
    };
    let hook_state = hook_memfd(req.plan)?;
    let hook_copy = hook_state
        .as_ref()
        .map(|f| raise_copy(f, floor))
        .transpose()?;
    prepared.hook_state = hook_copy.as_ref().map_or(-1, |f| f.as_raw_fd());
    let trees = idmapped_trees(req.plan, &mut prepared, floor)?;
    let cgroup = File::open(req.cgroup_dir).map_err(|e| LaunchError::Cgroup {
        path: req.cgroup_dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let clone = || clone_child(&prepared, &parent_end, &cgroup, req.plan);
    let initial = req
        .plan
        .exec_affinity
        .as_ref()
        .and_then(|a| a.initial.as_ref());
    let (pid, pidfd, in_cgroup) = match initial {
        Some(mask) => crate::affinity::with_affinity(mask, clone)?,
        None => clone()?,
    };
    drop(child_end);
    drop(joins);
    drop((sources, listener, hook_copy, trees));
    let mut guard = KillGuard { pid, armed: true };
    if !in_cgroup {
        std::fs::write(req.cgroup_dir.join("cgroup.procs"), pid.to_string()).map_err(|e| {
            LaunchError::Cgroup {
                path: req.cgroup_dir.to_path_buf(),
                message: format!("moving pid {pid} into cgroup.procs: {e}"),
            }
        })?;
    }
    if req.plan.namespaces.new_user {
        write_maps(pid, req.plan)?;
    }
    // Dropped on a failure (before the init is killed): the devices go
    // back to the host.
    let moved = match req.plan.net_devices.is_empty() {
        true => None,
        false => {
            let (path, netns) = crate::netdev::namespace_of(pid, &req.plan.namespaces);
            let netns = netns.map_err(|source| LaunchError::Namespace { path, source })?;
            Some(crate::netdev::move_in(&req.plan.net_devices, &netns)?)
        }
    };
    let state_json = (req.before_go)(pid)?;
    if let Some(f) = &hook_state {
        use std::os::unix::fs::FileExt;
        f.write_all_at(&state_json, 0)
            .map_err(|e| LaunchError::Hook(format!("writing the hooks' state: {e}")))?;
    }
    report::send(
        parent_end.as_raw_fd(),
        Report {
            tag: report::TAG_GO,
            ..Report::default()
        },
    );
    // Read while the child sets itself up.
    let mut start_time = crate::process::stat(pid).map_or(0, |s| s.start_time);
    let mut init_pid = pid;
    let mut init_pidfd = Some(pidfd);
    // With a joined pid namespace two processes report on the socket: the
    // first child (FORKED, with the grandchild's pid) and the grandchild
    // (CREATED). Either may come first; wait for both.
    let mut forked = !req.plan.namespaces.fork_after_setns;
    let mut created = false;
    // A notifying seccomp filter's listener, held until the init's pid is
    // known (after FORKED), then handed to the seccomp agent at once: the
    // init may already wait on it.
    let mut listener_fd = None;
    while !(forked && created) {
        match report::recv_with_fd(parent_end.as_raw_fd()) {
            Some((r, _)) if r.tag == report::TAG_CREATED => created = true,
            Some((r, fd)) if r.tag == report::TAG_SECCOMP => {
                listener_fd = Some(fd.ok_or_else(|| {
                    LaunchError::SeccompListener(
                        "linux.seccomp: the init sent no listener fd".into(),
                    )
                })?);
            }
            Some((r, _)) if r.tag == report::TAG_FORKED => {
                forked = true;
                // The first child only forked into the joined pid namespace.
                reap(pid);
                init_pid = r.value;
                init_pidfd = None;
                guard.pid = init_pid;
                start_time = crate::process::stat(init_pid).map_or(0, |s| s.start_time);
            }
            Some((r, _)) if r.tag == report::TAG_FAILED => return Err(child_error(req.plan, r)),
            _ => return Err(LaunchError::Died),
        }
        if forked && let Some(fd) = listener_fd.take() {
            hand_listener(req, &state_json, init_pid, fd)?;
        }
    }
    guard.armed = false;
    Ok(Launched {
        pid: init_pid,
        pidfd: init_pidfd,
        sync: parent_end,
        start_time,
        net_devices: moved,
    })
}

/// Sends a notifying filter's listener `fd` with the container process
/// state to the seccomp agent at listenerPath (runtime spec, config-linux.md).
fn hand_listener(
    req: &LaunchRequest,
    state_json: &[u8],
    pid: i32,
    fd: OwnedFd,
) -> Result<(), LaunchError> {
    use oci_spec::runtime::{ContainerState, State};
    let listener = req
        .seccomp
        .as_ref()
        .and_then(|s| s.listener())
        .ok_or_else(|| {
            LaunchError::SeccompListener(
                "linux.seccomp: a listener fd came for a profile without listenerPath".into(),
            )
        })?;
    let mut state: State = serde_json::from_slice(state_json).map_err(|e| {
        LaunchError::SeccompListener(format!(
            "linux.seccomp: the container state for the agent: {e}"
        ))
    })?;
    if *state.status() == ContainerState::Created {
        // The init has not finished its setup yet.
        state.set_status(ContainerState::Creating);
    }
    state.set_pid(Some(pid));
    use std::os::fd::AsFd;
    listener
        .send(fd.as_fd(), pid, state)
        .map_err(|e| LaunchError::SeccompListener(e.to_string()))
}

/// Waits for the outcome of the exec of an init launched without a start
/// listener: Ok once it exec'd.
pub fn wait_exec(launched: &Launched, plan: &LaunchPlan) -> Result<(), LaunchError> {
    match report::recv(launched.sync.as_raw_fd()) {
        None => Ok(()),
        Some(r) => Err(child_error(plan, r)),
    }
}

/// Turns the child's report into an error naming the step and the item.
pub fn child_error(plan: &LaunchPlan, r: Report) -> LaunchError {
    let i = r.index as usize;
    let step = report::describe(r.step);
    let root = plan.rootfs.as_ref();
    use crate::child::report::Step as S;
    let item = match r.step {
        s if s == S::Setns as u32 => plan
            .namespaces
            .joins
            .get(i)
            .map(|j| j.path.display().to_string()),
        s if [
            S::MountDir as u32,
            S::Mount as u32,
            S::MountRemount as u32,
            S::MountPropagation as u32,
            S::MountSetattr as u32,
        ]
        .contains(&s) =>
        {
            root.and_then(|r| r.mounts.get(i)).map(|m| {
                format!(
                    "mounts[{i}] {} on {}",
                    m.source.display(),
                    m.destination.display()
                )
            })
        }
        s if s == S::Device as u32 => root
            .and_then(|r| r.devices.get(i))
            .map(|d| d.path.display().to_string()),
        s if s == S::Masked as u32 => root
            .and_then(|r| r.masked.get(i))
            .map(|p| p.display().to_string()),
        s if s == S::ReadonlyPath as u32 => root
            .and_then(|r| r.readonly_paths.get(i))
            .map(|p| p.display().to_string()),
        s if s == S::Sysctl as u32 => plan
            .sysctls
            .get(i)
            .map(|(k, v)| format!("{} = {v}", k.display())),
        s if s == S::Rlimit as u32 => plan
            .rlimits
            .get(i)
            .map(|(r, s, h)| format!("resource {r} soft {s} hard {h}")),
        s if s == S::CapBounding as u32 || s == S::Ambient as u32 => {
            crate::plan::caps::NAMES.get(i).map(|n| format!("CAP_{n}"))
        }
        s if s == S::Cwd as u32 => Some(plan.cwd.display().to_string()),
        s if s == S::CreateContainerHook as u32 || s == S::StartContainerHook as u32 => {
            let (name, list) = if s == S::CreateContainerHook as u32 {
                ("createContainer", &plan.create_container_hooks)
            } else {
                ("startContainer", &plan.start_container_hooks)
            };
            list.get(i)
                .map(|h| format!("hooks.{name}[{i}] ({})", h.path().display()))
        }
        s if s == S::Exec as u32 => Some(
            plan.exec_candidates
                .get(i)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| format!("{:?} (searched the container's PATH)", plan.args[0])),
        ),
        _ => None,
    };
    let source = match r.value {
        -255 => std::io::Error::other("timed out and was killed"),
        v if v < 0 => std::io::Error::other(format!("exited with status {}", -v)),
        v => std::io::Error::from_raw_os_error(v),
    };
    LaunchError::Child {
        step,
        item: item.map(|s| format!(" {s}")).unwrap_or_default(),
        source,
    }
}

struct KillGuard {
    pid: i32,
    armed: bool,
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        if self.armed {
            // SAFETY: pid is our child (or grandchild we were told of).
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            reap(self.pid);
        }
    }
}

fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: status is a valid out-pointer. A grandchild that is not ours
    // makes waitpid fail with ECHILD, which is fine.
    unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
}

/// A memfd for the state JSON of createContainer/startContainer hooks.
fn hook_memfd(plan: &LaunchPlan) -> Result<Option<File>, LaunchError> {
    if plan.create_container_hooks.is_empty() && plan.start_container_hooks.is_empty() {
        return Ok(None);
    }
    // SAFETY: a valid name and flags.
    let fd = unsafe { libc::memfd_create(c"corral-hook-state".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(LaunchError::Hook(format!(
            "memfd for the hooks' state: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: fd is a fresh memfd we own.
    Ok(Some(unsafe { File::from_raw_fd(fd) }))
}

fn open_joins(plan: &LaunchPlan) -> Result<Vec<(OwnedFd, i32)>, LaunchError> {
    plan.namespaces
        .joins
        .iter()
        .map(|j| {
            File::open(&j.path)
                .map(|f| (OwnedFd::from(f), j.nstype))
                .map_err(|source| LaunchError::Namespace {
                    path: j.path.clone(),
                    source,
                })
        })
        .collect()
}

/// clone3 into the cgroup; falls back without CLONE_INTO_CGROUP. Returns
/// (pid, pidfd, placed in the cgroup by the clone).
fn clone_child(
    prepared: &Prepared,
    parent_end: &OwnedFd,
    cgroup: &File,
    plan: &LaunchPlan,
) -> Result<(i32, OwnedFd, bool), LaunchError> {
    let mut into_cgroup = true;
    loop {
        let mut pidfd: RawFd = -1;
        let mut args = sys::CloneArgs {
            flags: plan.namespaces.clone_flags | libc::CLONE_PIDFD as u64,
            pidfd: &mut pidfd as *mut RawFd as u64,
            exit_signal: libc::SIGCHLD as u64,
            ..Default::default()
        };
        if into_cgroup {
            args.flags |= sys::CLONE_INTO_CGROUP;
            args.cgroup = cgroup.as_raw_fd() as u64;
        }
        // SAFETY: the child runs only `child::run`, which makes raw syscalls
        // on data prepared before the clone and never returns.
        match unsafe { sys::clone3(&mut args) } {
            Ok(0) => {
                // SAFETY: closing our copy of the parent's end in the child.
                unsafe { libc::close(parent_end.as_raw_fd()) };
                child::run(prepared)
            }
            Ok(pid) => {
                // SAFETY: the kernel stored a fresh pidfd for us.
                let fd = unsafe { OwnedFd::from_raw_fd(pidfd) };
                return Ok((pid, fd, into_cgroup));
            }
            Err(e) if into_cgroup && [libc::EINVAL, libc::E2BIG, libc::ENOSYS].contains(&e) => {
                into_cgroup = false;
            }
            Err(e) => return Err(LaunchError::Clone(std::io::Error::from_raw_os_error(e))),
        }
    }
}

/// The id-mapped trees of the plan's mounts (`crate::idmap`), raised to
/// `floor` or above, their numbers given to the prepared mounts; held by
/// the caller until the clone.
fn idmapped_trees(
    plan: &LaunchPlan,
    prepared: &mut Prepared,
    floor: RawFd,
) -> Result<Vec<OwnedFd>, LaunchError> {
    let Some(root) = prepared.root.as_mut() else {
        return Ok(Vec::new());
    };
    let mut held = Vec::new();
    for (index, tree) in crate::idmap::trees(plan, root)? {
        let tree = raise(tree, floor)?;
        root.mounts[index].tree = tree.as_raw_fd();
        held.push(tree);
    }
    Ok(held)
}

fn write_maps(pid: i32, plan: &LaunchPlan) -> Result<(), LaunchError> {
    for (file, map) in [("uid_map", &plan.uid_map), ("gid_map", &plan.gid_map)] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, map).map_err(|source| LaunchError::IdMap { file: path, source })?;
    }
    Ok(())
}
