//! `create`: load and plan the bundle (no side effect before both succeed),
//! claim the state folder, record the container as `creating`, create its
//! cgroup, clone its init into it, run the prestart/createRuntime hooks and
//! leave the init waiting for `start`. Any failure undoes all of it: no
//! state folder, no cgroup, no process is left behind.

use super::{Runtime, RuntimeError, last_cap};
use crate::id::ContainerId;
use crate::launch::{self, LaunchError, LaunchRequest};
use crate::plan::{self, HostFacts, LaunchPlan};
use crate::spec::{self, Bundle};
use crate::state::{State, Status, rfc3339_now};
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

/// Options of `create` (runc's flags).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Write the init's pid here.
    pub pid_file: Option<PathBuf>,
    /// Where to send the pty master when process.terminal is set.
    pub console_socket: Option<PathBuf>,
    /// Use move + chroot instead of pivot_root.
    pub no_pivot: bool,
    /// The process's stdin, stdout and stderr (held open by the caller
    /// during the call); None to inherit the caller's own.
    pub stdio: Option<[RawFd; 3]>,
    /// Descriptors (held open by the caller) the process gets as 3, 4, ...
    /// in this order; runc's `--preserve-fds N` passes 3..3+N.
    pub preserve_fds: Vec<RawFd>,
}

impl Runtime {
    /// Creates container `id` from the bundle in `bundle_dir`.
    pub fn create(
        &self,
        id: &ContainerId,
        bundle_dir: &Path,
        opts: &CreateOptions,
    ) -> Result<State, RuntimeError> {
        self.create_or_run(id, bundle_dir, opts, false)
    }

    /// `create`, or with `start_now` create and start in one go: the init
    /// execs right after setup instead of waiting on a start socket.
    pub(super) fn create_or_run(
        &self,
        id: &ContainerId,
        bundle_dir: &Path,
        opts: &CreateOptions,
        start_now: bool,
    ) -> Result<State, RuntimeError> {
        let bundle = spec::load(bundle_dir)?;
        let host = HostFacts {
            last_cap: last_cap(),
            no_pivot: opts.no_pivot,
        };
        let plan = plan::plan(&bundle, &host, &|p| p.is_dir())?;
        check_supported(&plan, opts)?;
        let seccomp = super::compile_seccomp(&bundle)?;
        self.store.claim(id)?;
        self.create_claimed(id, &bundle, &plan, seccomp, opts, start_now)
            .inspect_err(|_| {
                let _ = self.store.remove(id);
            })
    }

    fn create_claimed(
        &self,
        id: &ContainerId,
        bundle: &Bundle,
        plan: &LaunchPlan,
        seccomp: Option<crate::seccomp::SeccompProgram>,
        opts: &CreateOptions,
        start_now: bool,
    ) -> Result<State, RuntimeError> {
        let linux = bundle.spec.linux().clone().unwrap_or_default();
        let relative = self.cgroup_path_for(linux.cgroups_path().as_deref(), id);
        let cgroup_path = self
            .driver
            .locate(&relative)
            .map_err(|e| RuntimeError::Cgroup(e.to_string()))?;
        let mut state = State {
            oci_version: bundle.spec.version().clone(),
            id: id.to_string(),
            status: Status::Creating,
            pid: 0,
            pid_start_time: 0,
            bundle: bundle.dir.clone(),
            rootfs: bundle.rootfs.clone(),
            created: rfc3339_now(),
            cgroup_path,
            cgroup_root: self.cgroup_root.clone(),
            cgroup_relative: relative.clone(),
            // SAFETY: geteuid cannot fail.
            owner: unsafe { libc::geteuid() },
            annotations: bundle.spec.annotations().clone().unwrap_or_default(),
            hooks: bundle.spec.hooks().clone(),
            warnings: spec::warnings(&bundle.spec)
                .into_iter()
                .chain(ignored_resources(&linux))
                .collect(),
        };
        // Recorded before the cgroup exists, so a crash leaves a trail.
        self.store.save(&state)?;
        let cgroup = self
            .driver
            .create(&relative, Some(&cgroup_resources(&linux)))
            .map_err(|e| RuntimeError::Cgroup(e.to_string()))?;
        let listener = match start_now {
            true => Ok(None),
            false => bind_short(&self.start_socket(id)).map(|l| Some(OwnedFd::from(l))),
        };
        let launched = listener
            .and_then(|l| self.launch(&state, plan, seccomp, cgroup.path(), opts, l.as_ref()));
        let launched = launched.and_then(|l| match start_now {
            true => Ok(launch::wait_exec(&l, plan).map(|()| l)?),
            false => Ok(l),
        });
        let mut launched = match launched {
            Ok(l) => l,
            Err(e) => {
                let _ = self.driver.remove(cgroup);
                return Err(e);
            }
        };
        state.pid = launched.pid;
        state.pid_start_time = launched.start_time;
        state.status = match start_now {
            true => Status::Running,
            false => Status::Created,
        };
        let saved = self.store.save(&state);
        let pid_file = match (&saved, &opts.pid_file) {
            (Ok(()), Some(f)) => write_pid_file(f, launched.pid),
            _ => Ok(()),
        };
        if let Err(e) = saved.map_err(RuntimeError::from).and(pid_file) {
            let _ = self.driver.remove(cgroup);
            return Err(e);
        }
        // Created (and with `run`, exec'd): the devices stay with the
        // container's namespace.
        if let Some(moved) = launched.net_devices.take() {
            moved.keep();
        }
        Ok(state)
    }

    fn launch(
        &self,
        state: &State,
        plan: &LaunchPlan,
        seccomp: Option<crate::seccomp::SeccompProgram>,
        cgroup_dir: &Path,
        opts: &CreateOptions,
        listener: Option<&OwnedFd>,
    ) -> Result<launch::Launched, RuntimeError> {
        let console = super::console_socket(plan.terminal, opts.console_socket.as_deref())?;
        let hooks = state.hooks.clone().unwrap_or_default();
        let before_go = |pid: i32| -> Result<Vec<u8>, LaunchError> {
            let mut s = state.clone();
            s.pid = pid;
            let json = serde_json::to_vec(&s.oci(Status::Created)).expect("state serializes");
            for (phase, list) in [
                ("prestart", hooks.prestart()),
                ("createRuntime", hooks.create_runtime()),
            ] {
                crate::hooks::run(phase, list.as_deref().unwrap_or(&[]), &json)
                    .map_err(|e| LaunchError::Hook(e.to_string()))?;
            }
            Ok(json)
        };
        let req = LaunchRequest {
            plan,
            cgroup_dir,
            seccomp,
            start_listener: listener,
            console: console.as_ref(),
            last_cap: last_cap(),
            before_go: &before_go,
            stdio: opts.stdio,
            preserve_fds: &opts.preserve_fds,
        };
        Ok(launch::launch(&req)?)
    }
}

/// Binds a unix socket at `path` through /proc/self/fd, so long state roots
/// do not hit the 108-byte limit of socket paths.
pub(super) fn bind_short(path: &Path) -> Result<UnixListener, RuntimeError> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path.file_name().unwrap_or_default();
    let d =
        std::fs::File::open(dir).map_err(RuntimeError::io(format!("opening {}", dir.display())))?;
    use std::os::fd::AsRawFd;
    let short = Path::new("/proc/self/fd")
        .join(d.as_raw_fd().to_string())
        .join(name);
    UnixListener::bind(&short).map_err(RuntimeError::io(format!("binding {}", path.display())))
}

fn write_pid_file(file: &Path, pid: i32) -> Result<(), RuntimeError> {
    let tmp = file.with_extension("corral-tmp");
    std::fs::write(&tmp, pid.to_string())
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(RuntimeError::io(format!(
            "writing pid file {}",
            file.display()
        )))
}

fn check_supported(plan: &LaunchPlan, opts: &CreateOptions) -> Result<(), RuntimeError> {
    if plan.terminal && opts.stdio.is_some() {
        return Err(RuntimeError::Unsupported(
            "process.terminal is true: the terminal is the process's stdio, do not pass stdio too"
                .into(),
        ));
    }
    if plan.terminal && opts.console_socket.is_none() {
        return Err(RuntimeError::Unsupported(
            "process.terminal is true: pass --console-socket, or set it to false".into(),
        ));
    }
    Ok(())
}

/// The spec's resources with, after its own device rules (the last
/// matching rule wins), the ones every container gets and an allow rule for
/// each device of linux.devices, as runc does.
pub(super) fn cgroup_resources(
    linux: &oci_spec::runtime::Linux,
) -> oci_spec::runtime::LinuxResources {
    use oci_spec::runtime::{LinuxDeviceCgroupBuilder, LinuxDeviceType};
    let mut r = linux.resources().clone().unwrap_or_default();
    let spec = r.devices().clone().unwrap_or_default();
    let mut rules = corral_isolator::cgroup::devices::container_rules(&spec);
    for d in linux.devices().iter().flatten() {
        let typ = match d.typ() {
            LinuxDeviceType::B => LinuxDeviceType::B,
            _ => LinuxDeviceType::C,
        };
        if let Ok(rule) = LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(typ)
            .major(d.major())
            .minor(d.minor())
            .access("rwm")
            .build()
        {
            rules.push(rule);
        }
    }
    r.set_devices(Some(rules));
    r
}

/// Resources cgroup v2 has no file for (kernel memory, swappiness, ...):
/// reported as warnings, never dropped silently.
fn ignored_resources(linux: &oci_spec::runtime::Linux) -> Vec<String> {
    let Some(r) = linux.resources() else {
        return Vec::new();
    };
    match corral_isolator::cgroup::plan::plan(r) {
        Ok(plan) => plan
            .ignored
            .iter()
            .map(|i| {
                format!(
                    "linux.resources.{} has no effect on cgroup v2: {}",
                    i.field, i.reason
                )
            })
            .collect(),
        // Invalid resources fail the cgroup creation with their own error.
        Err(_) => Vec::new(),
    }
}
