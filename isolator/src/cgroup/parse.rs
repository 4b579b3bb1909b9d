//! Pure parsers of the cgroup v2 file formats (flat keyed, nested keyed,
//! single values, `max`-or-number limits, pid lists), unit-tested on sample
//! text. Unknown keys are skipped so newer kernels keep parsing; malformed
//! lines are errors.

use super::stats::{CpuStats, IoDeviceStats, MemoryEvents};
use std::collections::BTreeMap;
use std::fmt;

/// Why a file's text did not parse (the caller adds cgroup and file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// cgroup.events: whether the cgroup (or a descendant) has processes, and
/// whether it is frozen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupEvents {
    /// `populated 1`.
    pub populated: bool,
    /// `frozen 1` (kernel 5.2+).
    pub frozen: bool,
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ParseError> {
    text.parse()
        .map_err(|_| ParseError(format!("{what}: {text:?} is not a number")))
}

/// A flat-keyed file (`KEY VALUE` per line, e.g. memory.stat, cpu.stat).
pub fn flat_keyed(text: &str) -> Result<BTreeMap<String, u64>, ParseError> {
    let mut map = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let (Some(key), Some(value), None) = (words.next(), words.next(), words.next()) else {
            return Err(ParseError(format!("line {line:?} is not \"KEY VALUE\"")));
        };
        map.insert(key.to_string(), number(value, key)?);
    }
    Ok(map)
}

/// A single-number file such as memory.current.
pub fn single_u64(text: &str) -> Result<u64, ParseError> {
    number(text.trim(), "value")
}

/// A limit such as memory.max or pids.max: `None` for `max`.
pub fn limit(text: &str) -> Result<Option<u64>, ParseError> {
    match text.trim() {
        "max" => Ok(None),
        v => number(v, "limit").map(Some),
    }
}

/// cpu.stat.
pub fn cpu_stat(text: &str) -> Result<CpuStats, ParseError> {
    let map = flat_keyed(text)?;
    let get = |k: &str| map.get(k).copied().unwrap_or(0);
    Ok(CpuStats {
        usage_usec: get("usage_usec"),
        user_usec: get("user_usec"),
        system_usec: get("system_usec"),
        nr_periods: get("nr_periods"),
        nr_throttled: get("nr_throttled"),
        throttled_usec: get("throttled_usec"),
        nr_bursts: get("nr_bursts"),
        burst_usec: get("burst_usec"),
    })
}

/// memory.events (or memory.events.local).
pub fn memory_events(text: &str) -> Result<MemoryEvents, ParseError> {
    let map = flat_keyed(text)?;
    let get = |k: &str| map.get(k).copied().unwrap_or(0);
    Ok(MemoryEvents {
        low: get("low"),
        high: get("high"),
        max: get("max"),
        oom: get("oom"),
        oom_kill: get("oom_kill"),
        oom_group_kill: get("oom_group_kill"),
    })
}

/// cgroup.events.
pub fn cgroup_events(text: &str) -> Result<CgroupEvents, ParseError> {
    let map = flat_keyed(text)?;
    let populated = map
        .get("populated")
        .ok_or_else(|| ParseError(format!("no \"populated\" key in {text:?}")))?;
    Ok(CgroupEvents {
        populated: *populated == 1,
        frozen: map.get("frozen") == Some(&1),
    })
}

/// io.stat: `MAJ:MIN key=value ...` per device; unknown keys (io.cost's
/// `cost.*`) are skipped.
pub fn io_stat(text: &str) -> Result<Vec<IoDeviceStats>, ParseError> {
    let mut devices = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let dev = words.next().unwrap_or_default();
        let (major, minor) = dev
            .split_once(':')
            .ok_or_else(|| ParseError(format!("line {line:?} does not start with MAJ:MIN")))?;
        let mut d = IoDeviceStats {
            major: number(major, "device major")?,
            minor: number(minor, "device minor")?,
            ..Default::default()
        };
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| ParseError(format!("{word:?} in line {line:?} is not KEY=VALUE")))?;
            let slot = match key {
                "rbytes" => &mut d.rbytes,
                "wbytes" => &mut d.wbytes,
                "rios" => &mut d.rios,
                "wios" => &mut d.wios,
                "dbytes" => &mut d.dbytes,
                "dios" => &mut d.dios,
                _ => continue,
            };
            *slot = number(value, key)?;
        }
        devices.push(d);
    }
    Ok(devices)
}

/// cgroup.procs or cgroup.threads: one id per line.
pub fn pids(text: &str) -> Result<Vec<i32>, ParseError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| number(l.trim(), "pid"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU_STAT: &str = "usage_usec 2471004\nuser_usec 1907470\nsystem_usec 563534\n\
        core_sched.force_idle_usec 0\nnr_periods 290\nnr_throttled 271\n\
        throttled_usec 25113411\nnr_bursts 0\nburst_usec 0\n";

    #[test]
    fn cpu_stat_with_and_without_the_controller() {
        let s = cpu_stat(CPU_STAT).unwrap();
        assert_eq!(s.usage_usec, 2_471_004);
        assert_eq!(s.system_usec, 563_534);
        assert_eq!((s.nr_periods, s.nr_throttled), (290, 271));
        assert_eq!(s.throttled_usec, 25_113_411);
        let bare = cpu_stat("usage_usec 5\nuser_usec 3\nsystem_usec 2\n").unwrap();
        assert_eq!((bare.usage_usec, bare.nr_throttled), (5, 0));
    }

    #[test]
    fn memory_events_old_and_new_kernels() {
        let e =
            memory_events("low 0\nhigh 4\nmax 120\noom 2\noom_kill 1\noom_group_kill 1\n").unwrap();
        assert_eq!(
            (e.high, e.max, e.oom, e.oom_kill, e.oom_group_kill),
            (4, 120, 2, 1, 1)
        );
        let old = memory_events("low 0\nhigh 0\nmax 0\noom 0\noom_kill 3\n").unwrap();
        assert_eq!((old.oom_kill, old.oom_group_kill), (3, 0));
    }

    #[test]
    fn flat_keyed_refuses_malformed_lines() {
        assert_eq!(flat_keyed("anon 10\nfile 20\n").unwrap()["file"], 20);
        let e = flat_keyed("anon 10 11\n").unwrap_err();
        assert!(e.0.contains("not \"KEY VALUE\""), "{e}");
        let e = flat_keyed("anon ten\n").unwrap_err();
        assert!(e.0.contains("\"ten\" is not a number"), "{e}");
    }

    #[test]
    fn limits_and_single_values() {
        assert_eq!(limit("max\n").unwrap(), None);
        assert_eq!(limit("33554432\n").unwrap(), Some(33_554_432));
        assert!(limit("lots\n").is_err());
        assert_eq!(single_u64("17\n").unwrap(), 17);
        assert!(single_u64("").is_err());
    }

    #[test]
    fn cgroup_events_states() {
        let e = cgroup_events("populated 1\nfrozen 0\n").unwrap();
        assert_eq!(
            e,
            CgroupEvents {
                populated: true,
                frozen: false
            }
        );
        assert!(cgroup_events("populated 0\nfrozen 1\n").unwrap().frozen);
        assert!(!cgroup_events("populated 0\n").unwrap().frozen, "pre-5.2");
        assert!(cgroup_events("frozen 1\n").is_err());
    }

    #[test]
    fn io_stat_devices_and_unknown_keys() {
        let text = "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n\
                    253:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=512 dios=1 \
                    cost.vrate=100.00 cost.usage=28 cost.wait=0 cost.indebt=0 cost.indelay=0\n";
        let d = io_stat(text).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].major, d[0].minor), (8, 16));
        assert_eq!((d[0].rbytes, d[0].wbytes), (1_459_200, 314_773_504));
        assert_eq!((d[0].rios, d[0].wios), (192, 353));
        assert_eq!((d[1].dbytes, d[1].dios), (512, 1));
        assert_eq!(io_stat("").unwrap(), vec![]);
        assert!(io_stat("sda rbytes=1\n").is_err());
        assert!(io_stat("8:0 rbytes\n").is_err());
    }

    #[test]
    fn pid_lists() {
        assert_eq!(pids("12\n345\n").unwrap(), vec![12, 345]);
        assert_eq!(pids("").unwrap(), Vec::<i32>::new());
        assert!(pids("12\nx\n").is_err());
    }
}
