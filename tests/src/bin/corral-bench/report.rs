//! The markdown tables: medians and p90 of each lifecycle, the ratios the
//! goals are stated in, and the per-verb breakdown.

use super::cli::Cli;
use super::{Options, RATIOS, Results, SUBJECTS, Subject, VERBS};
use std::fmt::Write as _;
use std::fs;
use std::time::Duration;

/// The `p`-quantile (0..=1) of `xs` by nearest rank, in ms (NaN if empty).
pub(crate) fn quantile(xs: &[Duration], p: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// Total lifecycle times of `s`.
pub(crate) fn totals(r: &Results, s: Subject) -> Vec<Duration> {
    let of = r.lifecycle.iter().filter(|(x, _)| *x == s);
    of.map(|(_, v)| v.iter().sum()).collect()
}

/// Times of verb `i` of `s`.
pub(crate) fn verb(r: &Results, s: Subject, i: usize) -> Vec<Duration> {
    let of = r.lifecycle.iter().filter(|(x, _)| *x == s);
    of.map(|(_, v)| v[i]).collect()
}

pub(crate) fn report(opts: &Options, clis: &[(Subject, Cli)], r: &Results) -> String {
    let mut out = String::new();
    header(&mut out, opts, clis);
    let median = |s| quantile(&totals(r, s), 0.5);
    out.push_str("\n| lifecycle of `true` | median ms | p90 ms |\n|---|---:|---:|\n");
    for s in SUBJECTS {
        let t = totals(r, s);
        if t.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:.2} |",
            s.name(),
            quantile(&t, 0.5),
            quantile(&t, 0.9)
        );
    }
    out.push_str("\n| ratio of medians | value | goal or reference |\n|---|---:|---|\n");
    for (name, a, b, goal) in RATIOS {
        let _ = writeln!(out, "| {name} | {:.2} | {goal} |", median(a) / median(b));
    }
    per_verb(&mut out, r);
    out
}

pub(crate) fn header(out: &mut String, opts: &Options, clis: &[(Subject, Cli)]) {
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(
        out,
        "{} rounds (+{} warm-up), subjects interleaved, order rotated each round; \
         guest kernel {}, {cpus} vCPUs; {}.",
        opts.rounds,
        opts.warmup,
        kernel.trim(),
        corral_oci::state::rfc3339_now()
    );
    for (pointer, value) in &opts.set {
        let _ = writeln!(out, "- spec edited: `{pointer}` = `{value}`");
    }
    for (_, c) in clis {
        let v = c.command(&["--version"]).output().map(|o| o.stdout);
        let v = String::from_utf8(v.unwrap_or_default()).unwrap_or_default();
        let v = v.lines().next().unwrap_or("");
        let _ = writeln!(out, "- `{}`: {v}", c.program.display());
    }
}

pub(crate) fn per_verb(out: &mut String, r: &Results) {
    out.push_str("\nPer step, median ms (p90):\n\n| runtime | `--version` alone |");
    for v in VERBS {
        let _ = write!(out, " {v} |");
    }
    out.push_str("\n|---|---:|---:|---:|---:|---:|\n");
    let cell = |xs: &[Duration]| format!("{:.2} ({:.2})", quantile(xs, 0.5), quantile(xs, 0.9));
    for s in &SUBJECTS[1..] {
        if totals(r, *s).is_empty() {
            continue;
        }
        let versions: Vec<Duration> = r
            .version
            .iter()
            .filter(|(x, _)| x == s)
            .map(|(_, d)| *d)
            .collect();
        let v = if versions.is_empty() {
            "–".into()
        } else {
            cell(&versions)
        };
        let _ = write!(out, "| {} | {v} |", s.name());
        for i in 0..VERBS.len() {
            // `run` creates and starts in one call: its time is under create.
            match (*s, i) {
                (Subject::InProcessRun, 1) => out.push_str(" (in create) |"),
                _ => {
                    let _ = write!(out, " {} |", cell(&verb(r, *s, i)));
                }
            }
        }
        out.push('\n');
    }
}
