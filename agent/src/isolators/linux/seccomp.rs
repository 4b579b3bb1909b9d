//! `linux/seccomp`: corral's default seccomp profile (an allow-list; see
//! `oci/src/seccomp/default.rs` for what it refuses and why).

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};

/// The isolator.
#[derive(Debug)]
pub struct Seccomp;

impl Isolator for Seccomp {
    fn name(&self) -> &'static str {
        "linux/seccomp"
    }

    fn prepare(&self, _: &Launch, _: &Settings) -> Result<SpecPatch, IsolatorError> {
        let profile = corral_oci::seccomp::default_profile();
        let value = serde_json::to_value(&profile).map_err(|e| IsolatorError::Refused {
            isolator: self.name(),
            message: format!("the default profile does not serialize: {e}"),
        })?;
        Ok(SpecPatch::default().set("/linux/seccomp", value))
    }
}
