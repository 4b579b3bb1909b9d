//! The markdown report: latency quantiles (nearest rank) and rates of each
//! launch phase, the `crun run` times beside them, the agent's memory, and
//! what the run checked (failures, acknowledgements, leftovers).

use super::cluster::Rss;
use super::framework::{PhaseResult, Stamps};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Everything measured in one run.
#[derive(Debug)]
pub(crate) struct Measured {
    /// Lines describing the setup, each a list item.
    pub(crate) setup: Vec<String>,
    pub(crate) truth: PhaseResult,
    pub(crate) sleepers: PhaseResult,
    /// `crun run` times of the same command.
    pub(crate) crun: Vec<Duration>,
    /// Agent RSS: idle, with the sleepers running, after they were killed.
    pub(crate) idle: Rss,
    pub(crate) loaded: Rss,
    pub(crate) after: Rss,
    /// Container cgroups and their memory.current summed, sleepers running.
    pub(crate) containers: (usize, u64),
    /// Notes: failures, leftovers, acknowledgements.
    pub(crate) checks: Vec<String>,
}

/// The `p`-quantile (0..=1) by nearest rank, in ms (NaN if empty).
pub(crate) fn quantile(xs: &[Duration], p: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// ACCEPT → STARTING of each task that has a STARTING.
fn to_starting(r: &PhaseResult) -> Vec<Duration> {
    let of = r.tasks.iter().filter_map(|s| Some(s.starting? - s.accept));
    of.collect()
}

/// ACCEPT → RUNNING of each task that has a RUNNING.
fn to_running(r: &PhaseResult) -> Vec<Duration> {
    let of = r.tasks.iter().filter_map(|s| Some(s.running? - s.accept));
    of.collect()
}

/// ACCEPT → its terminal update, for tasks that ended.
fn to_end(r: &PhaseResult) -> Vec<Duration> {
    let of = r.tasks.iter().filter_map(|s| Some(s.ended?.0 - s.accept));
    of.collect()
}

/// Tasks per second from the first ACCEPT to the last `stamp`.
fn rate(r: &PhaseResult, stamp: impl Fn(&Stamps) -> Option<Instant>) -> f64 {
    let first = r.tasks.iter().map(|s| s.accept).min();
    let last = r.tasks.iter().filter_map(&stamp).max();
    let n = r.tasks.iter().filter(|s| stamp(s).is_some()).count();
    match (first, last) {
        (Some(f), Some(l)) if l > f => n as f64 / (l - f).as_secs_f64(),
        _ => f64::NAN,
    }
}

fn row(out: &mut String, what: &str, xs: &[Duration], rate: f64) {
    let max = xs.iter().max().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    let _ = writeln!(
        out,
        "| {what} | {} | {:.1} | {:.1} | {max:.1} | {rate:.2} |",
        xs.len(),
        quantile(xs, 0.5),
        quantile(xs, 0.99)
    );
}

pub(crate) fn report(m: &Measured, batch: usize) -> String {
    let mut out = String::new();
    for line in &m.setup {
        let _ = writeln!(out, "- {line}");
    }
    out.push_str(
        "\n| measured at the framework | tasks | p50 ms | p99 ms | max ms | tasks/s |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    let (t, s) = (&m.truth, &m.sleepers);
    let b = format!("batches of ≤ {batch}");
    let running = |s: &Stamps| s.running;
    let ended = |s: &Stamps| s.ended.map(|e| e.0);
    let starting = |s: &Stamps| s.starting;
    row(
        &mut out,
        "`true`: ACCEPT → TASK_STARTING",
        &to_starting(t),
        rate(t, starting),
    );
    row(
        &mut out,
        &format!("`true`: ACCEPT → TASK_RUNNING ({b}, {} ACCEPTs)", t.accepts),
        &to_running(t),
        rate(t, running),
    );
    row(
        &mut out,
        "`true`: ACCEPT → TASK_FINISHED",
        &to_end(t),
        rate(t, ended),
    );
    row(
        &mut out,
        &format!(
            "`sleep 600`: ACCEPT → TASK_RUNNING ({b}, {} ACCEPTs)",
            s.accepts
        ),
        &to_running(s),
        rate(s, running),
    );
    let total: Duration = m.crun.iter().sum();
    let crun_rate = m.crun.len() as f64 / total.as_secs_f64();
    row(
        &mut out,
        "`crun run` of `sh -c true`, one after another (spawn → exit)",
        &m.crun,
        crun_rate,
    );
    let ratio = |a: &[Duration], p| quantile(a, p) / quantile(&m.crun, p);
    let _ = writeln!(
        out,
        "\n| ratio | p50 | p99 |\n|---|---:|---:|\n\
         | `true` ACCEPT → RUNNING / `crun run` | {:.2} | {:.2} |\n\
         | `true` ACCEPT → FINISHED / `crun run` | {:.2} | {:.2} |",
        ratio(&to_running(t), 0.5),
        ratio(&to_running(t), 0.99),
        ratio(&to_end(t), 0.5),
        ratio(&to_end(t), 0.99),
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    let _ = writeln!(
        out,
        "\n| agent memory (`/proc/PID/status`) | VmRSS MiB | VmHWM MiB |\n|---|---:|---:|\n\
         | idle after start (registered, no task yet) | {:.1} | {:.1} |\n\
         | {} `sleep 600` tasks RUNNING | {:.1} | {:.1} |\n\
         | after they were killed and removed | {:.1} | {:.1} |",
        mib(m.idle.rss_kib),
        mib(m.idle.hwm_kib),
        s.tasks.len(),
        mib(m.loaded.rss_kib),
        mib(m.loaded.hwm_kib),
        mib(m.after.rss_kib),
        mib(m.after.hwm_kib),
    );
    let (n, bytes) = m.containers;
    let _ = writeln!(
        out,
        "\nWith the sleepers running: {n} container cgroups, memory.current summed \
         {:.1} MiB ({:.2} MiB per task: executor, shell, sleep, kernel memory).",
        bytes as f64 / (1 << 20) as f64,
        bytes as f64 / (1 << 20) as f64 / n.max(1) as f64
    );
    if !m.checks.is_empty() {
        out.push('\n');
        for c in &m.checks {
            let _ = writeln!(out, "- {c}");
        }
    }
    out
}
