//! `posix/rlimits`: resource limits every task starts with: open files
//! (1024 soft, 65536 hard) and no core dumps into the sandbox.

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};
use serde_json::json;

/// The isolator.
#[derive(Debug)]
pub struct Rlimits;

impl Isolator for Rlimits {
    fn name(&self) -> &'static str {
        "posix/rlimits"
    }

    fn prepare(&self, _: &Launch, _: &Settings) -> Result<SpecPatch, IsolatorError> {
        Ok(SpecPatch::default()
            .append(
                "/process/rlimits",
                json!({"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 65536}),
            )
            .append(
                "/process/rlimits",
                json!({"type": "RLIMIT_CORE", "soft": 0, "hard": 0}),
            ))
    }
}
