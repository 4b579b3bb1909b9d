//! The pure mapping of a cgroup [`Plan`] (the same one the file driver
//! writes) onto systemd unit properties: each write systemd has a property
//! for becomes that property, so systemd knows the limit and keeps it when it
//! re-applies a unit's settings; every other write (memory.oom.group, io.max
//! and per-device io.weight, hugetlb, rdma, cpu.idle, cpu.max.burst, unified
//! keys without a property, or values it cannot express) stays in
//! [`Mapped::rest`], to be written to the scope's files directly, which
//! `Delegate=yes` makes legitimate. The device filter stays there too.

use corral_isolator::cgroup::{CgroupError, Plan};

/// A unit property's value, in the D-Bus type systemd expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prop {
    /// `t`
    U64(u64),
    /// `b`
    Bool(bool),
    /// `s`
    Str(String),
    /// `ay`: a CPU or NUMA-node bitmask, bit `i % 8` of byte `i / 8`.
    Bytes(Vec<u8>),
    /// `au`: process ids.
    Pids(Vec<u32>),
}

/// A plan split into properties and what is left for the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// Properties, in the plan's order.
    pub properties: Vec<(String, Prop)>,
    /// Writes with no property, the device filter and the ignored fields;
    /// no `checkBeforeUpdate` (the driver checks it before anything).
    pub rest: Plan,
}

/// systemd's "no limit" for the `t` limits (`CGROUP_LIMIT_MAX`).
pub const NO_LIMIT: u64 = u64::MAX;
/// The period systemd uses for CPUQuota when none is given, µs.
pub const DEFAULT_PERIOD_USEC: u64 = 100_000;

/// Splits `plan` into properties and the rest. Touches nothing.
pub fn map(plan: &Plan) -> Result<Mapped, CgroupError> {
    let mut properties: Vec<(String, Prop)> = Vec::new();
    let mut rest = Plan {
        ignored: plan.ignored.clone(),
        devices: plan.devices.clone(),
        ..Plan::default()
    };
    for w in &plan.writes {
        match property(&w.file, &w.value) {
            Some(props) => {
                for (name, value) in props {
                    // A later write of the same file (unified) wins.
                    properties.retain(|(n, _)| *n != name);
                    properties.push((name, value));
                }
            }
            None => rest.writes.push(w.clone()),
        }
    }
    Ok(Mapped { properties, rest })
}

/// The properties one file write becomes, or `None` to write the file.
fn property(file: &str, value: &str) -> Option<Vec<(String, Prop)>> {
    let one = |name: &str, v: Prop| Some(vec![(name.to_string(), v)]);
    match file {
        "pids.max" => one("TasksMax", Prop::U64(limit(value)?)),
        "memory.max" => one("MemoryMax", Prop::U64(limit(value)?)),
        "memory.high" => one("MemoryHigh", Prop::U64(limit(value)?)),
        "memory.low" => one("MemoryLow", Prop::U64(limit(value)?)),
        "memory.min" => one("MemoryMin", Prop::U64(limit(value)?)),
        "memory.swap.max" => one("MemorySwapMax", Prop::U64(limit(value)?)),
        "cpu.weight" => one("CPUWeight", Prop::U64(value.trim().parse().ok()?)),
        "cpu.max" => cpu_max(value),
        "cpuset.cpus" => one("AllowedCPUs", Prop::Bytes(bitmask(value)?)),
        "cpuset.mems" => one("AllowedMemoryNodes", Prop::Bytes(bitmask(value)?)),
        "io.weight" => {
            let weight = value.trim().strip_prefix("default ")?;
            one("IOWeight", Prop::U64(weight.trim().parse().ok()?))
        }
        _ => None,
    }
}

/// `max` or a number.
fn limit(value: &str) -> Option<u64> {
    match value.trim() {
        "max" => Some(NO_LIMIT),
        v => v.parse().ok(),
    }
}

/// cpu.max `QUOTA|max [PERIOD]` as CPUQuotaPeriodUSec and
/// CPUQuotaPerSecUSec (quota per second of wall time). Without a period,
/// systemd's default 100 ms is taken.
fn cpu_max(value: &str) -> Option<Vec<(String, Prop)>> {
    let mut words = value.split_whitespace();
    let quota = words.next()?;
    let period = match words.next() {
        Some(p) => p.parse::<u64>().ok().filter(|p| *p > 0)?,
        None => DEFAULT_PERIOD_USEC,
    };
    let per_sec = match quota {
        "max" => NO_LIMIT,
        q => q.parse::<u64>().ok()?.checked_mul(1_000_000)? / period,
    };
    Some(vec![
        ("CPUQuotaPeriodUSec".to_string(), Prop::U64(period)),
        ("CPUQuotaPerSecUSec".to_string(), Prop::U64(per_sec)),
    ])
}

/// A kernel list such as `0-2,5` as a bitmask; `None` if malformed.
fn bitmask(list: &str) -> Option<Vec<u8>> {
    let mut bits: Vec<u8> = Vec::new();
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<usize>().ok()?, b.trim().parse().ok()?),
            None => {
                let n = part.trim().parse::<usize>().ok()?;
                (n, n)
            }
        };
        if lo > hi || hi >= 1 << 16 {
            return None;
        }
        for i in lo..=hi {
            if bits.len() <= i / 8 {
                bits.resize(i / 8 + 1, 0);
            }
            bits[i / 8] |= 1 << (i % 8);
        }
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_isolator::cgroup::plan::plan;
    use corral_isolator::cgroup::{OnMissing, Write};
    use oci_spec::runtime::{
        LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder,
    };
    use std::collections::HashMap;

    fn props(m: &Mapped) -> Vec<(&str, &Prop)> {
        m.properties.iter().map(|(n, v)| (n.as_str(), v)).collect()
    }

    #[test]
    fn typed_limits_become_properties() {
        let r = LinuxResourcesBuilder::default()
            .pids(LinuxPidsBuilder::default().limit(64).build().unwrap())
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(64 << 20)
                    .reservation(16 << 20)
                    .swap(64 << 20)
                    .build()
                    .unwrap(),
            )
            .cpu(
                LinuxCpuBuilder::default()
                    .shares(1024u64)
                    .quota(50_000i64)
                    .period(100_000u64)
                    .cpus("0-2,9")
                    .mems("0")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let m = map(&plan(&r).unwrap()).unwrap();
        assert_eq!(
            props(&m),
            vec![
                ("TasksMax", &Prop::U64(64)),
                ("MemoryMax", &Prop::U64(64 << 20)),
                ("MemorySwapMax", &Prop::U64(0)),
                ("MemoryLow", &Prop::U64(16 << 20)),
                ("CPUWeight", &Prop::U64(39)),
                ("CPUQuotaPeriodUSec", &Prop::U64(100_000)),
                ("CPUQuotaPerSecUSec", &Prop::U64(500_000)),
                ("AllowedCPUs", &Prop::Bytes(vec![0b0000_0111, 0b0000_0010])),
                ("AllowedMemoryNodes", &Prop::Bytes(vec![1])),
            ]
        );
        assert!(m.rest.writes.is_empty(), "{:?}", m.rest.writes);
    }

    #[test]
    fn no_limit_is_u64_max_and_a_quota_without_period_uses_100ms() {
        let p = Plan {
            writes: vec![
                Write::new("pids.max", "max"),
                Write::new("memory.high", "max"),
                Write::new("cpu.max", "20000"),
            ],
            ..Plan::default()
        };
        let m = map(&p).unwrap();
        assert_eq!(
            props(&m),
            vec![
                ("TasksMax", &Prop::U64(NO_LIMIT)),
                ("MemoryHigh", &Prop::U64(NO_LIMIT)),
                ("CPUQuotaPeriodUSec", &Prop::U64(100_000)),
                ("CPUQuotaPerSecUSec", &Prop::U64(200_000)),
            ]
        );
        let m = map(&Plan {
            writes: vec![Write::new("cpu.max", "max 50000")],
            ..Plan::default()
        })
        .unwrap();
        assert_eq!(
            m.properties[1],
            ("CPUQuotaPerSecUSec".into(), Prop::U64(NO_LIMIT))
        );
    }

    #[test]
    fn writes_without_a_property_stay_file_writes() {
        let io = Write::new("io.weight", "default 500").on_missing(OnMissing::Instead {
            file: "io.bfq.weight".into(),
            value: "default 50".into(),
        });
        let p = Plan {
            writes: vec![
                io,
                Write::new("io.weight", "8:0 300"),
                Write::new("io.max", "8:0 rbps=1000"),
                Write::new("memory.oom.group", "1"),
                Write::new("hugetlb.2MB.max", "0"),
                Write::new("memory.max", "1G"),
            ],
            check_memory_usage: Some(5),
            devices: Some(Vec::new()),
            ..Plan::default()
        };
        let m = map(&p).unwrap();
        assert_eq!(props(&m), vec![("IOWeight", &Prop::U64(500))]);
        let files: Vec<&str> = m.rest.writes.iter().map(|w| w.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "io.weight",
                "io.max",
                "memory.oom.group",
                "hugetlb.2MB.max",
                "memory.max"
            ]
        );
        assert_eq!(m.rest.check_memory_usage, None);
        assert_eq!(m.rest.devices, Some(Vec::new()));
    }

    #[test]
    fn a_unified_key_replaces_the_typed_property() {
        let r = LinuxResourcesBuilder::default()
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(1 << 20)
                    .build()
                    .unwrap(),
            )
            .unified(HashMap::from([(
                "memory.max".to_string(),
                "max".to_string(),
            )]))
            .build()
            .unwrap();
        let m = map(&plan(&r).unwrap()).unwrap();
        assert_eq!(props(&m), vec![("MemoryMax", &Prop::U64(NO_LIMIT))]);
    }

    #[test]
    fn cpu_lists_become_bitmasks() {
        assert_eq!(bitmask("0"), Some(vec![1]));
        assert_eq!(bitmask("8-9"), Some(vec![0, 3]));
        assert_eq!(bitmask(""), Some(vec![]));
        assert_eq!(bitmask("3-1"), None);
        assert_eq!(bitmask("x"), None);
    }
}
