//! linux.netDevices: which host network devices move into the container's
//! network namespace and under what name. Pure: the names are checked as the
//! kernel would (IFNAMSIZ, no `/`, `:` or white space, not `.` or `..`), a
//! `%d` template only in the new name, and two devices may not ask for the
//! same fixed name.

use super::PlanError;
use oci_spec::runtime::LinuxNetDevice;
use std::collections::{BTreeMap, HashMap};

/// IFNAMSIZ of linux/if.h, the terminating NUL included.
pub const IFNAMSIZ: usize = 16;

/// One device to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDevice {
    /// Its name in the runtime's (host) network namespace.
    pub host: String,
    /// Its name inside the container: a fixed name, or a `%d` template the
    /// kernel fills with the first free number.
    pub name: String,
}

impl NetDevice {
    /// The new name is a template (`eth%d`).
    pub fn is_template(&self) -> bool {
        self.name.contains('%')
    }
}

/// Why `name` is not a network device name the kernel takes, if it is not.
fn name_problem(name: &str, template: bool) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.len() >= IFNAMSIZ {
        return Some(format!("{name:?} is longer than {} bytes", IFNAMSIZ - 1));
    }
    if name == "." || name == ".." {
        return Some(format!("{name:?} is not a device name"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| *c == '/' || *c == ':' || c.is_whitespace())
    {
        return Some(format!("{name:?} contains {c:?}"));
    }
    let percents = name.matches('%').count();
    if percents > 0 && (!template || percents > 1 || !name.contains("%d")) {
        return Some(match template {
            true => format!("{name:?}: a template holds one %d and no other %"),
            false => format!("{name:?} contains '%': a host device has a fixed name"),
        });
    }
    None
}

/// Plans linux.netDevices, sorted by host name (so errors and moves come in
/// a stable order).
pub fn plan(devices: &HashMap<String, LinuxNetDevice>) -> Result<Vec<NetDevice>, PlanError> {
    let sorted: BTreeMap<&String, &LinuxNetDevice> = devices.iter().collect();
    let mut out: Vec<NetDevice> = Vec::new();
    for (host, d) in sorted {
        if let Some(problem) = name_problem(host, false) {
            return Err(PlanError::Invalid {
                field: format!("linux.netDevices.{host}"),
                problem: format!("the host device name {problem}"),
            });
        }
        let name = d
            .name()
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| host.clone());
        if let Some(problem) = name_problem(&name, true) {
            return Err(PlanError::Invalid {
                field: format!("linux.netDevices.{host}.name"),
                problem,
            });
        }
        let dev = NetDevice {
            host: host.clone(),
            name,
        };
        if !dev.is_template()
            && let Some(other) = out.iter().find(|o| o.name == dev.name)
        {
            return Err(PlanError::Invalid {
                field: format!("linux.netDevices.{host}.name"),
                problem: format!(
                    "{:?} is also the name of {:?} in the container",
                    dev.name, other.host
                ),
            });
        }
        out.push(dev);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devs(json: &str) -> HashMap<String, LinuxNetDevice> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn devices_keep_or_change_their_name_in_host_order() {
        let p = plan(&devs(
            r#"{"eth1": {}, "dummy0": {"name": "eth7"}, "v0": {"name": ""}}"#,
        ))
        .unwrap();
        let pairs: Vec<(&str, &str)> = p
            .iter()
            .map(|d| (d.host.as_str(), d.name.as_str()))
            .collect();
        assert_eq!(pairs, [("dummy0", "eth7"), ("eth1", "eth1"), ("v0", "v0")]);
        assert!(!p[0].is_template());
    }

    #[test]
    fn templates_are_only_for_the_new_name_and_may_repeat() {
        let p = plan(&devs(r#"{"a": {"name": "net%d"}, "b": {"name": "net%d"}}"#)).unwrap();
        assert!(p.iter().all(NetDevice::is_template));
        let e = plan(&devs(r#"{"a%d": {}}"#)).unwrap_err().to_string();
        assert!(
            e.contains("linux.netDevices.a%d") && e.contains("fixed name"),
            "{e}"
        );
        let e = plan(&devs(r#"{"a": {"name": "x%s"}}"#))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("linux.netDevices.a.name") && e.contains("%d"),
            "{e}"
        );
    }

    #[test]
    fn names_the_kernel_refuses_are_refused_naming_the_field() {
        for (json, field, words) in [
            (
                r#"{"a": {"name": "0123456789abcdef"}}"#,
                "a.name",
                "longer than 15",
            ),
            (r#"{"a": {"name": "x/y"}}"#, "a.name", "'/'"),
            (r#"{"a": {"name": "x y"}}"#, "a.name", "' '"),
            (r#"{"a": {"name": "eth0:1"}}"#, "a.name", "':'"),
            (r#"{"..": {}}"#, "..", "not a device name"),
            (r#"{"": {}}"#, "", "is empty"),
        ] {
            let e = plan(&devs(json)).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("linux.netDevices.{field}:")) && e.contains(words),
                "{json}: {e}"
            );
        }
    }

    #[test]
    fn two_devices_may_not_take_the_same_name() {
        let e = plan(&devs(r#"{"a": {"name": "eth0"}, "eth0": {}}"#))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("linux.netDevices.eth0.name") && e.contains("\"a\""),
            "{e}"
        );
    }
}
