//! The seam between corral and a cgroup v2 implementation: [`CgroupDriver`]
//! creates and opens cgroups; everything else is done on the [`Cgroup`] it
//! returns. [`super::FsDriver`] implements it on the cgroup filesystem; the
//! systemd driver of `corral-systemd` (transient scopes with `Delegate=yes`)
//! implements it over systemd's manager. Live updates and removal go through
//! the driver too, since a manager must hear of them; stats, events, freeze
//! and kill are done on the [`Cgroup`]'s files whatever the driver.

use super::error::CgroupError;
use super::handle::Cgroup;
use oci_spec::runtime::LinuxResources;
use std::path::{Path, PathBuf};

/// Creates and opens cgroups under one root.
pub trait CgroupDriver: Send + Sync + std::fmt::Debug {
    /// Creates `path` (relative to the driver's root; missing ancestors too),
    /// enabling in every ancestor's cgroup.subtree_control the controllers
    /// needed, then applies `resources`.
    /// Fails if the cgroup already exists. On any failure nothing it created
    /// is left behind.
    fn create(
        &self,
        path: &Path,
        resources: Option<&LinuxResources>,
    ) -> Result<Cgroup, CgroupError>;

    /// Opens an existing cgroup.
    fn open(&self, path: &Path) -> Result<Cgroup, CgroupError>;

    /// The absolute directory `path` names (it need not exist).
    fn locate(&self, path: &Path) -> Result<PathBuf, CgroupError>;

    /// Applies `resources` to a live cgroup of this driver.
    fn update(&self, cgroup: &Cgroup, resources: &LinuxResources) -> Result<(), CgroupError> {
        cgroup.apply(resources)
    }

    /// Kills what is left in a cgroup of this driver and removes it; a
    /// cgroup already gone is not an error.
    fn remove(&self, cgroup: Cgroup) -> Result<(), CgroupError> {
        cgroup.destroy()
    }
}
