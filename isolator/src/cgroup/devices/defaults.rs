//! The device rules every container gets from the runtime, whatever its
//! spec says: runc's `AllowedDevices` (libcontainer/specconv) plus crun's
//! `/dev/console`.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

/// `(type, major, minor, access)` of each default rule; `None` = any.
const DEFAULTS: [(LinuxDeviceType, Option<i64>, Option<i64>, &str); 12] = [
    // mknod of any device: creating a node is harmless while opening it is
    // still checked (runc and crun allow it so images can carry nodes).
    (LinuxDeviceType::C, None, None, "m"),
    (LinuxDeviceType::B, None, None, "m"),
    (LinuxDeviceType::C, Some(1), Some(3), "rwm"), // /dev/null
    (LinuxDeviceType::C, Some(1), Some(8), "rwm"), // /dev/random
    (LinuxDeviceType::C, Some(1), Some(7), "rwm"), // /dev/full
    (LinuxDeviceType::C, Some(5), Some(0), "rwm"), // /dev/tty
    (LinuxDeviceType::C, Some(1), Some(5), "rwm"), // /dev/zero
    (LinuxDeviceType::C, Some(1), Some(9), "rwm"), // /dev/urandom
    (LinuxDeviceType::C, Some(5), Some(1), "rwm"), // /dev/console (crun; runc relies on 136:*)
    (LinuxDeviceType::C, Some(136), None, "rwm"),  // /dev/pts/*
    (LinuxDeviceType::C, Some(5), Some(2), "rwm"), // /dev/ptmx
    // /dev/net/tun: runc dropped it in 1.2.0-rc1 and restored it for
    // compatibility; using it needs CAP_NET_ADMIN in the container anyway.
    (LinuxDeviceType::C, Some(10), Some(200), "rwm"),
];

/// The rules every container is allowed whatever its spec says (runc's and
/// crun's defaults): mknod of any char or block device; read, write and
/// mknod of /dev/null, zero, full, random, urandom, tty, console, ptmx,
/// /dev/pts/* and /dev/net/tun.
///
/// Since the last matching rule wins, these go *after* the spec's rules
/// (as runc and crun do): use [`container_rules`].
pub fn default_allowed() -> Vec<LinuxDeviceCgroup> {
    DEFAULTS
        .iter()
        .map(|&(typ, major, minor, access)| {
            let mut rule = LinuxDeviceCgroup::default();
            rule.set_allow(true);
            rule.set_typ(Some(typ));
            rule.set_major(major);
            rule.set_minor(minor);
            rule.set_access(Some(access.to_string()));
            rule
        })
        .collect()
}

/// A container's whole rule list: its spec's `linux.resources.devices`
/// followed by [`default_allowed`], so a spec's `deny a *:* rwm` cannot take
/// /dev/null away, while anything else it does not allow stays denied.
/// Devices listed in the spec's `linux.devices` need their own allow rules
/// in `linux.resources.devices` (as with runc).
pub fn container_rules(spec: &[LinuxDeviceCgroup]) -> Vec<LinuxDeviceCgroup> {
    let mut rules = spec.to_vec();
    rules.extend(default_allowed());
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_defaults_are_runcs_allowed_devices_plus_console() {
        let text: Vec<String> = default_allowed().iter().map(|r| r.to_string()).collect();
        assert_eq!(
            text,
            [
                "c *:* m",
                "b *:* m",
                "c 1:3 rwm",
                "c 1:8 rwm",
                "c 1:7 rwm",
                "c 5:0 rwm",
                "c 1:5 rwm",
                "c 1:9 rwm",
                "c 5:1 rwm",
                "c 136:* rwm",
                "c 5:2 rwm",
                "c 10:200 rwm",
            ]
        );
        assert!(default_allowed().iter().all(|r| r.allow()));
    }

    #[test]
    fn devices_container_rules_put_the_defaults_last() {
        let mut deny = LinuxDeviceCgroup::default();
        deny.set_access(Some("rwm".into()));
        let rules = container_rules(std::slice::from_ref(&deny));
        assert_eq!(rules[0], deny);
        assert_eq!(rules[1..], default_allowed()[..]);
    }
}
