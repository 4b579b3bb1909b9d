//! What an [`FsDriver`](super::FsDriver) has already read or enabled above
//! the cgroups it creates: the root's cgroup.controllers and, per ancestor
//! directory, the controllers its cgroup.subtree_control is known to have.
//! A long-lived driver (the agent's) creates many cgroups under the same
//! parents; re-reading those files on every create is most of the work
//! that is not the new directory itself.
//!
//! The knowledge can go stale only if someone else disables a controller or
//! recreates a parent; the driver then forgets everything and retries once
//! (see `FsDriver::create_planned`), so errors still come from fresh reads.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Shared by clones of one driver.
#[derive(Debug, Default, Clone)]
pub(super) struct Known(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    offered: Option<BTreeSet<String>>,
    enabled: HashMap<PathBuf, BTreeSet<String>>,
    /// Whether an answer came from here since the last `forget`.
    used: bool,
}

impl Known {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The root's cgroup.controllers, if read before.
    pub fn offered(&self) -> Option<BTreeSet<String>> {
        let mut inner = self.inner();
        let offered = inner.offered.clone();
        inner.used |= offered.is_some();
        offered
    }

    pub fn set_offered(&self, offered: &BTreeSet<String>) {
        self.inner().offered = Some(offered.clone());
    }

    /// Whether `dir`'s subtree_control is known to have all of `wanted`.
    pub fn has_enabled(&self, dir: &Path, wanted: &BTreeSet<String>) -> bool {
        let mut inner = self.inner();
        let known = inner
            .enabled
            .get(dir)
            .is_some_and(|on| wanted.is_subset(on));
        inner.used |= known;
        known
    }

    /// Records that `dir`'s subtree_control has all of `on`.
    pub fn set_enabled(&self, dir: &Path, on: impl IntoIterator<Item = String>) {
        self.inner()
            .enabled
            .entry(dir.to_path_buf())
            .or_default()
            .extend(on);
    }

    /// Drops what is known of `dir` (just made: nothing is enabled in it).
    pub fn forget_dir(&self, dir: &Path) {
        self.inner().enabled.remove(dir);
    }

    /// Drops everything; returns whether any answer had come from here.
    pub fn forget(&self) -> bool {
        let mut inner = self.inner();
        let used = inner.used;
        *inner = Inner::default();
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> BTreeSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn known_answers_only_what_was_recorded_and_forgets() {
        let k = Known::default();
        let dir = Path::new("/sys/fs/cgroup/a");
        assert!(!k.has_enabled(dir, &set(&["cpu"])));
        assert_eq!(k.offered(), None);
        k.set_enabled(dir, set(&["cpu", "memory"]));
        k.set_offered(&set(&["cpu", "memory", "io"]));
        assert!(k.has_enabled(dir, &set(&["memory"])));
        assert!(k.has_enabled(dir, &set(&[])));
        assert!(!k.has_enabled(dir, &set(&["memory", "io"])));
        assert!(!k.has_enabled(Path::new("/sys/fs/cgroup"), &set(&["cpu"])));
        assert_eq!(k.offered(), Some(set(&["cpu", "memory", "io"])));
        k.forget_dir(dir);
        assert!(!k.has_enabled(dir, &set(&["cpu"])));
        assert!(k.forget(), "answers were given");
        assert_eq!(k.offered(), None);
        assert!(!k.forget(), "nothing answered since");
    }
}
