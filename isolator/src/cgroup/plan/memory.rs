//! The memory controller: `limit` → memory.max, `swap` → memory.swap.max,
//! `reservation` → memory.low, `checkBeforeUpdate` → a usage check.
//!
//! OCI's `swap` is the v1 memory+swap total; v2's memory.swap.max is swap
//! alone, so the plan writes `swap - limit` (runc's
//! `ConvertMemorySwapToCgroupV2Value`). memory.high, memory.min and
//! memory.oom.group have no OCI field: give them in `unified`.

use super::{OnMissing, Plan, Write, invalid};
use crate::cgroup::error::CgroupError;
use oci_spec::runtime::LinuxMemory;

/// Adds the memory writes of `m` to `p`.
pub(super) fn plan(m: &LinuxMemory, p: &mut Plan) -> Result<(), CgroupError> {
    if let Some(v) = bytes("memory.limit", m.limit())? {
        p.push(Write::new("memory.max", v));
    }
    if let Some(v) = swap_max(m.limit(), m.swap())? {
        // Without swap accounting the file is absent; "max" and "0" are then
        // what the kernel does anyway (runc skips them the same way).
        let on_missing = if v == "max" || v == "0" {
            OnMissing::Skip
        } else {
            OnMissing::Fail
        };
        p.push(Write::new("memory.swap.max", v).on_missing(on_missing));
    }
    if let Some(v) = bytes("memory.reservation", m.reservation())? {
        p.push(Write::new("memory.low", v));
    }
    if m.check_before_update() == Some(true) {
        p.check_memory_usage = m.limit().filter(|&l| l > 0).map(|l| l as u64);
    }
    ignore_v1_fields(m, p);
    Ok(())
}

/// A byte limit: unset or 0 → nothing, -1 → "max", positive → itself.
fn bytes(field: &str, value: Option<i64>) -> Result<Option<String>, CgroupError> {
    match value {
        None | Some(0) => Ok(None),
        Some(-1) => Ok(Some("max".into())),
        Some(v) if v > 0 => Ok(Some(v.to_string())),
        Some(v) => Err(invalid(field, v, "give bytes, or -1 for no limit")),
    }
}

/// memory.swap.max from OCI's memory+swap `swap` and `limit`.
fn swap_max(limit: Option<i64>, swap: Option<i64>) -> Result<Option<String>, CgroupError> {
    let limit = limit.unwrap_or(0);
    match swap.unwrap_or(0) {
        // Memory unlimited and swap unset: both unlimited, as on v1.
        0 if limit == -1 => Ok(Some("max".into())),
        0 => Ok(None),
        -1 => Ok(Some("max".into())),
        s if s < -1 => Err(invalid(
            "memory.swap",
            s,
            "give memory+swap bytes, or -1 for unlimited swap",
        )),
        s if limit <= 0 => Err(invalid(
            "memory.swap",
            s,
            format!(
                "OCI swap is memory+swap, so it needs a finite memory.limit in the same \
                 resources (memory.limit is {limit})"
            ),
        )),
        s if s < limit => Err(invalid(
            "memory.swap",
            s,
            format!(
                "OCI swap is memory+swap and must be >= memory.limit ({limit}); give \
                 memory.swap = {limit} for no swap, or -1 for unlimited swap"
            ),
        )),
        s => Ok(Some((s - limit).to_string())),
    }
}

/// Records the v1-only fields that were given.
fn ignore_v1_fields(m: &LinuxMemory, p: &mut Plan) {
    #[allow(deprecated)] // Reading it to report it, as the spec deprecated it.
    let kernel = m.kernel();
    if kernel.is_some() {
        p.ignore(
            "memory.kernel",
            "cgroup v2 charges kernel memory to memory.max; there is no separate limit \
             (runc ignores it too)",
        );
    }
    if m.kernel_tcp().is_some() {
        p.ignore(
            "memory.kernelTCP",
            "cgroup v2 charges TCP buffers to memory.max; there is no separate limit \
             (runc ignores it too)",
        );
    }
    if m.swappiness().is_some() {
        p.ignore(
            "memory.swappiness",
            "cgroup v2 has no per-cgroup swappiness; limit swapping with memory.swap \
             (runc ignores it too)",
        );
    }
    if m.disable_oom_killer() == Some(true) {
        p.ignore(
            "memory.disableOOMKiller",
            "cgroup v2 cannot disable the OOM killer; use memory.high in unified to throttle \
             before memory.max (runc ignores it too)",
        );
    }
    if m.use_hierarchy().is_some() {
        p.ignore("memory.useHierarchy", "cgroup v2 is always hierarchical");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxMemoryBuilder;

    fn mem(limit: Option<i64>, swap: Option<i64>) -> LinuxMemory {
        let mut b = LinuxMemoryBuilder::default();
        if let Some(l) = limit {
            b = b.limit(l);
        }
        if let Some(s) = swap {
            b = b.swap(s);
        }
        b.build().unwrap()
    }

    fn planned(m: &LinuxMemory) -> Result<Plan, CgroupError> {
        let mut p = Plan::default();
        plan(m, &mut p).map(|()| p)
    }

    #[test]
    fn limit_and_reservation() {
        let m = LinuxMemoryBuilder::default()
            .limit(256 << 20)
            .reservation(64 << 20)
            .build()
            .unwrap();
        let p = planned(&m).unwrap();
        assert_eq!(
            p.writes,
            vec![
                Write::new("memory.max", (256 << 20).to_string()),
                Write::new("memory.low", (64 << 20).to_string()),
            ]
        );
    }

    #[test]
    fn minus_one_is_max_and_zero_is_unset() {
        let p = planned(&mem(Some(-1), None)).unwrap();
        assert_eq!(p.value_of("memory.max"), Some("max"));
        assert_eq!(p.value_of("memory.swap.max"), Some("max"), "v1 compat");
        let p = planned(&mem(Some(0), Some(0))).unwrap();
        assert!(p.writes.is_empty());
    }

    #[test]
    fn swap_is_memory_plus_swap() {
        let p = planned(&mem(Some(100), Some(300))).unwrap();
        assert_eq!(p.value_of("memory.swap.max"), Some("200"));
        let w = p.writes.iter().find(|w| w.file == "memory.swap.max");
        assert_eq!(
            w.unwrap().on_missing,
            OnMissing::Fail,
            "a real limit must not vanish"
        );
    }

    #[test]
    fn swap_equal_to_limit_disables_swap() {
        let p = planned(&mem(Some(100), Some(100))).unwrap();
        assert_eq!(p.value_of("memory.swap.max"), Some("0"));
        let w = p.writes.iter().find(|w| w.file == "memory.swap.max");
        assert_eq!(w.unwrap().on_missing, OnMissing::Skip);
    }

    #[test]
    fn swap_minus_one_is_unlimited() {
        let p = planned(&mem(Some(100), Some(-1))).unwrap();
        assert_eq!(p.value_of("memory.swap.max"), Some("max"));
    }

    #[test]
    fn swap_below_limit_names_both_values() {
        let msg = planned(&mem(Some(300), Some(100))).unwrap_err().to_string();
        assert!(msg.contains("memory.swap = 100"), "{msg}");
        assert!(msg.contains("(300)"), "{msg}");
    }

    #[test]
    fn swap_without_limit_is_an_error() {
        let msg = planned(&mem(None, Some(100))).unwrap_err().to_string();
        assert!(msg.contains("needs a finite memory.limit"), "{msg}");
        assert!(planned(&mem(Some(-1), Some(100))).is_err());
    }

    #[test]
    fn negative_bytes_are_errors() {
        let msg = planned(&mem(Some(-5), None)).unwrap_err().to_string();
        assert!(msg.contains("memory.limit = -5"), "{msg}");
        assert!(planned(&mem(Some(10), Some(-7))).is_err());
    }

    #[test]
    fn check_before_update_records_the_limit() {
        let m = LinuxMemoryBuilder::default()
            .limit(1000)
            .check_before_update(true)
            .build()
            .unwrap();
        assert_eq!(planned(&m).unwrap().check_memory_usage, Some(1000));
    }

    #[test]
    fn v1_only_fields_are_reported_not_written() {
        let m = LinuxMemoryBuilder::default()
            .kernel_tcp(1)
            .swappiness(10u64)
            .disable_oom_killer(true)
            .use_hierarchy(true)
            .build()
            .unwrap();
        let p = planned(&m).unwrap();
        assert!(p.writes.is_empty());
        let fields: Vec<&str> = p.ignored.iter().map(|i| i.field).collect();
        assert_eq!(
            fields,
            [
                "memory.kernelTCP",
                "memory.swappiness",
                "memory.disableOOMKiller",
                "memory.useHierarchy"
            ]
        );
    }
}
