//! A container's cgroup stats in Mesos' `ResourceStatistics` shape (the
//! fields cgroup v2 can fill, same names and units), plus corral's own:
//! memory peak, I/O totals and PSI. Pure.

use crate::core::ContainerView;
use corral_isolator::cgroup::{Pressure, Stats};
use serde_json::{Map, Value, json};

fn psi(p: &Option<Pressure>) -> Value {
    match p {
        None => Value::Null,
        Some(p) => {
            let mut v = json!({
                "some_avg10": p.some.avg10, "some_avg60": p.some.avg60,
                "some_avg300": p.some.avg300, "some_total_usecs": p.some.total,
            });
            if let Some(f) = p.full {
                v["full_avg10"] = json!(f.avg10);
                v["full_avg60"] = json!(f.avg60);
                v["full_avg300"] = json!(f.avg300);
                v["full_total_usecs"] = json!(f.total);
            }
            v
        }
    }
}

/// The statistics object of one container at `timestamp`.
pub fn statistics(c: &ContainerView, s: &Stats, timestamp: f64) -> Value {
    let us = |v: u64| v as f64 / 1e6;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("timestamp", json!(timestamp));
    put("cpus_limit", json!(c.cpus));
    put("cpus_user_time_secs", json!(us(s.cpu.user_usec)));
    put("cpus_system_time_secs", json!(us(s.cpu.system_usec)));
    put("cpus_nr_periods", json!(s.cpu.nr_periods));
    put("cpus_nr_throttled", json!(s.cpu.nr_throttled));
    put("cpus_throttled_time_secs", json!(us(s.cpu.throttled_usec)));
    if let Some(mem) = &s.memory {
        let stat = |k: &str| mem.stat.get(k).copied().unwrap_or(0);
        put("mem_total_bytes", json!(mem.current));
        put("mem_limit_bytes", json!(mem.max));
        put("mem_peak_bytes", json!(mem.peak));
        put("mem_rss_bytes", json!(stat("anon")));
        put("mem_anon_bytes", json!(stat("anon")));
        put("mem_cache_bytes", json!(stat("file")));
        put("mem_file_bytes", json!(stat("file")));
        put("mem_mapped_file_bytes", json!(stat("file_mapped")));
        put("mem_swap_bytes", json!(mem.swap_current.unwrap_or(0)));
        put("mem_oom_kills", json!(mem.events.oom_kill));
    }
    if let Some(io) = &s.io {
        let sum =
            |f: fn(&corral_isolator::cgroup::IoDeviceStats) -> u64| io.iter().map(f).sum::<u64>();
        put("io_read_bytes", json!(sum(|d| d.rbytes)));
        put("io_write_bytes", json!(sum(|d| d.wbytes)));
        put("io_read_ops", json!(sum(|d| d.rios)));
        put("io_write_ops", json!(sum(|d| d.wios)));
    }
    if let Some(p) = &s.pids {
        put("processes", json!(p.current));
    }
    put(
        "psi",
        json!({"cpu": psi(&s.psi.cpu), "memory": psi(&s.psi.memory), "io": psi(&s.psi.io)}),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::ContainerId;
    use corral_isolator::cgroup::{CpuStats, MemoryStats, PressureLine};

    #[test]
    fn mesos_names_and_units() {
        let view = ContainerView {
            container_id: ContainerId::random(),
            framework_id: corral_api::FrameworkId::new("f"),
            task_id: corral_api::TaskId::new("t"),
            name: "t".into(),
            pid: Some(1),
            state: None,
            cpus: 0.5,
            mem_mib: 64.0,
        };
        let mut s = Stats {
            cpu: CpuStats {
                user_usec: 1_500_000,
                nr_throttled: 7,
                ..CpuStats::default()
            },
            memory: Some(MemoryStats {
                current: 4096,
                max: Some(64 << 20),
                ..MemoryStats::default()
            }),
            ..Stats::default()
        };
        s.psi.cpu = Some(Pressure {
            some: PressureLine {
                avg10: 1.5,
                ..PressureLine::default()
            },
            full: None,
        });
        let v = statistics(&view, &s, 10.0);
        assert_eq!(v["cpus_user_time_secs"], 1.5);
        assert_eq!(v["cpus_nr_throttled"], 7);
        assert_eq!(v["mem_limit_bytes"], 64 << 20);
        assert_eq!(v["psi"]["cpu"]["some_avg10"], 1.5);
        assert!(v.get("io_read_bytes").is_none());
    }
}
