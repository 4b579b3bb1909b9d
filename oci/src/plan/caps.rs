//! Capabilities: OCI capability names to kernel numbers, and the five sets
//! as bitmasks.

use oci_spec::runtime::{Capabilities, LinuxCapabilities};

/// Kernel capability names, indexed by number (linux/capability.h).
pub const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The five capability sets as bitmasks (bit N = capability N).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

/// The number of a capability given as oci-spec shows it (`SYS_ADMIN` or
/// `CAP_SYS_ADMIN`).
pub fn number(name: &str) -> Option<u32> {
    let name = name.strip_prefix("CAP_").unwrap_or(name);
    NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

fn mask(set: &Option<Capabilities>) -> u64 {
    set.iter()
        .flatten()
        .filter_map(|c| number(&c.to_string()))
        .fold(0, |m, n| m | 1 << n)
}

/// Converts the spec's capability sets; capabilities above `last_cap` (what
/// this kernel knows) are dropped, as runc does.
pub fn plan(caps: &LinuxCapabilities, last_cap: u32) -> CapSets {
    let known = if last_cap >= 63 {
        u64::MAX
    } else {
        (1u64 << (last_cap + 1)) - 1
    };
    CapSets {
        bounding: mask(caps.bounding()) & known,
        effective: mask(caps.effective()) & known,
        permitted: mask(caps.permitted()) & known,
        inheritable: mask(caps.inheritable()) & known,
        ambient: mask(caps.ambient()) & known,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_kernel_numbers() {
        assert_eq!(number("CAP_CHOWN"), Some(0));
        assert_eq!(number("SYS_ADMIN"), Some(21));
        assert_eq!(number("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(number("CAP_NOPE"), None);
    }

    #[test]
    fn sets_become_masks_limited_to_the_kernel() {
        let caps: LinuxCapabilities = serde_json::from_str(
            r#"{"bounding":["CAP_KILL","CAP_BPF"],"effective":["CAP_KILL"],"ambient":[]}"#,
        )
        .unwrap();
        let s = plan(&caps, 40);
        assert_eq!(s.bounding, 1 << 5 | 1 << 39);
        assert_eq!(s.effective, 1 << 5);
        assert_eq!(s.permitted, 0);
        assert_eq!(plan(&caps, 38).bounding, 1 << 5);
    }
}
