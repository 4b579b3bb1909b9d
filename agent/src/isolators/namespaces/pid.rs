//! `namespaces/pid`: a new pid namespace; the command executor is its
//! init, so the kernel ends every process of the task when it exits.

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};
use serde_json::json;

/// The isolator.
#[derive(Debug)]
pub struct Pid;

impl Isolator for Pid {
    fn name(&self) -> &'static str {
        "namespaces/pid"
    }

    fn prepare(&self, _: &Launch, _: &Settings) -> Result<SpecPatch, IsolatorError> {
        Ok(SpecPatch::default().append("/linux/namespaces", json!({"type": "pid"})))
    }
}
