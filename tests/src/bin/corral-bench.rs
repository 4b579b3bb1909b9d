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
//! crun, runc, corral-oci, in-process) times a subset and `--set` edits the
//! spec (`--set /linux/namespaces/1='{"type":"uts"}'`), for finding out
//! where the time goes; the recorded benchmark uses neither.
//!
//! Run it through `tests/bench/oci-lifecycle`, which installs crun and runc,
//! builds it and boots the VM. Waiting on a container: the bench is a child
//! subreaper, so a CLI-created init (orphaned when the runtime exits) is its
//! child and `waitpid` sees it exit, exactly as for the in-process init.

use corral_oci::{ContainerId, CreateOptions, Runtime};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::fs::{self, File};
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
}

const SUBJECTS: [Subject; 5] = [
    Subject::ForkExec,
    Subject::Crun,
    Subject::Runc,
    Subject::CorralCli,
    Subject::InProcess,
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
        }
    }

    fn name(self) -> &'static str {
        self.names().1
    }
}

/// The ratios of medians reported: name, numerator, denominator, goal.
#[rustfmt::skip]
const RATIOS: [(&str, Subject, Subject, &str); 6] = [
    ("corral oci / crun", Subject::CorralCli, Subject::Crun, "goal ≤ 0.8"),
    ("in-process / fork+exec", Subject::InProcess, Subject::ForkExec, "goal ≤ 3"),
    ("crun / runc", Subject::Crun, Subject::Runc, "issue: 1/2.4 = 0.42"),
    ("crun / fork+exec", Subject::Crun, Subject::ForkExec, "issue: about 10"),
    ("corral oci / runc", Subject::CorralCli, Subject::Runc, ""),
    ("in-process / crun", Subject::InProcess, Subject::Crun, ""),
];

/// A runc-style command line driven through `create`, `start`, `delete`.
#[derive(Debug)]
struct Cli {
    program: PathBuf,
    /// Arguments before the global flags (`oci` for corral).
    prefix: Vec<String>,
    root: PathBuf,
    /// Where the runtime's (and its containers') stderr goes.
    log: File,
    log_path: PathBuf,
}

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
                None => in_process(&runtime, bundle, &id)?,
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

fn cli(
    work: &Path,
    s: Subject,
    program: PathBuf,
    prefix: &[&str],
) -> Result<(Subject, Cli), String> {
    let name = s.names().0;
    let log_path = work.join(format!("{name}.log"));
    let log =
        File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let prefix = prefix.iter().map(|s| s.to_string()).collect();
    let root = work.join(format!("root-{name}"));
    Ok((
        s,
        Cli {
            program,
            prefix,
            root,
            log,
            log_path,
        },
    ))
}

fn find_in_path(name: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} is not installed: apt-get install {name}"))
}

fn corral_path(opts: &Options) -> Result<PathBuf, String> {
    fs::canonicalize(&opts.corral).map_err(|e| {
        format!(
            "{}: {e}: build it with `cargo build --release --bin corral`",
            opts.corral.display()
        )
    })
}

fn become_subreaper() -> Result<(), String> {
    // SAFETY: plain prctl with integer arguments.
    let ret = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if ret != 0 {
        return Err(format!(
            "prctl(PR_SET_CHILD_SUBREAPER): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

impl Cli {
    /// `PROGRAM [oci] ARGS`.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.prefix).args(args);
        c
    }

    /// `PROGRAM [oci] --root ROOT ARGS`, stdin and stdout /dev/null, stderr
    /// to the log file (a created init inherits them: never a pipe).
    fn call(&self, args: &[&str]) -> Result<(), String> {
        let log = self
            .log
            .try_clone()
            .map_err(|e| format!("dup of log: {e}"))?;
        let status = self
            .command(&["--root", &self.root.to_string_lossy()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .status()
            .map_err(|e| format!("running {}: {e}", self.program.display()))?;
        if status.success() {
            return Ok(());
        }
        let log = fs::read_to_string(&self.log_path).unwrap_or_default();
        let tail = log.get(log.len().saturating_sub(2000)..).unwrap_or(&log);
        Err(format!(
            "{} {} {args:?} failed ({status}); its stderr:\n{tail}",
            self.program.display(),
            self.prefix.join(" ")
        ))
    }

    /// create (with --pid-file), start, wait for the init, delete.
    fn lifecycle(&self, bundle: &Path, id: &str) -> Result<Sample, String> {
        let pid_file = Path::new(WORK).join("pids").join(id);
        let (b, p) = (bundle.to_string_lossy(), pid_file.to_string_lossy());
        let t0 = Instant::now();
        self.call(&["create", "--bundle", &b, "--pid-file", &p, id])?;
        let pid = read_pid(&pid_file);
        let t1 = Instant::now();
        let pid = pid.inspect_err(|_| self.cleanup(id))?;
        self.call(&["start", id])
            .inspect_err(|_| self.cleanup(id))?;
        let t2 = Instant::now();
        let code = wait_child(pid).inspect_err(|_| self.cleanup(id))?;
        let t3 = Instant::now();
        self.call(&["delete", id])?;
        let t4 = Instant::now();
        let _ = fs::remove_file(&pid_file);
        exited_zero(id, code)?;
        Ok(vec![t1 - t0, t2 - t1, t3 - t2, t4 - t3])
    }

    fn cleanup(&self, id: &str) {
        let _ = self.call(&["delete", "--force", id]);
    }
}

fn read_pid(file: &Path) -> Result<i32, String> {
    let text = fs::read_to_string(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{}: not a pid: {text:?}", file.display()))
}

/// The in-process lifecycle through the library, as the agent runs it: the
/// init is this process's child.
fn in_process(rt: &Runtime, bundle: &Path, id: &str) -> Result<Sample, String> {
    let cid = ContainerId::new(id).map_err(|e| e.to_string())?;
    let fail =
        |verb: &'static str| move |e: corral_oci::RuntimeError| format!("in-process {verb}: {e}");
    let t0 = Instant::now();
    let state = rt
        .create(&cid, bundle, &CreateOptions::default())
        .map_err(fail("create"))?;
    let t1 = Instant::now();
    rt.start(&cid).map_err(fail("start"))?;
    let t2 = Instant::now();
    let code = wait_child(state.pid)?;
    let t3 = Instant::now();
    rt.delete(&cid, false).map_err(fail("delete"))?;
    let t4 = Instant::now();
    exited_zero(id, code)?;
    Ok(vec![t1 - t0, t2 - t1, t3 - t2, t4 - t3])
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

/// Waits for `pid` (our child, or an orphan we inherited as subreaper),
/// reaping any other orphan on the way; returns its wait status.
fn wait_child(pid: i32) -> Result<i32, String> {
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        let got = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if got == pid {
            return Ok(status);
        }
        if got == -1 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(format!("waiting for container init {pid}: {e}"));
            }
        }
    }
}

fn exited_zero(id: &str, status: i32) -> Result<(), String> {
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    Err(format!(
        "container {id}: `true` did not exit 0 (wait status {status:#x})"
    ))
}

/// The `p`-quantile (0..=1) of `xs` by nearest rank, in ms (NaN if empty).
fn quantile(xs: &[Duration], p: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// Total lifecycle times of `s`.
fn totals(r: &Results, s: Subject) -> Vec<Duration> {
    let of = r.lifecycle.iter().filter(|(x, _)| *x == s);
    of.map(|(_, v)| v.iter().sum()).collect()
}

/// Times of verb `i` of `s`.
fn verb(r: &Results, s: Subject, i: usize) -> Vec<Duration> {
    let of = r.lifecycle.iter().filter(|(x, _)| *x == s);
    of.map(|(_, v)| v[i]).collect()
}

fn report(opts: &Options, clis: &[(Subject, Cli)], r: &Results) -> String {
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

fn header(out: &mut String, opts: &Options, clis: &[(Subject, Cli)]) {
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

fn per_verb(out: &mut String, r: &Results) {
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
            let _ = write!(out, " {} |", cell(&verb(r, *s, i)));
        }
        out.push('\n');
    }
}
