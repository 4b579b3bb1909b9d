//! Walking and removing a cgroup subtree: child cgroups are the
//! subdirectories of a cgroup directory, and a cgroup is removed with
//! `rmdir` once it has no processes and no children (its interface files go
//! with it).

use super::error::{CgroupError, dir_hint};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long `rmdir` retries `EBUSY`, which the kernel can briefly answer
/// while the last exiting task is being released.
const RMDIR_RETRY: Duration = Duration::from_secs(2);

fn dir_error(op: &'static str, path: &Path, source: io::Error) -> CgroupError {
    CgroupError::Dir {
        op,
        path: path.to_path_buf(),
        hint: dir_hint(&source),
        source,
    }
}

/// The child cgroup directories of `dir`.
pub(crate) fn children(dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| dir_error("read_dir", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| dir_error("read_dir", dir, e))?;
        let kind = entry
            .file_type()
            .map_err(|e| dir_error("stat", &entry.path(), e))?;
        if kind.is_dir() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// `dir` and every cgroup below it, parents before children.
pub(crate) fn descendants(dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let below = children(&out[i])?;
        out.extend(below);
        i += 1;
    }
    Ok(out)
}

/// Removes `dir` and every cgroup below it, children first. A directory
/// already gone counts as removed.
pub(crate) fn remove(dir: &Path) -> Result<(), CgroupError> {
    let all = match descendants(dir) {
        Ok(all) => all,
        Err(CgroupError::Dir { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for d in all.iter().rev() {
        rmdir(d)?;
    }
    Ok(())
}

/// Removes one empty cgroup directory, retrying a transient `EBUSY`.
pub(crate) fn rmdir(dir: &Path) -> Result<(), CgroupError> {
    let start = Instant::now();
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && start.elapsed() < RMDIR_RETRY => {
                sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(dir_error("rmdir", dir, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_parents_first_and_removes_children_first() {
        let root = std::env::temp_dir().join(format!("corral-tree-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::create_dir_all(root.join("c")).unwrap();
        let all = descendants(&root).unwrap();
        assert_eq!(
            all,
            vec![
                root.clone(),
                root.join("a"),
                root.join("c"),
                root.join("a/b")
            ]
        );
        remove(&root).unwrap();
        assert!(!root.exists());
        remove(&root).unwrap();
    }

    #[test]
    fn rmdir_of_a_non_empty_directory_names_it() {
        let root = std::env::temp_dir().join(format!("corral-tree-busy-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("file"), "x").unwrap();
        let msg = rmdir(&root).unwrap_err().to_string();
        assert!(
            msg.contains("rmdir") && msg.contains("corral-tree-busy"),
            "{msg}"
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
