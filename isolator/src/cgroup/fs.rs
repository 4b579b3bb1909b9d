//! [`FsDriver`]: the [`CgroupDriver`] on the cgroup v2 filesystem, under a
//! configurable root (default `/sys/fs/cgroup`; the agent's delegated
//! subtree in production, a scratch directory in tests).
//!
//! `create` computes the [`Plan`] first (a bad resource fails before
//! anything changes), then walks down from the root: at each level it enables
//! the needed controllers in cgroup.subtree_control and makes the next
//! directory, then applies the plan to the new leaf. On failure it removes
//! the directories it made, deepest first; controllers it enabled in
//! ancestors that existed before stay enabled (siblings may rely on them).
//! The root's controllers and what is enabled in the ancestors are read
//! once per driver and remembered ([`super::known`]).

use super::driver::CgroupDriver;
use super::error::{CgroupError, dir_hint};
use super::files;
use super::handle::Cgroup;
use super::known::Known;
use super::plan::{self, Plan};
use super::tree;
use oci_spec::runtime::LinuxResources;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The conventional mount point of the cgroup v2 hierarchy.
pub const DEFAULT_ROOT: &str = "/sys/fs/cgroup";

/// Controllers every new cgroup gets when its root offers them: so its
/// accounting files (memory.current, io.stat, pids.current, throttling in
/// cpu.stat) exist even without limits, and a live `apply` of any typed OCI
/// field finds its controller enabled. rdma and misc are enabled on demand.
pub const DEFAULT_CONTROLLERS: [&str; 6] = ["cpu", "cpuset", "hugetlb", "io", "memory", "pids"];

/// Cgroups as directories under `root`.
#[derive(Debug, Clone)]
pub struct FsDriver {
    root: PathBuf,
    default_controllers: Vec<String>,
    known: Known,
}

impl Default for FsDriver {
    fn default() -> FsDriver {
        FsDriver::with_root(DEFAULT_ROOT)
    }
}

impl FsDriver {
    /// A driver rooted at `/sys/fs/cgroup`.
    pub fn new() -> FsDriver {
        FsDriver::default()
    }

    /// A driver rooted at `root`, a cgroup v2 directory whose
    /// cgroup.controllers offers what the cgroups below will need.
    pub fn with_root(root: impl Into<PathBuf>) -> FsDriver {
        FsDriver {
            root: root.into(),
            default_controllers: DEFAULT_CONTROLLERS.map(String::from).to_vec(),
            known: Known::default(),
        }
    }

    /// Replaces [`DEFAULT_CONTROLLERS`], the controllers enabled for every new
    /// cgroup when the root offers them (those a plan needs are added anyway).
    pub fn with_default_controllers<S: Into<String>>(
        mut self,
        controllers: impl IntoIterator<Item = S>,
    ) -> FsDriver {
        self.default_controllers = controllers.into_iter().map(Into::into).collect();
        self
    }

    /// The driver's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates `path` and applies an already computed `plan` (see
    /// [`CgroupDriver::create`]).
    /// What it has read or enabled above its cgroups before is trusted;
    /// if the create fails with that knowledge, it is forgotten and the
    /// create tried once more from fresh reads.
    pub fn create_planned(&self, path: &Path, plan: &Plan) -> Result<Cgroup, CgroupError> {
        let relative = relative(path, false)?;
        match self.create_relative(&relative, plan) {
            Err(_) if self.known.forget() => self.create_relative(&relative, plan),
            result => result,
        }
    }

    fn create_relative(&self, relative: &Path, plan: &Plan) -> Result<Cgroup, CgroupError> {
        let root_controllers = self.root_controllers()?;
        let target = self.root.join(relative);
        if target.exists() {
            return Err(CgroupError::AlreadyExists { path: target });
        }
        let wanted = self.wanted(plan, &root_controllers)?;
        let mut created = Vec::new();
        let result = self.build(relative, &wanted, plan, &mut created);
        if result.is_err() {
            for dir in created.iter().rev() {
                // Best effort: a failure here would hide the cause, which
                // matters more; an ancestor another create just filled with
                // a child is rightly kept (EBUSY).
                let _ = tree::rmdir(dir);
            }
        }
        result
    }

    /// The root's cgroup.controllers, or [`CgroupError::NotCgroup2`].
    fn root_controllers(&self) -> Result<BTreeSet<String>, CgroupError> {
        if let Some(offered) = self.known.offered() {
            return Ok(offered);
        }
        match files::read_raw(&self.root, "cgroup.controllers") {
            Ok(text) => {
                let offered = text.split_whitespace().map(str::to_string).collect();
                self.known.set_offered(&offered);
                Ok(offered)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(CgroupError::NotCgroup2 {
                root: self.root.clone(),
            }),
            Err(e) => Err(files::read_error(&self.root, "cgroup.controllers", e)),
        }
    }

    /// The plan's controllers (each must be offered) plus the defaults the
    /// root offers.
    fn wanted(
        &self,
        plan: &Plan,
        offered: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, CgroupError> {
        let mut wanted = plan.controllers();
        if let Some(missing) = wanted.iter().find(|c| !offered.contains(*c)) {
            return Err(CgroupError::ControllerUnavailable {
                cgroup: self.root.clone(),
                controller: missing.clone(),
                available: offered.iter().cloned().collect::<Vec<_>>().join(" "),
            });
        }
        let defaults = self
            .default_controllers
            .iter()
            .filter(|c| offered.contains(*c));
        wanted.extend(defaults.cloned());
        Ok(wanted)
    }

    /// Walks down from the root enabling `wanted` and making directories;
    /// records each directory it made in `created`.
    fn build(
        &self,
        relative: &Path,
        wanted: &BTreeSet<String>,
        plan: &Plan,
        created: &mut Vec<PathBuf>,
    ) -> Result<Cgroup, CgroupError> {
        let mut dir = self.root.clone();
        let names: Vec<Component> = relative.components().collect();
        for (i, name) in names.iter().enumerate() {
            if !self.known.has_enabled(&dir, wanted) {
                enable(&dir, wanted)?;
                self.known.set_enabled(&dir, wanted.iter().cloned());
            }
            dir.push(name);
            let last = i + 1 == names.len();
            match fs::create_dir(&dir) {
                Ok(()) => {
                    self.known.forget_dir(&dir);
                    created.push(dir.clone());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && !last => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(CgroupError::AlreadyExists { path: dir });
                }
                Err(source) => {
                    return Err(CgroupError::Dir {
                        op: "mkdir",
                        path: dir,
                        hint: dir_hint(&source),
                        source,
                    });
                }
            }
        }
        // Its cgroup.controllers is its parent's subtree_control, which has
        // every controller the plan needs: no need to read it back.
        let cgroup = Cgroup::at(dir);
        cgroup.apply_plan_unchecked(plan)?;
        Ok(cgroup)
    }
}

impl CgroupDriver for FsDriver {
    fn create(
        &self,
        path: &Path,
        resources: Option<&LinuxResources>,
    ) -> Result<Cgroup, CgroupError> {
        let plan = match resources {
            Some(r) => plan::plan(r)?,
            None => Plan::default(),
        };
        self.create_planned(path, &plan)
    }

    /// Opens `path` under the root; an empty path (or `/`) is the root itself.
    fn open(&self, path: &Path) -> Result<Cgroup, CgroupError> {
        let dir = self.root.join(relative(path, true)?);
        if !dir.join("cgroup.controllers").exists() {
            return Err(CgroupError::NotFound { path: dir });
        }
        Ok(Cgroup::at(dir))
    }

    fn locate(&self, path: &Path) -> Result<PathBuf, CgroupError> {
        Ok(self.root.join(relative(path, true)?))
    }
}

/// Enables every controller of `wanted` not yet in `dir`'s subtree_control,
/// one write per controller so an error names it.
fn enable(dir: &Path, wanted: &BTreeSet<String>) -> Result<(), CgroupError> {
    let on = files::words(dir, "cgroup.subtree_control")?;
    let missing: Vec<&String> = wanted.iter().filter(|c| !on.contains(*c)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let offered = files::words(dir, "cgroup.controllers")?;
    for c in missing {
        if !offered.contains(c) {
            return Err(CgroupError::ControllerUnavailable {
                cgroup: dir.to_path_buf(),
                controller: c.clone(),
                available: offered.join(" "),
            });
        }
        files::write(dir, "cgroup.subtree_control", &format!("+{c}"))?;
    }
    Ok(())
}

/// `path` as plain names relative to the root. A leading `/` is allowed (an
/// OCI `cgroupsPath` is relative to the cgroup root either way); `.`, `..`
/// and names with a newline are not. Empty is allowed only if `allow_empty`.
fn relative(path: &Path, allow_empty: bool) -> Result<PathBuf, CgroupError> {
    let bad = |reason| CgroupError::InvalidPath {
        path: path.to_path_buf(),
        reason,
    };
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(name) if name.as_encoded_bytes().contains(&b'\n') => {
                return Err(bad("a name contains a newline"));
            }
            Component::Normal(name) => out.push(name),
            Component::CurDir | Component::ParentDir => {
                return Err(bad("'.' and '..' are not allowed"));
            }
            Component::Prefix(_) => return Err(bad("not a Unix path")),
        }
    }
    if out.as_os_str().is_empty() && !allow_empty {
        return Err(bad(
            "it is empty: the driver's root itself cannot be created",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative(Path::new("a/b"), false).unwrap(), Path::new("a/b"));
        assert_eq!(
            relative(Path::new("/a/b/"), false).unwrap(),
            Path::new("a/b")
        );
        assert_eq!(relative(Path::new("/"), true).unwrap(), Path::new(""));
        for bad in ["a/../b", "./a", "", "/"] {
            let err = relative(Path::new(bad), false).unwrap_err();
            assert!(
                matches!(err, CgroupError::InvalidPath { .. }),
                "{bad}: {err}"
            );
        }
        assert!(relative(Path::new("a\nb"), false).is_err());
    }

    #[test]
    fn a_root_without_cgroup_controllers_is_not_cgroup2() {
        let d = FsDriver::with_root("/nonexistent-corral-root");
        let err = d.create(Path::new("x"), None).unwrap_err();
        assert!(matches!(err, CgroupError::NotCgroup2 { .. }), "{err}");
        let err = d.open(Path::new("x")).unwrap_err();
        assert!(matches!(err, CgroupError::NotFound { .. }), "{err}");
    }

    #[test]
    fn invalid_resources_fail_before_anything_is_touched() {
        use oci_spec::runtime::{LinuxMemoryBuilder, LinuxResourcesBuilder};
        let r = LinuxResourcesBuilder::default()
            .memory(LinuxMemoryBuilder::default().swap(5).build().unwrap())
            .build()
            .unwrap();
        let d = FsDriver::with_root("/nonexistent-corral-root");
        let err = d.create(Path::new("x"), Some(&r)).unwrap_err();
        assert!(matches!(err, CgroupError::InvalidResource { .. }), "{err}");
    }
}
