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
    /// `true`, one task at a time.
    pub(crate) serial: PhaseResult,
    /// `true`, in batches.
    pub(crate) truth: PhaseResult,
    pub(crate) sleepers: PhaseResult,
    /// `crun run` times of the same command.
    pub(crate) crun: Vec<Duration>,
    /// Agent RSS idle (registered, no task yet).
    pub(crate) idle: Rss,
    /// Each cycle of sleepers launched, running, killed and removed.
    pub(crate) cycles: Vec<Cycle>,
    /// Notes: failures, leftovers, acknowledgements.
    pub(crate) checks: Vec<String>,
}

/// One cycle of `sleep 600` tasks.
#[derive(Debug)]
pub(crate) struct Cycle {
    /// Agent RSS with all of them running, and after they were killed and
    /// their containers removed.
    pub(crate) loaded: Rss,
    pub(crate) after: Rss,
    /// Container cgroups and their memory.current summed, all running.
    pub(crate) containers: (usize, u64),
}

/// One line of the latency table: its name, the phase, which durations,
/// which stamp ends the rate.
type Row<'a> = (
    String,
    &'a PhaseResult,
    fn(&PhaseResult) -> Vec<Duration>,
    &'a dyn Fn(&Stamps) -> Option<Instant>,
);

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
fn rate(r: &PhaseResult, stamp: &dyn Fn(&Stamps) -> Option<Instant>) -> f64 {
    let first = r.tasks.iter().map(|s| s.accept).min();
    let last = r.tasks.iter().filter_map(stamp).max();
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
    let (o, t, s) = (&m.serial, &m.truth, &m.sleepers);
    let b = format!("batches of ≤ {batch}");
    let starting = |s: &Stamps| s.starting;
    let running = |s: &Stamps| s.running;
    let ended = |s: &Stamps| s.ended.map(|e| e.0);
    let one = "`true` one at a time";
    let rows: [Row; 7] = [
        (
            format!("{one}: ACCEPT → TASK_STARTING"),
            o,
            to_starting,
            &starting,
        ),
        (
            format!("{one}: ACCEPT → TASK_RUNNING"),
            o,
            to_running,
            &running,
        ),
        (format!("{one}: ACCEPT → TASK_FINISHED"), o, to_end, &ended),
        (
            "`true` in batches: ACCEPT → TASK_STARTING".into(),
            t,
            to_starting,
            &starting,
        ),
        (
            format!(
                "`true` in {b} ({} ACCEPTs): ACCEPT → TASK_RUNNING",
                t.accepts
            ),
            t,
            to_running,
            &running,
        ),
        (
            "`true` in batches: ACCEPT → TASK_FINISHED".into(),
            t,
            to_end,
            &ended,
        ),
        (
            format!(
                "`sleep 600` in {b} ({} ACCEPTs): ACCEPT → TASK_RUNNING",
                s.accepts
            ),
            s,
            to_running,
            &running,
        ),
    ];
    for (what, r, times, stamp) in rows {
        row(&mut out, &what, &times(r), rate(r, stamp));
    }
    let total: Duration = m.crun.iter().sum();
    let crun_rate = m.crun.len() as f64 / total.as_secs_f64();
    row(
        &mut out,
        "`crun run` of `sh -c true`, one after another (spawn → exit)",
        &m.crun,
        crun_rate,
    );
    let ratio = |a: &[Duration], p| quantile(a, p) / quantile(&m.crun, p);
    out.push_str("\n| ratio to `crun run` | p50 | p99 |\n|---|---:|---:|\n");
    for (what, xs) in [
        ("one at a time: ACCEPT → RUNNING", to_running(o)),
        ("one at a time: ACCEPT → FINISHED", to_end(o)),
        ("in batches: ACCEPT → RUNNING", to_running(t)),
        ("in batches: ACCEPT → FINISHED", to_end(t)),
    ] {
        let _ = writeln!(
            out,
            "| `true` {what} | {:.2} | {:.2} |",
            ratio(&xs, 0.5),
            ratio(&xs, 0.99)
        );
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    let _ = writeln!(
        out,
        "\n| agent memory (`/proc/PID/status`) | VmRSS MiB | VmHWM MiB |\n|---|---:|---:|\n\
         | idle after start (registered, no task yet) | {:.1} | {:.1} |",
        mib(m.idle.rss_kib),
        mib(m.idle.hwm_kib),
    );
    for (i, c) in m.cycles.iter().enumerate() {
        let _ = writeln!(
            out,
            "| cycle {}: {} `sleep 600` tasks RUNNING | {:.1} | {:.1} |\n\
             | cycle {}: after they were killed and removed | {:.1} | {:.1} |",
            i + 1,
            s.tasks.len(),
            mib(c.loaded.rss_kib),
            mib(c.loaded.hwm_kib),
            i + 1,
            mib(c.after.rss_kib),
            mib(c.after.hwm_kib),
        );
    }
    for (i, c) in m.cycles.iter().enumerate() {
        let (n, bytes) = c.containers;
        let _ = writeln!(
            out,
            "\nCycle {}, the sleepers running: {n} container cgroups, memory.current summed \
             {:.1} MiB ({:.2} MiB per task: executor, shell, sleep, kernel memory).",
            i + 1,
            bytes as f64 / (1 << 20) as f64,
            bytes as f64 / (1 << 20) as f64 / n.max(1) as f64
        );
    }
    if !m.checks.is_empty() {
        out.push('\n');
        for c in &m.checks {
            let _ = writeln!(out, "- {c}");
        }
    }
    out
}
