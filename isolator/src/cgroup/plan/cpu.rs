//! The cpu and cpuset controllers: `shares` → cpu.weight, `quota`/`period` →
//! cpu.max, `burst` → cpu.max.burst, `idle` → cpu.idle, `cpus`/`mems` →
//! cpuset.cpus/cpuset.mems. The realtime fields have no v2 knob.

use super::{Plan, Write, invalid};
use crate::cgroup::error::CgroupError;
use oci_spec::runtime::LinuxCpu;

/// cpu.weight for v1 `shares`, the runc/crun formula: shares 2..=262144 map
/// linearly onto weight 1..=10000 (1024, the v1 default, gives 39). Shares
/// outside that range are clamped first, as the v1 kernel did.
pub fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// Adds the cpu and cpuset writes of `c` to `p`.
pub(super) fn plan(c: &LinuxCpu, p: &mut Plan) -> Result<(), CgroupError> {
    if let Some(shares) = c.shares().filter(|&s| s != 0) {
        p.push(Write::new(
            "cpu.weight",
            shares_to_weight(shares).to_string(),
        ));
    }
    let max = cpu_max(c.quota(), c.period())?;
    match (max, c.burst()) {
        (Some(max), Some(burst)) => {
            // The kernel refuses a burst above the quota, checked against the
            // other file's current value: lower the burst, set the quota, then
            // set the burst, so any order of old and new values works.
            p.push(Write::new("cpu.max.burst", "0"));
            p.push(Write::new("cpu.max", max));
            p.push(Write::new("cpu.max.burst", burst.to_string()));
        }
        (Some(max), None) => p.push(Write::new("cpu.max", max)),
        (None, Some(burst)) => p.push(Write::new("cpu.max.burst", burst.to_string())),
        (None, None) => {}
    }
    if let Some(idle) = c.idle() {
        if idle != 0 && idle != 1 {
            return Err(invalid(
                "cpu.idle",
                idle,
                "give 0 (normal) or 1 (SCHED_IDLE for the whole cgroup)",
            ));
        }
        p.push(Write::new("cpu.idle", idle.to_string()));
    }
    if c.realtime_runtime().is_some_and(|v| v != 0) || c.realtime_period().is_some_and(|v| v != 0) {
        p.ignore(
            "cpu.realtimeRuntime/realtimePeriod",
            "cgroup v2 has no realtime group scheduling knobs (cpu.rt_*); realtime tasks run \
             only from the root cgroup (runc ignores them too)",
        );
    }
    if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
        p.push(Write::new("cpuset.cpus", cpus));
    }
    if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
        p.push(Write::new("cpuset.mems", mems));
    }
    Ok(())
}

/// cpu.max: "QUOTA PERIOD", "QUOTA" (period kept) or nothing. Quota -1 is
/// "max"; quota 0 and period 0 mean unset, as in runc.
fn cpu_max(quota: Option<i64>, period: Option<u64>) -> Result<Option<String>, CgroupError> {
    let quota = match quota.unwrap_or(0) {
        0 => None,
        -1 => Some("max".to_string()),
        q if q > 0 => Some(q.to_string()),
        q => {
            return Err(invalid(
                "cpu.quota",
                q,
                "give microseconds per period, or -1 for no limit",
            ));
        }
    };
    let period = period.filter(|&p| p != 0);
    Ok(match (quota, period) {
        (None, None) => None,
        (q, None) => q,
        (q, Some(period)) => Some(format!("{} {period}", q.as_deref().unwrap_or("max"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxCpuBuilder;

    fn planned(c: LinuxCpu) -> Result<Plan, CgroupError> {
        let mut p = Plan::default();
        plan(&c, &mut p).map(|()| p)
    }

    #[test]
    fn shares_follow_the_runc_formula() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1), 1, "clamped, no underflow");
        assert_eq!(shares_to_weight(u64::MAX), 10_000, "clamped");
        assert_eq!(shares_to_weight(512), 1 + (510 * 9999) / 262_142);
    }

    #[test]
    fn shares_zero_is_unset() {
        let p = planned(LinuxCpuBuilder::default().shares(0u64).build().unwrap()).unwrap();
        assert!(p.writes.is_empty());
        let p = planned(LinuxCpuBuilder::default().shares(1024u64).build().unwrap()).unwrap();
        assert_eq!(p.value_of("cpu.weight"), Some("39"));
    }

    #[test]
    fn quota_and_period() {
        let c = LinuxCpuBuilder::default()
            .quota(50_000)
            .period(100_000u64)
            .build()
            .unwrap();
        assert_eq!(
            planned(c).unwrap().value_of("cpu.max"),
            Some("50000 100000")
        );
        let c = LinuxCpuBuilder::default().quota(20_000).build().unwrap();
        assert_eq!(planned(c).unwrap().value_of("cpu.max"), Some("20000"));
    }

    #[test]
    fn quota_unset_or_minus_one_is_max() {
        let c = LinuxCpuBuilder::default()
            .period(50_000u64)
            .build()
            .unwrap();
        assert_eq!(planned(c).unwrap().value_of("cpu.max"), Some("max 50000"));
        let c = LinuxCpuBuilder::default().quota(-1).build().unwrap();
        assert_eq!(planned(c).unwrap().value_of("cpu.max"), Some("max"));
        let c = LinuxCpuBuilder::default().quota(0).build().unwrap();
        assert!(planned(c).unwrap().writes.is_empty());
    }

    #[test]
    fn negative_quota_is_an_error() {
        let c = LinuxCpuBuilder::default().quota(-2).build().unwrap();
        let msg = planned(c).unwrap_err().to_string();
        assert!(msg.contains("cpu.quota = -2"), "{msg}");
    }

    #[test]
    fn burst_is_lowered_around_the_quota() {
        let c = LinuxCpuBuilder::default()
            .quota(10_000)
            .burst(5_000u64)
            .build()
            .unwrap();
        let writes: Vec<(String, String)> = planned(c)
            .unwrap()
            .writes
            .into_iter()
            .map(|w| (w.file, w.value))
            .collect();
        let want = [
            ("cpu.max.burst", "0"),
            ("cpu.max", "10000"),
            ("cpu.max.burst", "5000"),
        ]
        .map(|(f, v)| (f.to_string(), v.to_string()));
        assert_eq!(writes, want);
        let c = LinuxCpuBuilder::default().burst(7u64).build().unwrap();
        assert_eq!(
            planned(c).unwrap().writes,
            vec![Write::new("cpu.max.burst", "7")]
        );
    }

    #[test]
    fn idle_is_zero_or_one() {
        let c = LinuxCpuBuilder::default().idle(1).build().unwrap();
        assert_eq!(planned(c).unwrap().value_of("cpu.idle"), Some("1"));
        let c = LinuxCpuBuilder::default().idle(3).build().unwrap();
        assert!(planned(c).unwrap_err().to_string().contains("cpu.idle = 3"));
    }

    #[test]
    fn cpuset_strings_pass_through_and_empty_is_unset() {
        let c = LinuxCpuBuilder::default()
            .cpus("0-1,3")
            .mems("")
            .build()
            .unwrap();
        let p = planned(c).unwrap();
        assert_eq!(p.writes, vec![Write::new("cpuset.cpus", "0-1,3")]);
    }

    #[test]
    fn realtime_is_reported_as_ignored() {
        let c = LinuxCpuBuilder::default()
            .realtime_runtime(950_000)
            .realtime_period(1_000_000u64)
            .build()
            .unwrap();
        let p = planned(c).unwrap();
        assert!(p.writes.is_empty());
        assert_eq!(p.ignored.len(), 1);
    }
}
