//! `namespaces/ipc`: new IPC and UTS namespaces (SysV IPC and POSIX
//! message queues private to the task, its own hostname).

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};
use serde_json::json;

/// The isolator.
#[derive(Debug)]
pub struct Ipc;

impl Isolator for Ipc {
    fn name(&self) -> &'static str {
        "namespaces/ipc"
    }

    fn prepare(&self, _: &Launch, _: &Settings) -> Result<SpecPatch, IsolatorError> {
        Ok(SpecPatch::default()
            .append("/linux/namespaces", json!({"type": "ipc"}))
            .append("/linux/namespaces", json!({"type": "uts"})))
    }
}
