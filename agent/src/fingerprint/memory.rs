//! Memory for tasks: MemTotal from /proc/meminfo less a reserve for the
//! system and the agent, capped by the tightest memory.max on the agent's
//! cgroup path (a machine slice may hold less than the machine).

/// What /proc/meminfo says, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemInfo {
    pub total_kib: u64,
}

/// Parses /proc/meminfo.
pub fn parse_meminfo(text: &str) -> Result<MemInfo, String> {
    let line = text
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .ok_or("no MemTotal line")?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("unreadable line {line:?}"))?;
    Ok(MemInfo { total_kib: kib })
}

/// MiB for tasks: `total` less `reserve_mib`, capped by each memory.max
/// value on the way ("max" is no cap), never below zero.
pub fn cap_by_cgroup<'a>(
    total_kib: u64,
    reserve_mib: u64,
    limits: impl IntoIterator<Item = &'a str>,
) -> f64 {
    let mut bytes = total_kib.saturating_mul(1024);
    for l in limits {
        if let Ok(v) = l.trim().parse::<u64>() {
            bytes = bytes.min(v);
        }
    }
    let mib = bytes / (1024 * 1024);
    mib.saturating_sub(reserve_mib) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_less_reserve_capped_by_the_cgroup() {
        let m = parse_meminfo("MemTotal:        2014928 kB\nMemFree: 1 kB\n").unwrap();
        assert_eq!(m.total_kib, 2014928);
        assert_eq!(cap_by_cgroup(m.total_kib, 256, ["max"]), 1967.0 - 256.0);
        assert_eq!(
            cap_by_cgroup(m.total_kib, 256, ["max", "1073741824\n"]),
            768.0
        );
        assert_eq!(cap_by_cgroup(1024, 256, []), 0.0);
        assert!(parse_meminfo("nothing").is_err());
    }
}
