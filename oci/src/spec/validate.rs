//! Validation of a parsed spec against what the runtime can do: every problem
//! is reported with the JSON path of the field and what to change, before any
//! side effect. Features corral does not implement are refused here, never
//! silently ignored.

use super::SpecError;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::collections::HashSet;
use std::path::Path;

/// Checks `spec` (loaded from `file` in bundle `dir`).
pub fn validate(file: &Path, dir: &Path, spec: &Spec) -> Result<(), SpecError> {
    let bad = |field: &str, problem: String| SpecError::Invalid {
        file: file.to_path_buf(),
        field: field.to_string(),
        problem,
    };
    let major = spec.version().split('.').next().unwrap_or("");
    if major != "1" {
        return Err(bad(
            "ociVersion",
            format!("{:?} is not a 1.x OCI runtime spec version", spec.version()),
        ));
    }
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| bad("root", "missing: the bundle needs a root filesystem".into()))?;
    let rootfs = if root.path().is_absolute() {
        root.path().clone()
    } else {
        dir.join(root.path())
    };
    if !rootfs.is_dir() {
        return Err(bad(
            "root.path",
            format!("{} is not a directory", rootfs.display()),
        ));
    }
    validate_process(spec, &bad)?;
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        if !m.destination().is_absolute() {
            return Err(bad(
                &format!("mounts[{i}].destination"),
                format!("{} is not an absolute path", m.destination().display()),
            ));
        }
    }
    validate_linux(spec, &bad)?;
    validate_hooks(spec, &bad)
}

type Bad<'a> = dyn Fn(&str, String) -> SpecError + 'a;

fn validate_process(spec: &Spec, bad: &Bad) -> Result<(), SpecError> {
    let Some(process) = spec.process() else {
        return Err(bad(
            "process",
            "missing: a container needs a process to run".into(),
        ));
    };
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(bad("process.args", "empty: name the program to run".into()));
    }
    if !process.cwd().is_absolute() {
        return Err(bad(
            "process.cwd",
            format!("{} is not an absolute path", process.cwd().display()),
        ));
    }
    if process
        .apparmor_profile()
        .as_ref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(bad(
            "process.apparmorProfile",
            "AppArmor is not supported by corral: remove the profile".into(),
        ));
    }
    if process
        .selinux_label()
        .as_ref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(bad(
            "process.selinuxLabel",
            "SELinux labels are not supported by corral: remove the label".into(),
        ));
    }
    let mut seen = HashSet::new();
    for (i, r) in process.rlimits().iter().flatten().enumerate() {
        if !seen.insert(format!("{:?}", r.typ())) {
            return Err(bad(
                &format!("process.rlimits[{i}].type"),
                format!("{:?} is set twice", r.typ()),
            ));
        }
        if r.soft() > r.hard() {
            return Err(bad(
                &format!("process.rlimits[{i}]"),
                format!("soft limit {} is above hard limit {}", r.soft(), r.hard()),
            ));
        }
    }
    Ok(())
}

fn validate_linux(spec: &Spec, bad: &Bad) -> Result<(), SpecError> {
    let Some(linux) = spec.linux() else {
        return Ok(());
    };
    let mut types = HashSet::new();
    let mut new = HashSet::new();
    for (i, ns) in linux.namespaces().iter().flatten().enumerate() {
        if !types.insert(ns.typ()) {
            return Err(bad(
                &format!("linux.namespaces[{i}].type"),
                format!("namespace {} is listed twice", ns.typ()),
            ));
        }
        match ns.path() {
            Some(p) if !p.is_absolute() => {
                return Err(bad(
                    &format!("linux.namespaces[{i}].path"),
                    format!("{} is not an absolute path", p.display()),
                ));
            }
            Some(_) => {}
            None => {
                new.insert(ns.typ());
            }
        }
    }
    let has_user = types.contains(&LinuxNamespaceType::User);
    let has_maps = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
        || linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
    if new.contains(&LinuxNamespaceType::User)
        && (linux.uid_mappings().as_ref().is_none_or(|m| m.is_empty())
            || linux.gid_mappings().as_ref().is_none_or(|m| m.is_empty()))
    {
        return Err(bad(
            "linux.uidMappings",
            "a new user namespace needs both uidMappings and gidMappings".into(),
        ));
    }
    if has_maps && !has_user {
        return Err(bad(
            "linux.uidMappings",
            "id mappings are set but there is no user namespace".into(),
        ));
    }
    if spec.hostname().as_ref().is_some_and(|h| !h.is_empty())
        && !new.contains(&LinuxNamespaceType::Uts)
        && !types.contains(&LinuxNamespaceType::Uts)
    {
        return Err(bad(
            "hostname",
            "setting a hostname needs a uts namespace in linux.namespaces".into(),
        ));
    }
    for key in linux.sysctl().iter().flat_map(|s| s.keys()) {
        validate_sysctl(key, &types, bad)?;
    }
    validate_time_offsets(linux, new.contains(&LinuxNamespaceType::Time), bad)?;
    if linux.net_devices().as_ref().is_some_and(|d| !d.is_empty())
        && !types.contains(&LinuxNamespaceType::Network)
    {
        return Err(bad(
            "linux.netDevices",
            "moving devices needs a network namespace that is not the host's: \
             add {\"type\": \"network\"} to linux.namespaces"
                .into(),
        ));
    }
    for (field, set) in [
        ("linux.intelRdt", linux.intel_rdt().is_some()),
        (
            "linux.mountLabel",
            linux.mount_label().as_ref().is_some_and(|l| !l.is_empty()) && selinux_enabled(),
        ),
    ] {
        if set {
            return Err(bad(field, "not supported by corral yet: remove it".into()));
        }
    }
    Ok(())
}

/// linux.timeOffsets: only for a time namespace the container creates (a
/// joined one has its offsets already), monotonic and boottime clocks.
fn validate_time_offsets(
    linux: &oci_spec::runtime::Linux,
    new_time: bool,
    bad: &Bad,
) -> Result<(), SpecError> {
    let Some(offsets) = linux.time_offsets() else {
        return Ok(());
    };
    if !offsets.is_empty() && !new_time {
        return Err(bad(
            "linux.timeOffsets",
            "offsets need a new time namespace: add {\"type\": \"time\"} (without a path) to linux.namespaces".into(),
        ));
    }
    for (clock, o) in offsets {
        let field = format!("linux.timeOffsets.{clock}");
        if clock != "monotonic" && clock != "boottime" {
            return Err(bad(
                &field,
                "only the monotonic and boottime clocks have offsets".into(),
            ));
        }
        if o.nanosecs().is_some_and(|n| n >= 1_000_000_000) {
            return Err(bad(
                &format!("{field}.nanosecs"),
                "must be below 1000000000".into(),
            ));
        }
    }
    Ok(())
}

/// SELinux is enforcing or permissive on this host (selinuxfs is mounted).
pub fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// Warnings about what a valid spec asks that has no effect on this host.
pub fn warnings(spec: &Spec) -> Vec<String> {
    let label = spec
        .linux()
        .as_ref()
        .and_then(|l| l.mount_label().clone())
        .filter(|l| !l.is_empty());
    match label {
        Some(l) if !selinux_enabled() => vec![format!(
            "linux.mountLabel {l:?} has no effect: SELinux is not enabled on this host"
        )],
        _ => Vec::new(),
    }
}

fn validate_sysctl(
    key: &str,
    types: &HashSet<LinuxNamespaceType>,
    bad: &Bad,
) -> Result<(), SpecError> {
    let field = format!("linux.sysctl.{key}");
    if key.contains('/') || key.split('.').any(|p| p.is_empty() || p == "..") {
        return Err(bad(&field, "not a sysctl name".into()));
    }
    let ipc = key.starts_with("fs.mqueue.")
        || [
            "kernel.msgmax",
            "kernel.msgmnb",
            "kernel.msgmni",
            "kernel.sem",
        ]
        .contains(&key)
        || key.starts_with("kernel.shm");
    let needed = if ipc {
        LinuxNamespaceType::Ipc
    } else if key.starts_with("net.") {
        LinuxNamespaceType::Network
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        LinuxNamespaceType::Uts
    } else {
        return Err(bad(
            &field,
            "not a namespaced sysctl: it would change the host".into(),
        ));
    };
    if !types.contains(&needed) {
        return Err(bad(
            &field,
            format!("needs a {needed} namespace in linux.namespaces"),
        ));
    }
    Ok(())
}

fn validate_hooks(spec: &Spec, bad: &Bad) -> Result<(), SpecError> {
    let Some(hooks) = spec.hooks() else {
        return Ok(());
    };
    let lists = [
        ("prestart", hooks.prestart()),
        ("createRuntime", hooks.create_runtime()),
        ("createContainer", hooks.create_container()),
        ("startContainer", hooks.start_container()),
        ("poststart", hooks.poststart()),
        ("poststop", hooks.poststop()),
    ];
    for (name, list) in lists {
        for (i, hook) in list.iter().flatten().enumerate() {
            if !hook.path().is_absolute() {
                return Err(bad(
                    &format!("hooks.{name}[{i}].path"),
                    format!("{} is not an absolute path", hook.path().display()),
                ));
            }
            if hook.timeout().is_some_and(|t| t <= 0) {
                return Err(bad(
                    &format!("hooks.{name}[{i}].timeout"),
                    "must be a positive number of seconds".into(),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Validates the default spec after `edit`; the error text, if any.
    fn check(edit: impl FnOnce(&mut serde_json::Value)) -> Result<(), String> {
        let mut v: serde_json::Value = serde_json::from_str(super::super::DEFAULT_SPEC).unwrap();
        edit(&mut v);
        let spec: Spec = serde_json::from_value(v).unwrap();
        let dir = std::env::temp_dir().join(format!("corral-validate-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        validate(&dir.join("config.json"), &dir, &spec).map_err(|e| e.to_string())
    }

    fn with_time_ns(v: &mut serde_json::Value) {
        let ns = v["linux"]["namespaces"].as_array_mut().unwrap();
        ns.push(serde_json::json!({"type": "time"}));
    }

    #[test]
    fn net_devices_need_a_network_namespace() {
        let devs = serde_json::json!({"dummy0": {"name": "eth7"}});
        check(|v| v["linux"]["netDevices"] = devs.clone()).unwrap();
        let e = check(|v| {
            v["linux"]["netDevices"] = devs.clone();
            let ns = v["linux"]["namespaces"].as_array_mut().unwrap();
            ns.retain(|n| n["type"] != "network");
        })
        .unwrap_err();
        assert!(
            e.contains("linux.netDevices: moving devices needs a network namespace"),
            "{e}"
        );
    }

    #[test]
    fn time_offsets_need_a_new_time_namespace_and_known_clocks() {
        let offsets = serde_json::json!({"monotonic": {"secs": 86400}});
        let e = check(|v| v["linux"]["timeOffsets"] = offsets.clone()).unwrap_err();
        assert!(
            e.contains("linux.timeOffsets: offsets need a new time namespace"),
            "{e}"
        );
        check(|v| {
            with_time_ns(v);
            v["linux"]["timeOffsets"] = offsets.clone();
        })
        .unwrap();
        let e = check(|v| {
            with_time_ns(v);
            v["linux"]["timeOffsets"] = serde_json::json!({"realtime": {"secs": 1}});
        })
        .unwrap_err();
        assert!(e.contains("linux.timeOffsets.realtime"), "{e}");
        let e = check(|v| {
            with_time_ns(v);
            v["linux"]["timeOffsets"] =
                serde_json::json!({"boottime": {"nanosecs": 1000000000u32}});
        })
        .unwrap_err();
        assert!(e.contains("linux.timeOffsets.boottime.nanosecs"), "{e}");
    }
}
