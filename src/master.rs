//! `corral master`: the flags (Mesos' names where Mesos has the flag) and
//! the start of the master daemon.

use clap::Args;
use corral_master::Config;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `corral master`.
#[derive(Debug, Args)]
pub struct MasterArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    ip: IpAddr,
    /// Port to listen on; 0 picks a free one (printed at start).
    #[arg(long, default_value_t = 5050)]
    port: u16,
    /// Hostname the master advertises.
    #[arg(long)]
    hostname: Option<String>,
    /// Directory of the master's registry.
    #[arg(
        long = "work-dir",
        alias = "work_dir",
        default_value = "/var/lib/corral/master"
    )]
    work_dir: PathBuf,
    /// Time between batched allocation passes (e.g. 1secs, 200ms).
    #[arg(long = "allocation-interval", alias = "allocation_interval", default_value = "1secs", value_parser = duration)]
    allocation_interval: Duration,
    /// Rescind offers unused for this long (default: never).
    #[arg(long = "offer-timeout", alias = "offer_timeout", value_parser = duration)]
    offer_timeout: Option<Duration>,
    /// Silence after which an agent's ping counts as missed.
    #[arg(long = "agent-ping-timeout", alias = "agent_ping_timeout", default_value = "15secs", value_parser = duration)]
    agent_ping_timeout: Duration,
    /// Missed pings before an agent is unreachable.
    #[arg(
        long = "max-agent-ping-timeouts",
        alias = "max_agent_ping_timeouts",
        default_value_t = 5
    )]
    max_agent_ping_timeouts: u32,
    /// Time between HEARTBEAT events on scheduler streams.
    #[arg(long = "heartbeat-interval", alias = "heartbeat_interval", default_value = "15secs", value_parser = duration)]
    heartbeat_interval: Duration,
    /// Comma-separated roles frameworks may use (default: any).
    #[arg(long)]
    roles: Option<String>,
    /// Role weights, e.g. `eng=2,ops=1`.
    #[arg(long)]
    weights: Option<String>,
    /// Quota, `ROLE=GUARANTEE[/LIMIT]` (repeatable), e.g. `eng=cpus:4;mem:4096`.
    #[arg(long)]
    quota: Vec<String>,
}

/// Mesos-style durations: `15secs`, `200ms`, `1mins`, `2hrs`, `1days`, or
/// plain seconds.
pub fn duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 15secs, 200ms)"))?;
    let secs = match unit {
        "" | "s" | "secs" => n,
        "ns" => n / 1e9,
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "mins" | "m" => n * 60.0,
        "hrs" | "h" => n * 3600.0,
        "days" | "d" => n * 86400.0,
        "weeks" => n * 604800.0,
        other => return Err(format!("'{text}': unknown unit '{other}'")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("'{text}': {e}"))
}

impl MasterArgs {
    fn config(self) -> Result<Config, String> {
        let mut c = Config {
            ip: self.ip,
            port: self.port,
            hostname: self.hostname.unwrap_or_else(hostname),
            work_dir: self.work_dir,
            allocation_interval: self.allocation_interval,
            offer_timeout: self.offer_timeout,
            agent_ping_timeout: self.agent_ping_timeout,
            max_agent_ping_timeouts: self.max_agent_ping_timeouts,
            heartbeat_interval: self.heartbeat_interval,
            roles: self
                .roles
                .map(|r| r.split(',').map(str::trim).map(String::from).collect()),
            ..Config::default()
        };
        for pair in self.weights.iter().flat_map(|w| w.split(',')) {
            let (role, w) = pair
                .split_once('=')
                .ok_or_else(|| format!("--weights '{pair}': expected ROLE=WEIGHT"))?;
            let w: f64 = w.parse().ok().filter(|w: &f64| *w > 0.0).ok_or_else(|| {
                format!("--weights '{pair}': the weight must be a positive number")
            })?;
            c.weights.insert(role.to_string(), w);
        }
        for q in &self.quota {
            let (role, quota) = corral_master::config::parse_quota(q)?;
            c.quota.insert(role, quota);
        }
        Ok(c)
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Runs the master; the process's exit code.
pub fn main(args: MasterArgs) -> i32 {
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("corral master: {e}");
            return 2;
        }
    };
    match corral_master::run(config) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("corral master: {e}");
            1
        }
    }
}
