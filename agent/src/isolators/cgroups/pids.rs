//! `cgroups/pids`: every container gets pids.max (`--default-pids-max`),
//! so a fork bomb stops at its own limit.

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};

/// The isolator.
#[derive(Debug)]
pub struct Pids;

impl Isolator for Pids {
    fn name(&self) -> &'static str {
        "cgroups/pids"
    }

    fn controllers(&self) -> &'static [&'static str] {
        &["pids"]
    }

    fn prepare(&self, _: &Launch, s: &Settings) -> Result<SpecPatch, IsolatorError> {
        Ok(SpecPatch::default().set("/linux/resources/pids/limit", s.pids_max))
    }
}
