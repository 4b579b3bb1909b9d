//! `ResourceStatistics`: a container's usage, in Mesos' field names and
//! units (the fields cgroup v2 can fill), plus corral's own additions, which
//! Mesos has no field for: memory peak and OOM kills, I/O totals over every
//! device, and pressure stall information.

use serde::{Deserialize, Serialize};

/// One PSI file's averages (`cpu.pressure`, `memory.pressure`,
/// `io.pressure`): percentages over 10, 60 and 300 s, and the total stall
/// time in microseconds. `full_*` is absent where the kernel has no `full`
/// line (cpu before Linux 5.13).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Pressure {
    /// Some task stalled: average over 10 s, percent.
    pub some_avg10: f64,
    /// Over 60 s.
    pub some_avg60: f64,
    /// Over 300 s.
    pub some_avg300: f64,
    /// Total stall time, µs.
    pub some_total_usecs: u64,
    /// Every task stalled: average over 10 s, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_avg10: Option<f64>,
    /// Over 60 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_avg60: Option<f64>,
    /// Over 300 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_avg300: Option<f64>,
    /// Total stall time, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_total_usecs: Option<u64>,
}

/// Pressure of the three resources (corral's; absent where the kernel has
/// no PSI).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PressureStats {
    /// `cpu.pressure`.
    #[serde(default)]
    pub cpu: Option<Pressure>,
    /// `memory.pressure`.
    #[serde(default)]
    pub memory: Option<Pressure>,
    /// `io.pressure`.
    #[serde(default)]
    pub io: Option<Pressure>,
}

/// `ResourceStatistics` (Mesos' names; unset fields are absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceStatistics {
    /// When it was read, seconds since the epoch.
    pub timestamp: f64,
    /// Processes in the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
    /// CPU time in user mode, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_user_time_secs: Option<f64>,
    /// CPU time in kernel mode, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_system_time_secs: Option<f64>,
    /// The cpus it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_limit: Option<f64>,
    /// CFS periods elapsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_nr_periods: Option<u64>,
    /// Periods in which it was throttled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_nr_throttled: Option<u64>,
    /// Time throttled, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_throttled_time_secs: Option<f64>,
    /// Memory in use (memory.current), bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_total_bytes: Option<u64>,
    /// memory.max, bytes (absent when unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_limit_bytes: Option<u64>,
    /// Anonymous memory, bytes (v2 has no separate rss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_rss_bytes: Option<u64>,
    /// Anonymous memory, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_anon_bytes: Option<u64>,
    /// Page cache, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_cache_bytes: Option<u64>,
    /// Page cache, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_file_bytes: Option<u64>,
    /// Mapped files, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_mapped_file_bytes: Option<u64>,
    /// Swap in use, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_swap_bytes: Option<u64>,
    /// The sandbox's disk quota, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_limit_bytes: Option<u64>,
    /// corral: memory.peak, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_peak_bytes: Option<u64>,
    /// corral: OOM kills in the container (memory.events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_oom_kills: Option<u64>,
    /// corral: bytes read, all devices (io.stat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_read_bytes: Option<u64>,
    /// corral: bytes written, all devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_write_bytes: Option<u64>,
    /// corral: read operations, all devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_read_ops: Option<u64>,
    /// corral: write operations, all devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_write_ops: Option<u64>,
    /// corral: pressure stall information.
    #[serde(default)]
    pub psi: PressureStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_fields_are_absent_and_the_json_round_trips() {
        let s = ResourceStatistics {
            timestamp: 12.5,
            cpus_limit: Some(0.5),
            mem_limit_bytes: Some(64 << 20),
            psi: PressureStats {
                cpu: Some(Pressure {
                    some_avg10: 1.5,
                    ..Pressure::default()
                }),
                ..PressureStats::default()
            },
            ..ResourceStatistics::default()
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["cpus_limit"], 0.5);
        assert_eq!(v["mem_limit_bytes"], 64 << 20);
        assert!(v.get("mem_total_bytes").is_none());
        assert_eq!(v["psi"]["cpu"]["some_avg10"], 1.5);
        assert!(v["psi"]["cpu"].get("full_avg10").is_none());
        assert_eq!(v["psi"]["io"], serde_json::Value::Null);
        let back: ResourceStatistics = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn unknown_fields_from_other_versions_are_ignored() {
        let v = serde_json::json!({"timestamp": 1.0, "threads": 3, "net_rx_bytes": 9});
        let s: ResourceStatistics = serde_json::from_value(v).unwrap();
        assert_eq!(s.timestamp, 1.0);
    }
}
