//! Launch: resolve the user, make the sandbox, build the spec (base plus
//! every isolator's patch), write the bundle, open the task's stdio in the
//! sandbox and the exit record's file, and start the container in one
//! `Runtime::run`. A task naming an image first has it provisioned (the
//! store unpacks it once), runs as a user of the image's /etc/passwd, and
//! gets the image's rootfs (overlay or copy) in its bundle. On failure the
//! runtime leaves nothing; the root is unmounted and the bundle removed
//! here.

use super::rootfs::{self, Backend};
use super::spec::{BaseSpec, base_spec};
use super::{Containerizer, ContainerizerError, Started, TaskRecord, user};
use crate::checkpoint;
use crate::images::Provisioned;
use crate::isolators::{ImageRoot, Launch, merge_patches, prepare_all};
use corral_api::v1::{ContainerType, TaskInfo, scalar_sum};
use corral_oci::CreateOptions;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

fn chown(path: &Path, u: Option<user::User>) -> Result<(), ContainerizerError> {
    match u {
        Some(u) if u.uid != 0 => std::os::unix::fs::chown(path, Some(u.uid), Some(u.gid))
            .map_err(ContainerizerError::io("changing the owner of", path)),
        _ => Ok(()),
    }
}

fn output(path: &Path, u: Option<user::User>) -> Result<File, ContainerizerError> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o644)
        .open(path)
        .map_err(ContainerizerError::io("opening", path))?;
    chown(path, u)?;
    Ok(f)
}

/// `name` as a user of the image (its /etc/passwd and /etc/group, read
/// inside its rootfs).
fn image_user(img: &Provisioned, name: &str) -> Result<user::User, ContainerizerError> {
    let read = |rel: &str| {
        crate::images::read_in_root(&img.rootfs, rel).map_err(|e| {
            ContainerizerError::Task(format!("image {:?}: reading /{rel}: {e}", img.name))
        })
    };
    user::resolve_in_image(&read("etc/passwd")?, &read("etc/group")?, name)
        .map_err(|m| ContainerizerError::Task(format!("image {:?}: {m}", img.name)))
}

impl Containerizer {
    /// Launches the container of `rec` (blocking: run it off the async
    /// threads).
    pub fn launch(&self, rec: &TaskRecord) -> Result<Started, ContainerizerError> {
        self.launch_with(rec, None)
    }

    /// Launches a custom executor's container: `rec.task` is the executor
    /// as a task (its id, command and resources), `env` Mesos' executor
    /// environment (blocking).
    pub fn launch_executor(
        &self,
        rec: &TaskRecord,
        env: &[String],
    ) -> Result<Started, ContainerizerError> {
        self.launch_with(rec, Some(env))
    }

    fn launch_with(
        &self,
        rec: &TaskRecord,
        executor_env: Option<&[String]>,
    ) -> Result<Started, ContainerizerError> {
        let id = &rec.container_id;
        let command = rec
            .task
            .command
            .as_ref()
            .ok_or_else(|| ContainerizerError::Task("the task has no command".into()))?;
        let bundle = self.paths.bundle(id);
        let image = self.provision_for(&rec.task, &bundle)?;
        let name = command
            .user
            .clone()
            .or_else(|| image.as_ref().and_then(|i| i.config.user.clone()))
            .filter(|n| !n.is_empty() || image.is_none())
            .unwrap_or_else(|| rec.framework.user.clone());
        let user = match &image {
            None => user::resolve(&name).map_err(ContainerizerError::Task)?,
            Some(_) if name.is_empty() => None,
            Some(img) => Some(image_user(img, &name)?),
        };
        let sandbox = self.paths.sandbox(id);
        std::fs::create_dir_all(&sandbox).map_err(ContainerizerError::io("creating", &sandbox))?;
        chown(&sandbox, user)?;
        let res = &rec.task.resources;
        let bps = |n: &str| Some(scalar_sum(res, n) as u64).filter(|v| *v > 0);
        let launch = Launch {
            cpus: scalar_sum(res, "cpus"),
            mem_mib: scalar_sum(res, "mem"),
            io_bps: (bps("disk_read_bps"), bps("disk_write_bps")),
            sandbox: sandbox.clone(),
            image: image.as_ref().map(|i| ImageRoot {
                working_dir: i.config.working_dir.clone(),
            }),
            volumes: rec
                .task
                .container
                .as_ref()
                .map(|c| c.volumes.clone())
                .unwrap_or_default(),
        };
        self.volumes_are_handled(&launch)?;
        for rel in crate::isolators::filesystem::volumes::sandbox_sources(&launch.volumes) {
            let dir = sandbox.join(rel);
            std::fs::create_dir_all(&dir).map_err(ContainerizerError::io("creating", &dir))?;
            chown(&dir, user)?;
        }
        let patches = prepare_all(&self.isolators, &launch, &self.settings)?;
        let cgroups_path = self.cgroups_path(id);
        let mut spec = base_spec(&BaseSpec {
            task: &rec.task,
            framework_id: rec
                .framework
                .id
                .as_ref()
                .ok_or_else(|| ContainerizerError::Task("the framework has no id".into()))?,
            agent_id: &rec.agent_id,
            container_id: id.as_str(),
            // Bound there by filesystem/linux, wherever it is on the host.
            executor: std::path::Path::new(crate::isolators::filesystem::EXECUTOR),
            user,
            hostname: &self.hostname,
            cgroups_path: &cgroups_path,
            executor_env,
            image: image.as_ref().map(|i| &i.config),
            launcher: if image.is_some() { &self.launcher } else { &[] },
        })
        .map_err(ContainerizerError::Task)?;
        merge_patches(&mut spec, &patches)?;
        let root = bundle.join(crate::isolators::filesystem::ROOTFS);
        let started = checkpoint::write_json(&bundle.join("config.json"), &spec)
            .map_err(ContainerizerError::from)
            .and_then(|()| self.make_root(image.as_ref(), &bundle, &root))
            .and_then(|()| self.start(id, &bundle, &sandbox, user));
        if started.is_err() {
            // Unmounted first: nothing is ever removed through the root.
            if rootfs::release(&root).is_ok() {
                let _ = std::fs::remove_dir_all(&bundle);
            }
        }
        started
    }

    /// Volumes are planned by `filesystem/linux`: without it, a task that
    /// has some fails rather than run without them.
    fn volumes_are_handled(&self, launch: &Launch) -> Result<(), ContainerizerError> {
        let linux = self
            .isolators
            .iter()
            .any(|i| i.name() == "filesystem/linux");
        if launch.volumes.is_empty() || linux {
            return Ok(());
        }
        Err(ContainerizerError::Task(
            "the container has volumes, which need the filesystem/linux isolator (not in --isolation)"
                .into(),
        ))
    }

    /// The task's image, provisioned; `None` without one.
    pub(super) fn image_of(
        &self,
        task: &TaskInfo,
    ) -> Result<Option<Provisioned>, ContainerizerError> {
        let Some(c) = &task.container else {
            return Ok(None);
        };
        if c.r#type == ContainerType::Docker {
            return Err(ContainerizerError::Task(
                "ContainerInfo type DOCKER (the Docker containerizer) is not supported: \
                 use type MESOS with mesos.image"
                    .into(),
            ));
        }
        match c.mesos.as_ref().and_then(|m| m.image.as_ref()) {
            None => Ok(None),
            Some(img) => Ok(Some(self.images.provision(img)?)),
        }
    }

    /// The container's root folder: the host's folders are bound onto an
    /// empty one; an image's rootfs is overlaid or copied there.
    fn make_root(
        &self,
        image: Option<&Provisioned>,
        bundle: &Path,
        root: &Path,
    ) -> Result<(), ContainerizerError> {
        let made = match (image, self.backend) {
            (None, _) => std::fs::create_dir_all(root),
            (Some(i), Backend::Overlay) => rootfs::mount_overlay(&i.rootfs, bundle, root),
            (Some(i), Backend::Copy) => rootfs::copy_tree(&i.rootfs, root),
        };
        made.map_err(|e| match image {
            Some(i) => ContainerizerError::Task(format!(
                "image {:?}: making the container's root from {} ({:?} backend): {e}",
                i.name,
                i.rootfs.display(),
                self.backend
            )),
            None => ContainerizerError::io("creating", root)(e),
        })
    }

    fn start(
        &self,
        id: &crate::paths::ContainerId,
        bundle: &Path,
        sandbox: &Path,
        user: Option<user::User>,
    ) -> Result<Started, ContainerizerError> {
        let null = Path::new("/dev/null");
        let stdin = File::open(null).map_err(ContainerizerError::io("opening", null))?;
        let stdout = output(&sandbox.join("stdout"), user)?;
        let stderr = output(&sandbox.join("stderr"), user)?;
        let exit_path = self.paths.exit(id);
        let exit = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&exit_path)
            .map_err(ContainerizerError::io("opening", &exit_path))?;
        let opts = CreateOptions {
            stdio: Some([stdin.as_raw_fd(), stdout.as_raw_fd(), stderr.as_raw_fd()]),
            preserve_fds: vec![exit.as_raw_fd()],
            ..CreateOptions::default()
        };
        let (state, _warnings) = self.runtime.run(&Self::oci_id(id), bundle, &opts)?;
        Ok(Started {
            pid: state.pid,
            start_time: state.pid_start_time,
        })
    }
}
