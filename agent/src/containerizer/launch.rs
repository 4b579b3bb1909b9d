//! Launch: resolve the user, make the sandbox, build the spec (base plus
//! every isolator's patch), write the bundle, open the task's stdio in the
//! sandbox and the exit record's file, and start the container in one
//! `Runtime::run`. On failure the runtime leaves nothing; the bundle is
//! removed here.

use super::spec::{BaseSpec, base_spec};
use super::{Containerizer, ContainerizerError, Started, TaskRecord, user};
use crate::checkpoint;
use crate::isolators::{Launch, merge_patches, prepare_all};
use corral_api::v1::scalar_sum;
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
        let name = command
            .user
            .clone()
            .unwrap_or_else(|| rec.framework.user.clone());
        let user = user::resolve(&name).map_err(ContainerizerError::Task)?;
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
        };
        let patches = prepare_all(&self.isolators, &launch, &self.settings)?;
        let cgroups_path = self.cgroup_parent.join(id.as_str());
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
        })
        .map_err(ContainerizerError::Task)?;
        merge_patches(&mut spec, &patches)?;
        let bundle = self.paths.bundle(id);
        let rootfs = bundle.join(crate::isolators::filesystem::ROOTFS);
        std::fs::create_dir_all(&rootfs).map_err(ContainerizerError::io("creating", &rootfs))?;
        checkpoint::write_json(&bundle.join("config.json"), &spec)?;
        let started = self.start(id, &bundle, &sandbox, user);
        if started.is_err() {
            let _ = std::fs::remove_dir_all(&bundle);
        }
        started
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
