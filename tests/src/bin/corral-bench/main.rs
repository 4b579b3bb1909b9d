//! The container-start benchmark recorded in docs/BENCHMARKS.md. Inside the
//! VM it times the full lifecycle (create, start, wait, delete) of `true` in
//! a busybox bundle with memory, pids and cpu limits, for `corral oci`, crun
//! and runc (the same verbs, flags and wait for all three), and for the
//! corral-oci library in-process as the agent uses it; each round also times
//! a bare fork+exec of the same `true` and a `--version` of each command
//! line. Subjects are interleaved and their order rotates every round.
//! Prints (and with `--out` writes) markdown tables: median and p90 of each
//! lifecycle, the ratios the goals are stated in, and a per-verb breakdown.
//!
//! `corral-bench [--rounds N] [--warmup N] [--corral PATH] [--out FILE]
//! [--only KEY,...] [--set POINTER=JSON]...`; `--only` (keys fork-exec,
//! crun, runc, corral-oci, in-process, in-process-run) times a subset and `--set` edits the
//! spec (`--set /linux/namespaces/1='{"type":"uts"}'`), for finding out
//! where the time goes; the recorded benchmark uses neither.
//!
//! Run it through `tests/bench/oci-lifecycle`, which installs crun and runc,
//! builds it and boots the VM. Waiting on a container: the bench is a child
//! subreaper, so a CLI-created init (orphaned when the runtime exits) is its
//! child and `waitpid` sees it exit, exactly as for the in-process init.

mod cli;
mod inproc;
mod report;

use cli::{Cli, become_subreaper, cli, corral_path, find_in_path};
use corral_oci::Runtime;
use inproc::{in_process, in_process_run};
use report::report;
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Scratch folder (the VM's fresh tmpfs /run): bundle, state roots, pid files.
const WORK: &str = "/run/corral-bench";

/// The four timed verbs of a container lifecycle.
const VERBS: [&str; 4] = ["create", "start", "wait", "delete"];

#[derive(Debug)]
struct Options {
    rounds: usize,
    warmup: usize,
    corral: PathBuf,
    out: Option<PathBuf>,
    /// Keys of the subjects to time; all when None.
    only: Option<Vec<String>>,
    /// Spec edits: a JSON pointer and the JSON value to put there.
    set: Vec<(String, Value)>,
}

impl Options {
    fn wants(&self, s: Subject) -> bool {
        let key = s.names().0;
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|x| x == key))
    }
}

/// What one round times, in the order of the result tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    ForkExec,
    Crun,
    Runc,
    CorralCli,
    InProcess,
    InProcessRun,
}

const SUBJECTS: [Subject; 6] = [
    Subject::ForkExec,
    Subject::Crun,
    Subject::Runc,
    Subject::CorralCli,
    Subject::InProcess,
    Subject::InProcessRun,
];

impl Subject {
    /// Its `--only` key and its name in the tables.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Subject::ForkExec => ("fork-exec", "bare fork+exec of `true`"),
            Subject::Crun => ("crun", "crun"),
            Subject::Runc => ("runc", "runc"),
            Subject::CorralCli => ("corral-oci", "corral oci"),
            Subject::InProcess => ("in-process", "corral-oci library, in-process"),
            Subject::InProcessRun => (
                "in-process-run",
                "corral-oci library, in-process `run` (create+start in one call)",
            ),
        }
    }

    fn name(self) -> &'static str {
        self.names().1
    }
}

/// The ratios of medians reported: name, numerator, denominator, goal.
#[rustfmt::skip]
const RATIOS: [(&str, Subject, Subject, &str); 7] = [
    ("corral oci / crun", Subject::CorralCli, Subject::Crun, "goal ≤ 0.8"),
    ("in-process / fork+exec", Subject::InProcess, Subject::ForkExec, "goal ≤ 3"),
    ("in-process run / fork+exec", Subject::InProcessRun, Subject::ForkExec, "goal ≤ 3"),
    ("crun / runc", Subject::Crun, Subject::Runc, "issue: 1/2.4 = 0.42"),
    ("crun / fork+exec", Subject::Crun, Subject::ForkExec, "issue: about 10"),
    ("corral oci / runc", Subject::CorralCli, Subject::Runc, ""),
    ("in-process / crun", Subject::InProcess, Subject::Crun, ""),
];

/// Times of one run, one entry per timed step (one for fork+exec and
/// `--version`, four for a lifecycle).
type Sample = Vec<Duration>;

/// All samples, by subject, plus the `--version` times of each CLI.
#[derive(Debug, Default)]
struct Results {
    lifecycle: Vec<(Subject, Sample)>,
    version: Vec<(Subject, Duration)>,
}

fn main() {
    corral_tests::vm::require();
    let opts = parse_args();
    if let Err(e) = run(&opts) {
        eprintln!("corral-bench: {e}");
        std::process::exit(1);
    }
}

fn parse_args() -> Options {
    let mut o = Options {
        rounds: 100,
        warmup: 3,
        corral: PathBuf::from("target/release/corral"),
        out: None,
        only: None,
        set: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--rounds" => o.rounds = val().parse().unwrap_or_else(|_| usage("--rounds N")),
            "--warmup" => o.warmup = val().parse().unwrap_or_else(|_| usage("--warmup N")),
            "--corral" => o.corral = PathBuf::from(val()),
            "--out" => o.out = Some(PathBuf::from(val())),
            "--only" => o.only = Some(val().split(',').map(str::to_string).collect()),
            "--set" => o.set.push(spec_edit(&val())),
            _ => usage(&format!("unknown argument {a}")),
        }
    }
    if o.rounds == 0 {
        usage("--rounds must be at least 1");
    }
    o
}

fn spec_edit(arg: &str) -> (String, Value) {
    let (pointer, json) = arg
        .split_once('=')
        .unwrap_or_else(|| usage("--set POINTER=JSON"));
    let value = serde_json::from_str(json)
        .unwrap_or_else(|e| usage(&format!("--set {pointer}: not JSON: {e}")));
    (pointer.to_string(), value)
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "corral-bench: {problem}\nusage: corral-bench [--rounds N] [--warmup N] [--corral PATH] [--out FILE] \
         [--only KEY,...] [--set POINTER=JSON]..."
    );
    std::process::exit(2)
}

fn run(opts: &Options) -> Result<(), String> {
    let work = Path::new(WORK);
    let _ = fs::remove_dir_all(work);
    fs::create_dir_all(work.join("pids")).map_err(|e| format!("creating {WORK}: {e}"))?;
    let bundle = make_bundle(&work.join("bundle"), &opts.set)?;
    let clis = [
        cli(work, Subject::Crun, find_in_path("crun")?, &[])?,
        cli(work, Subject::Runc, find_in_path("runc")?, &[])?,
        cli(work, Subject::CorralCli, corral_path(opts)?, &["oci"])?,
    ];
    become_subreaper()?;
    let results = measure(opts, &bundle, &clis)?;
    let report = report(opts, &clis, &results);
    print!("{report}");
    if let Some(out) = &opts.out {
        fs::write(out, &report).map_err(|e| format!("writing {}: {e}", out.display()))?;
    }
    Ok(())
}

/// The warm-up and measured rounds; returns the measured samples.
fn measure(opts: &Options, bundle: &Path, clis: &[(Subject, Cli)]) -> Result<Results, String> {
    let runtime = Runtime::new(Path::new(WORK).join("root-lib"), "/sys/fs/cgroup");
    let truth = bundle.join("rootfs/bin/true");
    let mut results = Results::default();
    let mut scratch = Results::default();
    for round in 0..opts.warmup + opts.rounds {
        let measured = round >= opts.warmup;
        let into = if measured { &mut results } else { &mut scratch };
        for k in 0..SUBJECTS.len() {
            let subject = SUBJECTS[(round + k) % SUBJECTS.len()];
            if !opts.wants(subject) {
                continue;
            }
            let id = format!("bench-{round}");
            let sample = match clis.iter().find(|(s, _)| *s == subject) {
                Some((_, c)) => {
                    into.version
                        .push((subject, timed(c.command(&["--version"]))?));
                    c.lifecycle(bundle, &id)?
                }
                None if subject == Subject::ForkExec => vec![timed(Command::new(&truth))?],
                None if subject == Subject::InProcess => in_process(&runtime, bundle, &id)?,
                None => in_process_run(&runtime, bundle, &id)?,
            };
            into.lifecycle.push((subject, sample));
        }
        if measured && (round + 1 - opts.warmup).is_multiple_of(10) {
            eprintln!(
                "corral-bench: round {}/{}",
                round + 1 - opts.warmup,
                opts.rounds
            );
        }
    }
    Ok(results)
}

/// The bundle: busybox as /bin/true and /bin/sh, corral's default spec
/// running `true` with memory.max 64 MiB, pids.max 64 and cpu.max 50000/100000.
fn make_bundle(dir: &Path, edits: &[(String, Value)]) -> Result<PathBuf, String> {
    let io = |what: &str, p: &Path| {
        let what = format!("{what} {}", p.display());
        move |e: std::io::Error| format!("{what}: {e}")
    };
    let bin = dir.join("rootfs/bin");
    fs::create_dir_all(&bin).map_err(io("creating", &bin))?;
    for d in ["proc", "dev", "sys", "tmp", "etc"] {
        let p = dir.join("rootfs").join(d);
        fs::create_dir_all(&p).map_err(io("creating", &p))?;
    }
    fs::copy("/bin/busybox", bin.join("busybox"))
        .map_err(io("copying /bin/busybox (package busybox-static) to", &bin))?;
    for applet in ["true", "sh"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet))
            .map_err(io("linking", &bin.join(applet)))?;
    }
    let mut spec: Value =
        serde_json::from_str(corral_oci::spec::DEFAULT_SPEC).map_err(|e| e.to_string())?;
    spec["process"]["args"] = json!(["true"]);
    spec["process"]["env"] = json!(["PATH=/bin"]);
    spec["linux"]["resources"]["memory"] = json!({ "limit": 64 << 20 });
    spec["linux"]["resources"]["pids"] = json!({ "limit": 64 });
    spec["linux"]["resources"]["cpu"] = json!({ "quota": 50000, "period": 100000 });
    for (pointer, value) in edits {
        *spec
            .pointer_mut(pointer)
            .ok_or_else(|| format!("--set: no {pointer} in the spec"))? = value.clone();
    }
    let config = dir.join("config.json");
    let text = serde_json::to_vec_pretty(&spec).map_err(|e| e.to_string())?;
    fs::write(&config, text).map_err(io("writing", &config))?;
    Ok(dir.to_path_buf())
}

/// Runs `cmd` with stdio on /dev/null; how long it took (it must succeed).
fn timed(mut cmd: Command) -> Result<Duration, String> {
    let what = format!("{:?}", cmd);
    let t = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("running {what}: {e}"))?;
    let d = t.elapsed();
    match status.success() {
        true => Ok(d),
        false => Err(format!("{what} failed: {status}")),
    }
}
