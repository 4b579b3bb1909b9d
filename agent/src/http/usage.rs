//! A container's cgroup stats as a `ResourceStatistics` (Mesos' names and
//! units for what cgroup v2 can fill, plus corral's memory peak, I/O totals
//! and PSI). Pure.

use crate::core::ContainerView;
use corral_api::v1::{Pressure, PressureStats, ResourceStatistics};
use corral_isolator::cgroup::{IoDeviceStats, Stats};

fn pressure(p: &Option<corral_isolator::cgroup::Pressure>) -> Option<Pressure> {
    let p = p.as_ref()?;
    Some(Pressure {
        some_avg10: p.some.avg10,
        some_avg60: p.some.avg60,
        some_avg300: p.some.avg300,
        some_total_usecs: p.some.total,
        full_avg10: p.full.map(|f| f.avg10),
        full_avg60: p.full.map(|f| f.avg60),
        full_avg300: p.full.map(|f| f.avg300),
        full_total_usecs: p.full.map(|f| f.total),
    })
}

/// The statistics of one container at `timestamp` (seconds since the
/// epoch).
pub fn statistics(c: &ContainerView, s: &Stats, timestamp: f64) -> ResourceStatistics {
    let secs = |usec: u64| Some(usec as f64 / 1e6);
    let mut out = ResourceStatistics {
        timestamp,
        processes: s.pids.as_ref().map(|p| p.current),
        cpus_limit: Some(c.cpus),
        cpus_user_time_secs: secs(s.cpu.user_usec),
        cpus_system_time_secs: secs(s.cpu.system_usec),
        cpus_nr_periods: Some(s.cpu.nr_periods),
        cpus_nr_throttled: Some(s.cpu.nr_throttled),
        cpus_throttled_time_secs: secs(s.cpu.throttled_usec),
        disk_limit_bytes: (c.disk_mib > 0.0).then_some((c.disk_mib * 1024.0 * 1024.0) as u64),
        psi: PressureStats {
            cpu: pressure(&s.psi.cpu),
            memory: pressure(&s.psi.memory),
            io: pressure(&s.psi.io),
        },
        ..ResourceStatistics::default()
    };
    if let Some(mem) = &s.memory {
        let stat = |k: &str| Some(mem.stat.get(k).copied().unwrap_or(0));
        out.mem_total_bytes = Some(mem.current);
        out.mem_limit_bytes = mem.max;
        out.mem_peak_bytes = mem.peak;
        out.mem_rss_bytes = stat("anon");
        out.mem_anon_bytes = stat("anon");
        out.mem_cache_bytes = stat("file");
        out.mem_file_bytes = stat("file");
        out.mem_mapped_file_bytes = stat("file_mapped");
        out.mem_swap_bytes = Some(mem.swap_current.unwrap_or(0));
        out.mem_oom_kills = Some(mem.events.oom_kill);
    }
    if let Some(io) = &s.io {
        let sum = |f: fn(&IoDeviceStats) -> u64| Some(io.iter().map(f).sum::<u64>());
        out.io_read_bytes = sum(|d| d.rbytes);
        out.io_write_bytes = sum(|d| d.wbytes);
        out.io_read_ops = sum(|d| d.rios);
        out.io_write_ops = sum(|d| d.wios);
    }
    out
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
            tasks: vec![corral_api::TaskId::new("t")],
            cpus: 0.5,
            mem_mib: 64.0,
            disk_mib: 0.0,
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
        s.psi.cpu = Some(corral_isolator::cgroup::Pressure {
            some: PressureLine {
                avg10: 1.5,
                ..PressureLine::default()
            },
            full: None,
        });
        let v = serde_json::to_value(statistics(&view, &s, 10.0)).unwrap();
        assert_eq!(v["cpus_user_time_secs"], 1.5);
        assert_eq!(v["cpus_nr_throttled"], 7);
        assert_eq!(v["mem_limit_bytes"], 64 << 20);
        assert_eq!(v["mem_total_bytes"], 4096);
        assert_eq!(v["psi"]["cpu"]["some_avg10"], 1.5);
        assert!(v.get("io_read_bytes").is_none());
        assert!(v.get("disk_limit_bytes").is_none());
    }
}
