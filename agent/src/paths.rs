//! The agent's work dir layout, in one place:
//!
//! ```text
//! WORK/meta/agent.json                  the agent id, once the master gave one
//! WORK/meta/containers/CID/task.json    the task and framework a container runs
//! WORK/meta/containers/CID/updates      its status updates and acks (JSON lines)
//! WORK/meta/containers/CID/exit         the command executor's exit record
//! WORK/meta/containers/CID/bundle/      its OCI bundle (config.json)
//! WORK/sandboxes/CID/                   the task's sandbox (stdout, stderr)
//! WORK/oci/                             the OCI runtime's state root
//! ```

use std::path::{Path, PathBuf};

/// A container's id: a UUID, also its OCI container id and cgroup name.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ContainerId(String);

impl ContainerId {
    /// A fresh random id.
    pub fn random() -> ContainerId {
        ContainerId(uuid::Uuid::new_v4().to_string())
    }

    /// An id read back from the work dir; `None` unless it is a UUID (so a
    /// stray folder never becomes a path or cgroup name).
    pub fn parse(s: &str) -> Option<ContainerId> {
        uuid::Uuid::parse_str(s)
            .ok()
            .map(|u| ContainerId(u.to_string()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ContainerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The work dir.
#[derive(Debug, Clone)]
pub struct Paths {
    root: PathBuf,
}

impl Paths {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Paths {
        Paths { root: root.into() }
    }

    /// The work dir itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The agent's id file.
    pub fn agent_json(&self) -> PathBuf {
        self.root.join("meta/agent.json")
    }

    /// Where container records live.
    pub fn containers(&self) -> PathBuf {
        self.root.join("meta/containers")
    }

    /// A container's record folder.
    pub fn container(&self, id: &ContainerId) -> PathBuf {
        self.containers().join(id.as_str())
    }

    /// A container's task record.
    pub fn task_json(&self, id: &ContainerId) -> PathBuf {
        self.container(id).join("task.json")
    }

    /// A custom executor's record (its container holds its tasks).
    pub fn executor_json(&self, id: &ContainerId) -> PathBuf {
        self.container(id).join("executor.json")
    }

    /// A container's status update log.
    pub fn updates(&self, id: &ContainerId) -> PathBuf {
        self.container(id).join("updates")
    }

    /// The executor's exit record.
    pub fn exit(&self, id: &ContainerId) -> PathBuf {
        self.container(id).join("exit")
    }

    /// A container's OCI bundle.
    pub fn bundle(&self, id: &ContainerId) -> PathBuf {
        self.container(id).join("bundle")
    }

    /// A container's sandbox.
    pub fn sandbox(&self, id: &ContainerId) -> PathBuf {
        self.root.join("sandboxes").join(id.as_str())
    }

    /// The OCI runtime's state root.
    pub fn oci_root(&self) -> PathBuf {
        self.root.join("oci")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_are_container_ids() {
        let id = ContainerId::random();
        assert_eq!(ContainerId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(ContainerId::parse("../etc"), None);
        let p = Paths::new("/w");
        assert_eq!(
            p.updates(&id),
            PathBuf::from(format!("/w/meta/containers/{id}/updates"))
        );
        assert_eq!(p.sandbox(&id), PathBuf::from(format!("/w/sandboxes/{id}")));
    }
}
