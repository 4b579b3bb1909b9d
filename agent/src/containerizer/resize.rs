//! Live limits of a running container (a custom executor's, as tasks join
//! and finish): the cpu and memory isolators' patches for the new totals,
//! applied through the OCI runtime's `update`. Memory is never lowered
//! below what the container uses now (that would OOM-kill it); such a
//! shrink keeps the current limit until the next change.

use super::{Containerizer, ContainerizerError};
use crate::isolators::{Launch, merge_patches};
use crate::paths::ContainerId;

const MIB: f64 = 1024.0 * 1024.0;

/// The memory limit to set: `wanted` MiB, unless that is below `current`
/// usage (bytes), when the limit in force (`in_force`, MiB) stays.
pub(crate) fn memory_target(wanted: f64, current: Option<u64>, in_force: Option<f64>) -> f64 {
    match (current, in_force) {
        (Some(used), Some(limit)) if wanted * MIB < used as f64 => limit.max(wanted),
        _ => wanted,
    }
}

impl Containerizer {
    /// Sets the container's cpu and memory limits to `cpus` and `mem_mib`
    /// (blocking).
    pub fn resize(
        &self,
        id: &ContainerId,
        cpus: f64,
        mem_mib: f64,
    ) -> Result<(), ContainerizerError> {
        let cgroup = self.cgroup_dir(id);
        let read = |f: &str| {
            std::fs::read_to_string(cgroup.join(f))
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let in_force = read("memory.max").map(|b| b as f64 / MIB);
        let launch = Launch {
            cpus,
            mem_mib: memory_target(mem_mib, read("memory.current"), in_force),
            io_bps: (None, None),
            sandbox: self.paths.sandbox(id),
            image: None,
            volumes: Vec::new(),
        };
        let mut patches = Vec::new();
        for i in &self.isolators {
            if matches!(i.name(), "cgroups/cpu" | "cgroups/memory") {
                patches.push((i.name().to_string(), i.prepare(&launch, &self.settings)?));
            }
        }
        let mut spec = serde_json::json!({});
        merge_patches(&mut spec, &patches)?;
        let resources = spec
            .pointer("/linux/resources")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}));
        let resources: oci_spec::runtime::LinuxResources = serde_json::from_value(resources)
            .map_err(|e| ContainerizerError::Task(format!("the new limits do not parse: {e}")))?;
        Ok(self.runtime.update(&Self::oci_id(id), &resources)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_not_cut_below_usage() {
        // Growing, or shrinking above usage: the wanted limit.
        assert_eq!(memory_target(256.0, Some(10 << 20), Some(128.0)), 256.0);
        assert_eq!(memory_target(64.0, Some(10 << 20), Some(128.0)), 64.0);
        // Shrinking below usage: the limit in force stays.
        assert_eq!(memory_target(64.0, Some(100 << 20), Some(128.0)), 128.0);
        // Nothing known: the wanted limit.
        assert_eq!(memory_target(64.0, None, None), 64.0);
    }
}
