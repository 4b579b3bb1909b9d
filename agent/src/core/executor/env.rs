//! Mesos' executor environment (`executorEnvironment()` in Mesos' agent):
//! what a custom executor reads to find the agent and how to behave when
//! it loses it. Pure.

use std::time::Duration;

/// What the environment is made from.
#[derive(Debug, Clone)]
pub struct EnvFacts<'a> {
    /// `ip:port` of the agent's HTTP API, reachable from the container
    /// (tasks share the host's network namespace).
    pub endpoint: &'a str,
    /// The executor's sandbox on the host.
    pub directory: &'a str,
    /// The framework checkpoints (the executor should outlive an agent
    /// restart and subscribe again).
    pub checkpoint: bool,
    pub shutdown_grace: Duration,
    pub recovery_timeout: Duration,
    pub backoff_max: Duration,
}

/// A duration as Mesos prints one (stout's `Duration`): `3secs`,
/// `15mins`, `250ms`.
pub fn mesos_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms > 0 && ms.is_multiple_of(3_600_000) {
        format!("{}hrs", ms / 3_600_000)
    } else if ms > 0 && ms.is_multiple_of(60_000) {
        format!("{}mins", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}secs", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The variables, `NAME=value`, beside those every container gets
/// (MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_AGENT_ID,
/// MESOS_CONTAINER_ID, MESOS_SANDBOX).
pub fn executor_env(f: &EnvFacts) -> Vec<String> {
    let mut env = vec![
        format!("MESOS_DIRECTORY={}", f.directory),
        format!("MESOS_AGENT_ENDPOINT={}", f.endpoint),
        format!("MESOS_SLAVE_PID=slave(1)@{}", f.endpoint),
        format!("MESOS_CHECKPOINT={}", if f.checkpoint { "1" } else { "0" }),
        "MESOS_HTTP_COMMAND_EXECUTOR=0".to_string(),
        format!(
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD={}",
            mesos_duration(f.shutdown_grace)
        ),
    ];
    if f.checkpoint {
        env.push(format!(
            "MESOS_RECOVERY_TIMEOUT={}",
            mesos_duration(f.recovery_timeout)
        ));
        env.push(format!(
            "MESOS_SUBSCRIPTION_BACKOFF_MAX={}",
            mesos_duration(f.backoff_max)
        ));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_mesos_prints_them() {
        assert_eq!(mesos_duration(Duration::from_secs(3)), "3secs");
        assert_eq!(mesos_duration(Duration::from_secs(900)), "15mins");
        assert_eq!(mesos_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(mesos_duration(Duration::from_secs(7200)), "2hrs");
        assert_eq!(mesos_duration(Duration::from_secs(90)), "90secs");
    }

    #[test]
    fn recovery_variables_only_when_the_framework_checkpoints() {
        let mut f = EnvFacts {
            endpoint: "127.0.0.1:5051",
            directory: "/var/lib/corral/agent/sandboxes/c",
            checkpoint: true,
            shutdown_grace: Duration::from_secs(3),
            recovery_timeout: Duration::from_secs(900),
            backoff_max: Duration::from_secs(2),
        };
        let env = executor_env(&f);
        for want in [
            "MESOS_AGENT_ENDPOINT=127.0.0.1:5051",
            "MESOS_CHECKPOINT=1",
            "MESOS_DIRECTORY=/var/lib/corral/agent/sandboxes/c",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=3secs",
            "MESOS_RECOVERY_TIMEOUT=15mins",
            "MESOS_SUBSCRIPTION_BACKOFF_MAX=2secs",
        ] {
            assert!(env.iter().any(|e| e == want), "{want} missing from {env:?}");
        }
        f.checkpoint = false;
        let env = executor_env(&f);
        assert!(env.iter().any(|e| e == "MESOS_CHECKPOINT=0"));
        assert!(!env.iter().any(|e| e.starts_with("MESOS_RECOVERY_TIMEOUT=")));
    }
}
