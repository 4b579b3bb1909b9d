//! `cgroups/cpu`: `cpus` → a relative weight (cpu.weight, from shares of
//! 1024 per CPU, as Mesos) and, unless disabled, a hard cap: cpu.max of
//! `cpus` × the 100 ms period (Mesos' --cgroups_enable_cfs).

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};

/// Shares for one CPU.
pub const SHARES_PER_CPU: f64 = 1024.0;
/// The CFS period, µs.
pub const PERIOD_US: u64 = 100_000;
/// The smallest quota the kernel takes, µs.
pub const MIN_QUOTA_US: u64 = 1_000;

/// The isolator.
#[derive(Debug)]
pub struct Cpu;

impl Isolator for Cpu {
    fn name(&self) -> &'static str {
        "cgroups/cpu"
    }

    fn controllers(&self) -> &'static [&'static str] {
        &["cpu"]
    }

    fn prepare(&self, l: &Launch, s: &Settings) -> Result<SpecPatch, IsolatorError> {
        if !(l.cpus > 0.0 && l.cpus.is_finite()) {
            return Err(IsolatorError::Refused {
                isolator: self.name(),
                message: format!("the task asks for {} cpus; it needs some", l.cpus),
            });
        }
        let shares = ((l.cpus * SHARES_PER_CPU) as u64).max(2);
        let mut p = SpecPatch::default().set("/linux/resources/cpu/shares", shares);
        if s.cfs_quota {
            let quota = ((l.cpus * PERIOD_US as f64) as u64).max(MIN_QUOTA_US);
            p = p
                .set("/linux/resources/cpu/quota", quota)
                .set("/linux/resources/cpu/period", PERIOD_US);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolators::tests_support::{launch, settings};

    #[test]
    fn half_a_cpu_is_512_shares_and_a_50ms_quota() {
        let p = Cpu.prepare(&launch(0.5, 64.0), &settings()).unwrap();
        let mut spec = serde_json::json!({});
        crate::isolators::patch::merge(&mut spec, &[("c".into(), p)]).unwrap();
        assert_eq!(spec["linux"]["resources"]["cpu"]["shares"], 512);
        assert_eq!(spec["linux"]["resources"]["cpu"]["quota"], 50_000);
        let mut no_cfs = settings();
        no_cfs.cfs_quota = false;
        let p = Cpu.prepare(&launch(0.5, 64.0), &no_cfs).unwrap();
        assert_eq!(p.ops.len(), 1);
        assert!(Cpu.prepare(&launch(0.0, 64.0), &settings()).is_err());
    }
}
