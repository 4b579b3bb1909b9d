//! The containerizer: each command task runs as an OCI container started
//! in-process through the `corral-oci` library, with the built-in command
//! executor as its init. Launch builds the spec (base + every isolator's
//! patch), writes the bundle and starts the container; the agent then
//! watches the init's pidfd; when it ends, [`Containerizer::finish`]
//! reads why (the executor's exit record, memory.events) and removes the
//! container. The sandbox stays for the framework to read. A task whose
//! container names an image gets the image's rootfs from the store
//! (`crate::images`) as an overlay or copy in its bundle (`rootfs.rs`).

pub mod disk;
mod exit;
mod images;
mod launch;
pub mod loader;
mod resize;
pub mod rootfs;
mod spec;
mod user;

pub use exit::{Ending, Verdict, verdict};
pub use spec::{BaseSpec, base_spec, command_argv};
pub use user::User;

use crate::checkpoint::CheckpointError;
use crate::isolators::{Isolator, IsolatorError, MergeError, Settings};
use crate::paths::{ContainerId, Paths};
use corral_api::AgentId;
use corral_api::v1::{FrameworkInfo, TaskInfo};
use corral_oci::{Runtime, RuntimeError};
use corral_systemd::scope::ScopePath;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A container could not be launched or handled.
#[derive(Debug, thiserror::Error)]
pub enum ContainerizerError {
    /// Something in the task itself (its command, its user, its resources).
    #[error("{0}")]
    Task(String),
    #[error(transparent)]
    Isolator(#[from] IsolatorError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error("OCI runtime: {0}")]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Image(#[from] crate::images::ImageError),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ContainerizerError {
    fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ContainerizerError {
        let path = path.to_path_buf();
        move |source| ContainerizerError::Io { what, path, source }
    }
}

/// What the agent checkpoints about each container before launching it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub container_id: ContainerId,
    pub agent_id: AgentId,
    pub framework: FrameworkInfo,
    pub task: TaskInfo,
}

/// A started container's init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub pid: i32,
    pub start_time: u64,
}

/// How the containerizer is set up.
#[derive(Debug)]
pub struct Containerizer {
    runtime: Runtime,
    paths: Paths,
    isolators: Vec<Box<dyn Isolator>>,
    settings: Settings,
    hostname: String,
    cgroup_mount: PathBuf,
    /// Containers' parent cgroup, relative to the mount.
    cgroup_parent: PathBuf,
    /// With the systemd driver, the slice of the containers' scopes.
    systemd_slice: Option<String>,
    /// Where images come from and are kept.
    images: crate::images::ImageStore,
    /// How image containers get their root.
    backend: rootfs::Backend,
    /// The argv prefix that starts the executor in image containers.
    launcher: Vec<String>,
    /// Launches provisioning an image hold it shared, PRUNE_IMAGES
    /// exclusively (`images.rs`).
    image_gate: std::sync::RwLock<()>,
}

impl Containerizer {
    /// A containerizer keeping its state under `paths`.
    pub fn new(
        paths: Paths,
        isolators: Vec<Box<dyn Isolator>>,
        settings: Settings,
        hostname: String,
        cgroup_mount: PathBuf,
        cgroup_parent: PathBuf,
    ) -> Containerizer {
        Containerizer {
            runtime: Runtime::new(paths.oci_root(), &cgroup_mount),
            isolators,
            settings,
            hostname,
            cgroup_mount,
            images: crate::images::ImageStore::new(None, paths.root().join("store/docker")),
            cgroup_parent,
            systemd_slice: None,
            backend: rootfs::Backend::Copy,
            launcher: Vec::new(),
            image_gate: std::sync::RwLock::new(()),
            paths,
        }
    }

    /// Images from `store`, container roots made with `backend`, the
    /// executor started through `loader` (when dynamically linked).
    pub fn with_images(
        mut self,
        store: crate::images::ImageStore,
        backend: rootfs::Backend,
        loader: Option<loader::HostLoader>,
    ) -> Containerizer {
        self.images = store;
        self.backend = backend;
        self.launcher = loader.as_ref().map(|l| l.argv_prefix()).unwrap_or_default();
        self.settings.executor_libs = loader.map(|l| l.binds()).unwrap_or_default();
        self
    }

    /// Containers as systemd scopes in `slice` (the systemd cgroup
    /// driver) when `Some`.
    pub fn with_systemd(mut self, slice: Option<&str>) -> Containerizer {
        if let Some(slice) = slice {
            self.runtime = Runtime::systemd_in(self.paths.oci_root(), &self.cgroup_mount, slice);
            self.systemd_slice = Some(slice.to_string());
        }
        self
    }

    /// The container's linux.cgroupsPath: under the containers' cgroup, or
    /// `SLICE:corral:ID` with the systemd driver.
    pub fn cgroups_path(&self, id: &ContainerId) -> PathBuf {
        match &self.systemd_slice {
            Some(slice) => ScopePath::cgroups_path(slice, id.as_str()).into(),
            None => self.cgroup_parent.join(id.as_str()),
        }
    }

    /// The work dir layout.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    fn oci_id(id: &ContainerId) -> corral_oci::ContainerId {
        corral_oci::ContainerId::new(id.as_str()).expect("a UUID is a valid OCI id")
    }

    /// A container's cgroup folder on the host.
    pub fn cgroup_dir(&self, id: &ContainerId) -> PathBuf {
        let scope = |slice: &str| ScopePath::for_container(slice, id.as_str()).ok();
        match self.systemd_slice.as_deref().and_then(scope) {
            Some(scope) => self.cgroup_mount.join(scope.cgroup_dir()),
            None => self
                .cgroup_mount
                .join(&self.cgroup_parent)
                .join(id.as_str()),
        }
    }

    /// The container's init, if the runtime knows it and it still runs.
    pub fn init(&self, id: &ContainerId) -> Option<corral_oci::process::ProcessId> {
        let state = self.runtime.store().load(&Self::oci_id(id)).ok()?;
        let p = corral_oci::process::ProcessId {
            pid: state.pid,
            start_time: state.pid_start_time,
        };
        (state.pid > 0 && p.is_alive()).then_some(p)
    }

    /// Whether the OCI runtime has a record of the container.
    pub fn known(&self, id: &ContainerId) -> bool {
        self.runtime.store().load(&Self::oci_id(id)).is_ok()
    }

    /// Sends `signal` to the container's init (the command executor,
    /// which passes SIGTERM on to the command).
    pub fn signal(&self, id: &ContainerId, signal: i32) -> Result<(), ContainerizerError> {
        Ok(self.runtime.kill(&Self::oci_id(id), signal, false)?)
    }

    /// Kills every process of the container at once (cgroup.kill).
    pub fn kill_all(&self, id: &ContainerId) -> Result<(), ContainerizerError> {
        Ok(self.runtime.kill(&Self::oci_id(id), libc::SIGKILL, true)?)
    }

    /// Usage of a running container.
    pub fn usage(
        &self,
        id: &ContainerId,
    ) -> Result<corral_isolator::cgroup::Stats, ContainerizerError> {
        Ok(self.runtime.stats(&Self::oci_id(id))?)
    }

    /// After the init ended: why (`killed`: the agent had asked; `disk`:
    /// the agent killed it over its disk quota, (used, limit) bytes), then the
    /// container is removed (cgroup, OCI state, bundle); the sandbox and
    /// the record folder stay.
    pub fn finish(
        &self,
        id: &ContainerId,
        killed: bool,
        disk: Option<(u64, u64)>,
    ) -> Result<Verdict, ContainerizerError> {
        let cgroup = self.cgroup_dir(id);
        let read = |f: &str| std::fs::read_to_string(cgroup.join(f)).ok();
        let events = read("memory.events").unwrap_or_default();
        let count = |key: &str| {
            events
                .lines()
                .find_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        let record = std::fs::read(self.paths.exit(id))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let ending = Ending {
            record,
            killed,
            oom_kills: count("oom_kill "),
            mem_limit: read("memory.max").and_then(|v| v.trim().parse().ok()),
            mem_peak: read("memory.peak").and_then(|v| v.trim().parse().ok()),
            disk,
        };
        self.remove(id)?;
        Ok(verdict(&ending))
    }

    /// Removes the container (killing what is left of it); a container the
    /// runtime never knew is fine.
    pub fn remove(&self, id: &ContainerId) -> Result<(), ContainerizerError> {
        match self.runtime.delete(&Self::oci_id(id), true) {
            Ok(_) => {}
            Err(RuntimeError::Store(corral_oci::state::StoreError::NotFound(_))) => {}
            Err(e) => return Err(e.into()),
        }
        let bundle = self.paths.bundle(id);
        // Never remove through a mounted root.
        let root = bundle.join(crate::isolators::filesystem::ROOTFS);
        rootfs::release(&root).map_err(ContainerizerError::io("unmounting", &root))?;
        match std::fs::remove_dir_all(&bundle) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(ContainerizerError::io("removing", &bundle)(e))
            }
            _ => Ok(()),
        }
    }
}
