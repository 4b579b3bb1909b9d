//! `linux/capabilities`: the default capability set of OCI runtimes (no
//! CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE, ...) in every set but
//! ambient, and no_new_privs so no exec can gain more.

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};
use serde_json::json;

/// The capabilities a task keeps (runc's and Docker's default list).
pub const DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The isolator.
#[derive(Debug)]
pub struct Capabilities;

impl Isolator for Capabilities {
    fn name(&self) -> &'static str {
        "linux/capabilities"
    }

    fn prepare(&self, _: &Launch, _: &Settings) -> Result<SpecPatch, IsolatorError> {
        let caps = json!(DEFAULT_CAPS);
        Ok(SpecPatch::default()
            .set(
                "/process/capabilities",
                json!({"bounding": caps, "effective": caps, "permitted": caps, "inheritable": []}),
            )
            .set("/process/noNewPrivileges", true))
    }
}
