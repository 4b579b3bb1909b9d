//! The seam between corral and a cgroup v2 implementation: [`CgroupDriver`]
//! creates and opens cgroups; everything else is done on the [`Cgroup`] it
//! returns. [`super::FsDriver`] implements it on the cgroup filesystem; a
//! systemd driver (transient units with `Delegate=yes`) can implement it too.

use super::error::CgroupError;
use super::handle::Cgroup;
use oci_spec::runtime::LinuxResources;
use std::path::Path;

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
}
