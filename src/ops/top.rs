//! `corral top`'s figures: two GET_CONTAINERS samples of the same
//! containers give each one's CPU use (percent of one CPU) and I/O rates
//! over the interval; memory, processes and pressure are the latest
//! sample's. Pure.

use super::table::Table;
use anyhow::{Context, Result, anyhow};
use corral_api::v1::ResourceStatistics;
use serde_json::{Value, json};
use std::collections::HashMap;

/// One container in one sample.
#[derive(Debug, Clone)]
pub struct Sample {
    pub agent_id: String,
    pub container_id: String,
    pub framework_id: String,
    pub tasks: Vec<String>,
    pub stats: ResourceStatistics,
}

/// Reads the body of a GET_CONTAINERS answer from the master.
pub fn samples(body: &[u8]) -> Result<Vec<Sample>> {
    let v: Value = serde_json::from_slice(body).context("the master's GET_CONTAINERS answer")?;
    let list = v["get_containers"]["containers"]
        .as_array()
        .ok_or_else(|| anyhow!("the master's answer has no get_containers.containers: {v}"))?;
    let value = |c: &Value, k: &str| c[k]["value"].as_str().unwrap_or_default().to_string();
    list.iter()
        .map(|c| {
            Ok(Sample {
                agent_id: value(c, "agent_id"),
                container_id: value(c, "container_id"),
                framework_id: value(c, "framework_id"),
                tasks: c["task_ids"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t["value"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                stats: corral_api::json::from_value(c["resource_statistics"].clone())
                    .map_err(|e| anyhow!("resource_statistics: {e}"))?,
            })
        })
        .collect()
}

fn cpu_secs(s: &ResourceStatistics) -> f64 {
    s.cpus_user_time_secs.unwrap_or(0.0) + s.cpus_system_time_secs.unwrap_or(0.0)
}

/// The rate of `f` between two samples, per second; None without a
/// usable interval or when the counter went back (a new container).
fn rate(
    prev: &ResourceStatistics,
    now: &ResourceStatistics,
    f: impl Fn(&ResourceStatistics) -> f64,
) -> Option<f64> {
    let dt = now.timestamp - prev.timestamp;
    let d = f(now) - f(prev);
    (dt > 0.0 && d >= 0.0).then_some(d / dt)
}

/// One row per container of `now`, the busiest CPU first: its rates
/// against the same container in `prev` (absent there: no rates).
pub fn rows(prev: &[Sample], now: &[Sample]) -> Vec<Value> {
    let before: HashMap<(&str, &str), &Sample> = prev
        .iter()
        .map(|s| ((s.agent_id.as_str(), s.container_id.as_str()), s))
        .collect();
    let mut out: Vec<Value> = now
        .iter()
        .map(|s| {
            let p = before.get(&(s.agent_id.as_str(), s.container_id.as_str()));
            let r = |f: fn(&ResourceStatistics) -> f64| p.and_then(|p| rate(&p.stats, &s.stats, f));
            let st = &s.stats;
            let some10 = |p: &Option<corral_api::v1::Pressure>| p.map(|p| p.some_avg10);
            json!({
                "tasks": s.tasks, "agent_id": s.agent_id, "framework_id": s.framework_id,
                "container_id": s.container_id,
                "cpu_percent": r(cpu_secs).map(|x| x * 100.0),
                "cpus_limit": st.cpus_limit,
                "mem_bytes": st.mem_total_bytes, "mem_limit_bytes": st.mem_limit_bytes,
                "io_read_bytes_per_sec": r(|s| s.io_read_bytes.unwrap_or(0) as f64),
                "io_write_bytes_per_sec": r(|s| s.io_write_bytes.unwrap_or(0) as f64),
                "processes": st.processes,
                "psi_cpu_some_avg10": some10(&st.psi.cpu),
                "psi_memory_some_avg10": some10(&st.psi.memory),
                "psi_io_some_avg10": some10(&st.psi.io),
            })
        })
        .collect();
    let cpu = |v: &Value| v["cpu_percent"].as_f64().unwrap_or(-1.0);
    out.sort_by(|a, b| cpu(b).total_cmp(&cpu(a)));
    out
}

fn fixed(v: &Value, digits: usize) -> String {
    v.as_f64()
        .map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

fn mib(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "-".into(), |x| format!("{:.1}", x / 1048576.0))
}

fn kib(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "-".into(), |x| format!("{:.0}", x / 1024.0))
}

/// The table of [`rows`].
pub fn table(rows: &[Value]) -> String {
    let mut t = Table::new(&[
        "TASK",
        "AGENT",
        "CPU%>",
        "CPUS>",
        "MEM MiB>",
        "LIMIT MiB>",
        "READ KiB/s>",
        "WRITE KiB/s>",
        "PROCS>",
        "PSI CPU>",
        "PSI MEM>",
        "PSI IO>",
    ]);
    for r in rows {
        let tasks: Vec<&str> = r["tasks"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        t.row(vec![
            tasks.join(","),
            r["agent_id"].as_str().unwrap_or_default().to_string(),
            fixed(&r["cpu_percent"], 1),
            fixed(&r["cpus_limit"], 2),
            mib(&r["mem_bytes"]),
            mib(&r["mem_limit_bytes"]),
            kib(&r["io_read_bytes_per_sec"]),
            kib(&r["io_write_bytes_per_sec"]),
            r["processes"]
                .as_u64()
                .map_or_else(|| "-".into(), |n| n.to_string()),
            fixed(&r["psi_cpu_some_avg10"], 2),
            fixed(&r["psi_memory_some_avg10"], 2),
            fixed(&r["psi_io_some_avg10"], 2),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(container: &str, t: f64, cpu: f64, written: u64) -> Sample {
        Sample {
            agent_id: "a1".into(),
            container_id: container.into(),
            framework_id: "f".into(),
            tasks: vec![format!("task-{container}")],
            stats: ResourceStatistics {
                timestamp: t,
                cpus_user_time_secs: Some(cpu),
                cpus_system_time_secs: Some(0.0),
                cpus_limit: Some(1.0),
                mem_total_bytes: Some(32 << 20),
                io_write_bytes: Some(written),
                ..ResourceStatistics::default()
            },
        }
    }

    #[test]
    fn rates_come_from_two_samples_of_the_same_container() {
        let prev = [sample("c1", 10.0, 1.0, 0), sample("c2", 10.0, 5.0, 0)];
        let now = [
            sample("c1", 12.0, 1.5, 0),
            sample("c2", 12.0, 6.8, 4096 * 2),
            sample("c3", 12.0, 0.1, 0),
        ];
        let rows = rows(&prev, &now);
        // c2 busiest (90%), then c1 (25%), then c3 (no previous sample).
        assert_eq!(rows[0]["container_id"], "c2");
        assert!((rows[0]["cpu_percent"].as_f64().unwrap() - 90.0).abs() < 1e-9);
        assert_eq!(rows[0]["io_write_bytes_per_sec"], 4096.0);
        assert!((rows[1]["cpu_percent"].as_f64().unwrap() - 25.0).abs() < 1e-9);
        assert!(rows[2]["cpu_percent"].is_null());
        let text = table(&rows);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .starts_with("task-c2  a1     90.0"),
            "{text}"
        );
        assert!(text.lines().nth(3).unwrap().contains("   -"), "{text}");
    }

    #[test]
    fn a_counter_going_back_is_a_new_container_not_a_negative_rate() {
        let rows = rows(&[sample("c1", 10.0, 9.0, 0)], &[sample("c1", 11.0, 1.0, 0)]);
        assert!(rows[0]["cpu_percent"].is_null());
    }

    #[test]
    fn the_masters_answer_is_read() {
        let body = br#"{"type":"GET_CONTAINERS","get_containers":{"containers":[
            {"agent_id":{"value":"a"},"framework_id":{"value":"f"},"executor_id":{"value":"t"},
             "container_id":{"value":"c"},"task_ids":[{"value":"t"}],
             "resource_statistics":{"timestamp":3.5,"cpus_limit":0.5}}]}}"#;
        let s = samples(body).unwrap();
        assert_eq!(s[0].tasks, vec!["t"]);
        assert_eq!(s[0].stats.cpus_limit, Some(0.5));
        assert!(samples(br#"{"type":"GET_CONTAINERS"}"#).is_err());
    }
}
