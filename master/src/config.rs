//! The master's settings, with Mesos' flag names and defaults where Mesos
//! has them (`docs/master.md` lists each flag).

use crate::allocator::{Limits, Quantities, Quota};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `corral master` can be told.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub ip: IpAddr,
    /// Port to listen on (0: any free port, printed at start).
    pub port: u16,
    /// Hostname advertised in MasterInfo.
    pub hostname: String,
    /// Where the registry lives.
    pub work_dir: PathBuf,
    /// Time between batched allocation passes (Mesos `--allocation_interval`).
    pub allocation_interval: Duration,
    /// Offers not used for this long are rescinded (Mesos `--offer_timeout`).
    pub offer_timeout: Option<Duration>,
    /// How long an agent may stay silent before a missed ping is counted
    /// (Mesos `--agent_ping_timeout`).
    pub agent_ping_timeout: Duration,
    /// Missed pings before an agent is unreachable (Mesos
    /// `--max_agent_ping_timeouts`).
    pub max_agent_ping_timeouts: u32,
    /// Seconds between HEARTBEAT events on every stream.
    pub heartbeat_interval: Duration,
    /// The roles frameworks may use; `None` allows any valid role.
    pub roles: Option<Vec<String>>,
    /// Role weights (default 1).
    pub weights: BTreeMap<String, f64>,
    /// Quota per top-level role.
    pub quota: BTreeMap<String, Quota>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ip: IpAddr::from([0, 0, 0, 0]),
            port: 5050,
            hostname: "localhost".into(),
            work_dir: PathBuf::from("/var/lib/corral/master"),
            allocation_interval: Duration::from_secs(1),
            offer_timeout: None,
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            heartbeat_interval: Duration::from_secs(15),
            roles: None,
            weights: BTreeMap::new(),
            quota: BTreeMap::new(),
            max_body_bytes: 4 << 20,
        }
    }
}

impl Config {
    /// How long an agent may be silent before it is unreachable.
    pub fn agent_silence_limit(&self) -> Duration {
        self.agent_ping_timeout * self.max_agent_ping_timeouts.max(1)
    }
}

/// Parses quota text `ROLE=GUARANTEE[/LIMIT]`, e.g. `eng=cpus:4;mem:1024`
/// or `eng=cpus:4/cpus:8`.
pub fn parse_quota(text: &str) -> Result<(String, Quota), String> {
    let (role, spec) = text
        .split_once('=')
        .ok_or_else(|| format!("quota '{text}': expected ROLE=GUARANTEE[/LIMIT]"))?;
    let (guarantee, limit) = match spec.split_once('/') {
        Some((g, l)) => (g, Some(l)),
        None => (spec, None),
    };
    let guarantees = Quantities::parse(guarantee).map_err(|e| format!("quota '{text}': {e}"))?;
    let limits = match limit {
        Some(l) => Limits::parse(l).map_err(|e| format!("quota '{text}': {e}"))?,
        None => Limits::default(),
    };
    Ok((role.to_string(), Quota { guarantees, limits }))
}
