//! `cgroups/memory`: `mem` → memory.max, no swap (OCI's memory+swap equal
//! to the limit), and memory.oom.group so an OOM kills the whole container
//! at once and the agent reports REASON_CONTAINER_LIMITATION_MEMORY.

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};

/// Mesos' smallest container (32 MiB).
pub const MIN_MEM_MIB: f64 = 32.0;

/// The isolator.
#[derive(Debug)]
pub struct Memory;

impl Isolator for Memory {
    fn name(&self) -> &'static str {
        "cgroups/memory"
    }

    fn controllers(&self) -> &'static [&'static str] {
        &["memory"]
    }

    fn prepare(&self, l: &Launch, _: &Settings) -> Result<SpecPatch, IsolatorError> {
        if !(l.mem_mib >= MIN_MEM_MIB && l.mem_mib.is_finite()) {
            return Err(IsolatorError::Refused {
                isolator: self.name(),
                message: format!(
                    "the task asks for {} MiB of mem; the least a container gets is {MIN_MEM_MIB} MiB",
                    l.mem_mib
                ),
            });
        }
        let bytes = (l.mem_mib * 1024.0 * 1024.0) as u64;
        Ok(SpecPatch::default()
            .set("/linux/resources/memory/limit", bytes)
            .set("/linux/resources/memory/swap", bytes)
            .set("/linux/resources/unified/memory.oom.group", "1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolators::tests_support::{launch, settings};

    #[test]
    fn limit_without_swap_and_group_oom() {
        let p = Memory.prepare(&launch(1.0, 64.0), &settings()).unwrap();
        let mut spec = serde_json::json!({});
        crate::isolators::patch::merge(&mut spec, &[("m".into(), p)]).unwrap();
        let m = &spec["linux"]["resources"]["memory"];
        assert_eq!(m["limit"], 64 << 20);
        assert_eq!(m["swap"], 64 << 20);
        assert_eq!(
            spec["linux"]["resources"]["unified"]["memory.oom.group"],
            "1"
        );
        let e = Memory.prepare(&launch(1.0, 8.0), &settings()).unwrap_err();
        assert!(e.to_string().contains("8 MiB"), "{e}");
    }
}
