//! `update`: new resources for a live container, from a JSON file of OCI
//! LinuxResources (`-r FILE`, `-` for stdin) and/or runc's flags.

use super::id;
use corral_oci::Runtime;
use oci_spec::runtime::LinuxResources;
use std::io::Read;

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// JSON file of linux.resources ("-" for stdin).
    #[arg(long, short)]
    resources: Option<String>,
    /// Memory limit (bytes, or with k, m, g suffix).
    #[arg(long)]
    memory: Option<String>,
    /// Memory plus swap limit, as OCI's memory.swap.
    #[arg(long)]
    memory_swap: Option<String>,
    /// CPU CFS quota in microseconds per period (-1: none).
    #[arg(long, allow_hyphen_values = true)]
    cpu_quota: Option<i64>,
    /// CPU CFS period in microseconds.
    #[arg(long)]
    cpu_period: Option<u64>,
    /// CPU shares (relative weight).
    #[arg(long)]
    cpu_shares: Option<u64>,
    /// CPUs the container may use ("0-3,6").
    #[arg(long)]
    cpuset_cpus: Option<String>,
    /// Memory nodes the container may use.
    #[arg(long)]
    cpuset_mems: Option<String>,
    /// Maximum number of pids (-1: none).
    #[arg(long, allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    id: String,
}

/// Parses `512m`-style sizes; -1 means unlimited.
pub fn parse_bytes(s: &str) -> anyhow::Result<i64> {
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("{s:?} is not a size like 512m"))?;
    n.checked_mul(mult)
        .ok_or_else(|| anyhow::anyhow!("{s:?} is too large"))
}

fn merge_json(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge_json(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

pub fn update(rt: &Runtime, a: &UpdateArgs) -> anyhow::Result<()> {
    let mut v = match &a.resources {
        Some(f) => {
            let mut text = String::new();
            if f == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text =
                    std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("reading {f}: {e}"))?;
            }
            let de = &mut serde_json::Deserializer::from_str(&text);
            let r: LinuxResources = serde_path_to_error::deserialize(de)
                .map_err(|e| anyhow::anyhow!("{f}: at {}: {}", e.path(), e.inner()))?;
            serde_json::to_value(r)?
        }
        None => serde_json::json!({}),
    };
    let mut patch = serde_json::json!({});
    if let Some(m) = &a.memory {
        patch["memory"]["limit"] = parse_bytes(m)?.into();
    }
    if let Some(m) = &a.memory_swap {
        patch["memory"]["swap"] = parse_bytes(m)?.into();
    }
    if let Some(q) = a.cpu_quota {
        patch["cpu"]["quota"] = q.into();
    }
    if let Some(p) = a.cpu_period {
        patch["cpu"]["period"] = p.into();
    }
    if let Some(s) = a.cpu_shares {
        patch["cpu"]["shares"] = s.into();
    }
    if let Some(c) = &a.cpuset_cpus {
        patch["cpu"]["cpus"] = c.clone().into();
    }
    if let Some(m) = &a.cpuset_mems {
        patch["cpu"]["mems"] = m.clone().into();
    }
    if let Some(p) = a.pids_limit {
        patch["pids"]["limit"] = p.into();
    }
    merge_json(&mut v, patch);
    let resources: LinuxResources = serde_json::from_value(v)?;
    rt.update(&id(&a.id)?, &resources)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("512m").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("1G").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("4096").unwrap(), 4096);
        assert_eq!(parse_bytes("-1").unwrap(), -1);
        assert!(parse_bytes("lots").is_err());
    }
}
