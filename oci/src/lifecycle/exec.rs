//! `exec`: run another process in a running container. The process joins
//! every namespace of the container's init (by /proc/PID/ns, user first,
//! mount last, then one fork for the pid namespace), is cloned straight into
//! the container's cgroup, and gets the container's seccomp profile. The
//! same child code as `create` does the rest, without a root to build.

use super::{Runtime, RuntimeError, last_cap};
use crate::id::ContainerId;
use crate::launch::{self, LaunchRequest};
use crate::plan::{self, HostFacts};
use crate::spec::{self, Bundle};
use crate::state::Status;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType, Process};

/// A process started by `exec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Execed {
    /// Its host pid.
    pub pid: i32,
}

fn ns_file(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

/// The container's spec rewritten for `exec`: `process` instead of its
/// own, every namespace joined through the init's /proc/PID/ns, and nothing
/// of the root to build again.
pub fn exec_bundle(mut bundle: Bundle, process: Process, init_pid: i32) -> Bundle {
    let spec = &mut bundle.spec;
    spec.set_process(Some(process));
    spec.set_mounts(None);
    spec.set_hostname(None);
    spec.set_domainname(None);
    if let Some(linux) = spec.linux_mut() {
        let joined: Vec<LinuxNamespace> = linux
            .namespaces()
            .iter()
            .flatten()
            .map(|ns| {
                let mut ns = ns.clone();
                ns.set_path(Some(
                    format!("/proc/{init_pid}/ns/{}", ns_file(ns.typ())).into(),
                ));
                ns
            })
            .collect();
        linux.set_namespaces(Some(joined));
        linux.set_sysctl(None);
        // Moved in by create; the joined namespace has them.
        linux.set_net_devices(None);
    }
    bundle
}

impl Runtime {
    /// Starts `process` inside running container `id`; returns once it has
    /// exec'd (or with the reason it could not).
    pub fn exec(
        &self,
        id: &ContainerId,
        process: Process,
        console_socket: Option<&std::path::Path>,
    ) -> Result<Execed, RuntimeError> {
        let state = self.load(id)?;
        let status = self.observe(&state);
        if status != Status::Running {
            return Err(RuntimeError::WrongStatus {
                id: id.to_string(),
                status,
                what: "processes can only be exec'd in a running container",
            });
        }
        let console = super::console_socket(process.terminal().unwrap_or(false), console_socket)?;
        if process.args().as_ref().is_none_or(|a| a.is_empty()) {
            return Err(RuntimeError::Unsupported("exec: no command given".into()));
        }
        let bundle = exec_bundle(spec::load(&state.bundle)?, process, state.pid);
        let host = HostFacts {
            last_cap: last_cap(),
            no_pivot: false,
        };
        let mut plan = plan::plan(&bundle, &host, &|p| p.is_dir())?;
        let affinity = bundle
            .spec
            .process()
            .as_ref()
            .and_then(|p| p.exec_cpu_affinity().clone());
        plan.exec_affinity = affinity.as_ref().map(plan::affinity::plan).transpose()?;
        let seccomp = super::compile_seccomp(&bundle)?;
        let req = LaunchRequest {
            plan: &plan,
            cgroup_dir: &state.cgroup_path,
            seccomp,
            start_listener: None,
            console: console.as_ref(),
            last_cap: host.last_cap,
            // The state a seccomp agent gets with a notifying filter's listener.
            before_go: &|_| {
                Ok(serde_json::to_vec(&state.oci(Status::Running)).expect("state serializes"))
            },
            stdio: None,
            preserve_fds: &[],
        };
        let launched = launch::launch(&req)?;
        launch::wait_exec(&launched, &plan)?;
        Ok(Execed { pid: launched.pid })
    }
}
