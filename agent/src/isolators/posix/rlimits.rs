//! `posix/rlimits`: resource limits every task starts with: open files
//! (1024 soft, 65536 hard, never above the agent's own hard limit: raising
//! one needs CAP_SYS_RESOURCE, which a containerized agent may lack) and no
//! core dumps into the sandbox.

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};
use serde_json::json;

/// Open files a task starts with.
pub const NOFILE_SOFT: u64 = 1024;
/// The most open files a task may raise itself to.
pub const NOFILE_HARD: u64 = 65536;

/// The isolator.
#[derive(Debug)]
pub struct Rlimits;

impl Isolator for Rlimits {
    fn name(&self) -> &'static str {
        "posix/rlimits"
    }

    fn prepare(&self, _: &Launch, s: &Settings) -> Result<SpecPatch, IsolatorError> {
        let hard = NOFILE_HARD.min(s.nofile_hard);
        let soft = NOFILE_SOFT.min(hard);
        Ok(SpecPatch::default()
            .append(
                "/process/rlimits",
                json!({"type": "RLIMIT_NOFILE", "soft": soft, "hard": hard}),
            )
            .append(
                "/process/rlimits",
                json!({"type": "RLIMIT_CORE", "soft": 0, "hard": 0}),
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolators::tests_support::{launch, settings};

    #[test]
    fn open_files_never_above_the_agents_own_hard_limit() {
        let mut s = settings();
        let mut spec = json!({});
        let p = Rlimits.prepare(&launch(1.0, 64.0), &s).unwrap();
        crate::isolators::patch::merge(&mut spec, &[("r".into(), p)]).unwrap();
        assert_eq!(
            spec["process"]["rlimits"][0],
            json!({"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 65536})
        );
        s.nofile_hard = 800;
        let mut spec = json!({});
        let p = Rlimits.prepare(&launch(1.0, 64.0), &s).unwrap();
        crate::isolators::patch::merge(&mut spec, &[("r".into(), p)]).unwrap();
        assert_eq!(
            spec["process"]["rlimits"][0],
            json!({"type": "RLIMIT_NOFILE", "soft": 800, "hard": 800})
        );
    }
}
