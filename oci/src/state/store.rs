//! The state directory: one folder per container under the runtime root
//! (`/run/corral-oci` by default), holding `state.json` (replaced atomically:
//! written to a temporary file, fsynced, renamed, directory fsynced) and the
//! container's start socket.

use super::State;
use crate::id::ContainerId;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors of the state store, each naming the container or file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("container {0} already exists")]
    Exists(String),
    #[error("container {0} does not exist")]
    NotFound(String),
    #[error("state of container {id} at {file} is corrupt: {message}")]
    Corrupt {
        id: String,
        file: PathBuf,
        message: String,
    },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

/// The runtime's state root.
#[derive(Debug, Clone)]
pub struct StateStore {
    root: PathBuf,
}

impl StateStore {
    /// A store rooted at `root` (created on first use, mode 0700).
    pub fn new(root: impl Into<PathBuf>) -> StateStore {
        StateStore { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of container `id`.
    pub fn dir(&self, id: &ContainerId) -> PathBuf {
        self.root.join(id.as_str())
    }

    /// Claims `id`: creates its folder, failing if it exists.
    pub fn claim(&self, id: &ContainerId) -> Result<PathBuf, StoreError> {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(io("creating state root", &self.root))?;
        let dir = self.dir(id);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(StoreError::Exists(id.to_string()))
            }
            Err(e) => Err(io("creating state folder", &dir)(e)),
        }
    }

    /// Writes `state` atomically.
    pub fn save(&self, state: &State) -> Result<(), StoreError> {
        let dir = self.root.join(&state.id);
        let tmp = dir.join("state.json.tmp");
        let file = dir.join("state.json");
        let bytes = serde_json::to_vec(state).expect("State serializes");
        let mut f = File::create(&tmp).map_err(io("creating", &tmp))?;
        f.write_all(&bytes).map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
        fs::rename(&tmp, &file).map_err(io("renaming into", &file))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing", &dir))
    }

    /// Reads the state of `id`.
    pub fn load(&self, id: &ContainerId) -> Result<State, StoreError> {
        let file = self.dir(id).join("state.json");
        let bytes = match fs::read(&file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(id.to_string()));
            }
            Err(e) => return Err(io("reading", &file)(e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            id: id.to_string(),
            file,
            message: e.to_string(),
        })
    }

    /// Removes the folder of `id` and everything in it.
    pub fn remove(&self, id: &ContainerId) -> Result<(), StoreError> {
        let dir = self.dir(id);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("removing", &dir)(e)),
        }
    }

    /// The ids of every container in the store, sorted.
    pub fn list(&self) -> Result<Vec<ContainerId>, StoreError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("listing", &self.root)(e)),
        };
        let mut ids: Vec<ContainerId> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| ContainerId::new(e.file_name().to_str()?).ok())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Status;

    fn state(id: &str) -> State {
        State {
            oci_version: "1.0.2".into(),
            id: id.into(),
            status: Status::Created,
            pid: 42,
            pid_start_time: 7,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "now".into(),
            cgroup_path: "/sys/fs/cgroup/x".into(),
            cgroup_root: "/sys/fs/cgroup".into(),
            cgroup_relative: "x".into(),
            owner: 0,
            annotations: Default::default(),
            hooks: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn claim_save_load_list_remove() {
        let root = std::env::temp_dir().join(format!("corral-store-{}", std::process::id()));
        let store = StateStore::new(&root);
        let id = ContainerId::new("c1").unwrap();
        store.claim(&id).unwrap();
        assert!(matches!(store.claim(&id), Err(StoreError::Exists(_))));
        store.save(&state("c1")).unwrap();
        assert_eq!(store.load(&id).unwrap().pid, 42);
        assert_eq!(store.list().unwrap(), vec![id.clone()]);
        fs::write(store.dir(&id).join("state.json"), "{").unwrap();
        let e = store.load(&id).unwrap_err().to_string();
        assert!(e.contains("corrupt") && e.contains("c1"), "{e}");
        store.remove(&id).unwrap();
        assert!(matches!(store.load(&id), Err(StoreError::NotFound(_))));
        fs::remove_dir_all(&root).unwrap();
    }
}
