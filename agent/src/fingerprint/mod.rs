//! What this machine really has for tasks, read from the kernel: CPUs the
//! agent may run on (its affinity within its cgroup's effective cpuset),
//! memory (MemTotal less a reserve, capped by the agent cgroup's
//! memory.max), the work dir's free disk, ports, GPU device nodes, and the
//! cgroup v2 controllers present. `--resources` overrides any of them.
//!
//! Each source is parsed by a pure function (tested on sample text); the
//! reads live in [`probe`].

mod cpus;
mod devices;
mod memory;
mod probe;

pub use cpus::{CpuSet, parse_cpu_list};
pub use memory::{MemInfo, cap_by_cgroup, parse_meminfo};
pub use probe::{Probed, controllers_for, probe};

use corral_api::resources::{self, ResourceError};
use corral_api::v1::{Attribute, Resource, Value};

/// A fingerprint could not be taken or an override is malformed.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    #[error("reading {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("--resources: {0}")]
    Resources(ResourceError),
    #[error("--attributes: {0}")]
    Attributes(String),
}

/// Capacity as measured, before overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// CPUs usable by tasks.
    pub cpus: f64,
    /// Memory for tasks, MiB.
    pub mem_mib: f64,
    /// Free disk of the work dir, MiB.
    pub disk_mib: f64,
    /// Ports offered.
    pub ports: (u64, u64),
    /// GPU device nodes found.
    pub gpus: u64,
}

/// The resources to offer: the measured capacity, with each resource that
/// `overrides` (Mesos' `--resources` text or JSON) names replaced by it.
pub fn resources(
    cap: &Capacity,
    overrides: Option<&str>,
) -> Result<Vec<Resource>, FingerprintError> {
    let mut text = format!(
        "cpus:{};mem:{};disk:{};ports:[{}-{}]",
        cap.cpus, cap.mem_mib, cap.disk_mib, cap.ports.0, cap.ports.1
    );
    if cap.gpus > 0 {
        text.push_str(&format!(";gpus:{}", cap.gpus));
    }
    let mut measured = resources::parse(&text, "*").map_err(FingerprintError::Resources)?;
    let Some(o) = overrides else {
        return Ok(measured);
    };
    let given = resources::parse(o, "*").map_err(FingerprintError::Resources)?;
    measured.retain(|m| !given.iter().any(|g| g.name == m.name));
    measured.extend(given);
    Ok(measured)
}

/// Mesos' attribute text `name:value;...`: numbers become scalars, the
/// rest text.
pub fn parse_attributes(text: &str) -> Result<Vec<Attribute>, FingerprintError> {
    text.split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once(':').ok_or_else(|| {
                FingerprintError::Attributes(format!("{pair:?} is not name:value"))
            })?;
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() {
                return Err(FingerprintError::Attributes(format!(
                    "{pair:?} has no name"
                )));
            }
            Ok(match value.parse::<f64>() {
                Ok(n) if n.is_finite() => Attribute::new(name, Value::scalar(n)),
                _ => Attribute::new(name, Value::text(value)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap() -> Capacity {
        Capacity {
            cpus: 3.0,
            mem_mib: 1500.0,
            disk_mib: 9000.0,
            ports: (31000, 32000),
            gpus: 0,
        }
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let r = resources(&cap(), Some("mem:512;foo:7")).unwrap();
        let get = |n: &str| {
            r.iter()
                .find(|x| x.name == n)
                .and_then(|x| x.scalar_value())
        };
        assert_eq!(get("cpus"), Some(3.0));
        assert_eq!(get("mem"), Some(512.0));
        assert_eq!(get("foo"), Some(7.0));
        assert_eq!(r.iter().filter(|x| x.name == "mem").count(), 1);
        assert!(r.iter().any(|x| x.name == "ports"));
        let e = resources(&cap(), Some("cpus:lots"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--resources"), "{e}");
    }

    #[test]
    fn attributes_are_scalars_or_text() {
        let a = parse_attributes("rack:r1;numa_nodes:2").unwrap();
        assert_eq!(a[0].text.as_ref().map(|t| t.value.as_str()), Some("r1"));
        assert_eq!(a[1].scalar.map(|s| s.value), Some(2.0));
        assert!(parse_attributes("oops").is_err());
    }
}
