//! Container state: what the runtime records about each container (the OCI
//! state plus the process identity and cgroup it needs to find it again) and
//! the store that keeps it on disk, written atomically.

mod store;
mod time;

pub use store::{StateStore, StoreError};
pub use time::rfc3339_now;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;

/// The lifecycle status of a container, as `state` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `create` is under way (a crash here leaves a record `delete` can clean).
    Creating,
    /// The init process waits for `start`.
    Created,
    /// The user program runs.
    Running,
    /// The cgroup is frozen.
    Paused,
    /// The init process has exited.
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        };
        f.write_str(s)
    }
}

/// Everything recorded about one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub oci_version: String,
    pub id: String,
    pub status: Status,
    /// Host pid of the container's init; 0 until it exists.
    pub pid: i32,
    /// Start time of that pid (field 22 of /proc/PID/stat), against pid reuse.
    pub pid_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339 creation time.
    pub created: String,
    /// The cgroup directory, absolute.
    pub cgroup_path: PathBuf,
    /// The cgroup driver's root and the path under it.
    pub cgroup_root: PathBuf,
    pub cgroup_relative: PathBuf,
    /// The uid that created the container.
    pub owner: u32,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// The spec's hooks, for start (poststart) and delete (poststop).
    #[serde(default)]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// What `create` accepted but cannot honour on this host (e.g. a mount
    /// label without SELinux), for the caller to report; not stored.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The OCI `state` document (runtime spec, "State"), plus runc's extras.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OciState<'a> {
    pub oci_version: &'a str,
    pub id: &'a str,
    pub status: Status,
    pub pid: i32,
    pub bundle: &'a PathBuf,
    pub rootfs: &'a PathBuf,
    pub created: &'a str,
    pub owner: String,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub annotations: &'a HashMap<String, String>,
}

impl State {
    /// The OCI view of this state with `status` as observed now.
    pub fn oci(&self, status: Status) -> OciState<'_> {
        OciState {
            oci_version: &self.oci_version,
            id: &self.id,
            status,
            pid: if status == Status::Stopped {
                0
            } else {
                self.pid
            },
            bundle: &self.bundle,
            rootfs: &self.rootfs,
            created: &self.created,
            owner: self.owner.to_string(),
            annotations: &self.annotations,
        }
    }
}
