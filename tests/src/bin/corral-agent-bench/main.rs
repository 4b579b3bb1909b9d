//! The agent's launch benchmark recorded in docs/BENCHMARKS.md ("The
//! agent"). Inside the VM it starts a real `corral master` and one real
//! `corral agent`, subscribes a framework and:
//!
//! 1. reads the agent's RSS idle (registered, no task yet);
//! 2. launches N command tasks `true` one at a time (the next once the last
//!    ended), then N in batches as offers allow, and stamps, at the
//!    framework, ACCEPT sent → TASK_STARTING, → TASK_RUNNING and →
//!    TASK_FINISHED received (every update acknowledged);
//! 3. times N `crun run` of `sh -c true` in a comparable bundle, one after
//!    another, so the agent's per-task cost reads against a bare runtime's;
//! 4. launches N tasks `sleep 600` the same way, reads the agent's RSS and
//!    the tasks' cgroup memory with all N running, kills them, waits until
//!    their containers are removed and reads the RSS again; this cycle is
//!    run `--cycles` times (3), so memory the agent keeps per task shows
//!    as growth from one cycle to the next.
//!
//! `corral-agent-bench [--tasks N] [--batch N] [--warmup N] [--cycles N]
//! [--corral PATH] [--out FILE]`; run it through `tests/bench/agent-launch`, which builds
//! it, waits until the machine is idle and boots the VM. Everything it
//! starts is killed on the way out: the agent (its cgroup subtree with
//! every task left in it killed and removed), the master, the crun
//! containers (`crun run` deletes its own; a failed one is force-deleted).

mod cluster;
mod crun;
mod framework;
mod report;

use cluster::{Agent, rss};
use corral_tests::master::MasterProcess;
use framework::{Framework, Phase, Size};
use report::{Cycle, Measured, report};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Scratch folder (the VM's fresh tmpfs /run): the crun bundle and root.
const WORK: &str = "/run/corral-agent-bench";
/// Each task's resources, as small as the memory isolator allows (32 MiB).
/// The agent runs with `--cgroups-enable-cfs=false` (Mesos' default): cpus
/// become cpu.weight only; with cpu.max at 0.1 CPU the emulated VM spends
/// most of a launch throttled, in the agent's container and in crun's.
const SIZE: Size = Size {
    cpus: 0.1,
    mem: 32.0,
};
/// The master's allocation interval (Mesos' default is 1 s).
const ALLOCATION_INTERVAL: &str = "100ms";
/// The agent's flags beyond its master, cgroup root and resources.
const AGENT_FLAGS: [&str; 2] = ["--cgroups-enable-cfs", "false"];
/// Longest wait for one phase: the VM is emulated.
const PHASE_TIMEOUT: Duration = Duration::from_secs(900);
/// Let the agent settle before reading its RSS.
const SETTLE: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct Options {
    tasks: usize,
    batch: usize,
    warmup: usize,
    cycles: usize,
    corral: PathBuf,
    out: Option<PathBuf>,
}

fn main() {
    corral_tests::vm::require();
    let opts = parse_args();
    match run(&opts) {
        Ok(text) => {
            print!("{text}");
            if let Some(out) = &opts.out
                && let Err(e) = fs::write(out, &text)
            {
                eprintln!("corral-agent-bench: writing {}: {e}", out.display());
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("corral-agent-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn parse_args() -> Options {
    let mut o = Options {
        tasks: 100,
        batch: 10,
        warmup: 3,
        cycles: 3,
        corral: PathBuf::from("target/release/corral"),
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        let mut count = |what: &str| -> usize {
            val()
                .parse()
                .unwrap_or_else(|_| usage(&format!("{what} N")))
        };
        match a.as_str() {
            "--tasks" => o.tasks = count("--tasks"),
            "--batch" => o.batch = count("--batch"),
            "--warmup" => o.warmup = count("--warmup"),
            "--cycles" => o.cycles = count("--cycles"),
            "--corral" => o.corral = PathBuf::from(val()),
            "--out" => o.out = Some(PathBuf::from(val())),
            _ => usage(&format!("unknown argument {a}")),
        }
    }
    if o.tasks == 0 || o.batch == 0 || o.cycles == 0 {
        usage("--tasks, --batch and --cycles must be at least 1");
    }
    o
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "corral-agent-bench: {problem}\nusage: corral-agent-bench [--tasks N] [--batch N] \
         [--warmup N] [--cycles N] [--corral PATH] [--out FILE]"
    );
    std::process::exit(2)
}

/// Starts the cluster, measures, tears everything down, checks that
/// nothing is left; returns the report.
fn run(opts: &Options) -> Result<String, String> {
    let corral = fs::canonicalize(&opts.corral).map_err(|e| {
        format!(
            "{}: {e}: build it with `cargo build --release --bin corral`",
            opts.corral.display()
        )
    })?;
    let crun = crun::find_in_path("crun")?;
    let work = Path::new(WORK);
    fs::create_dir_all(work).map_err(|e| format!("creating {WORK}: {e}"))?;
    let bundle = crun::bundle(&work.join("bundle"), "true", SIZE)?;
    let master =
        MasterProcess::start_with(&corral, &["--allocation-interval", ALLOCATION_INTERVAL]);
    let n = opts.tasks as f64;
    let resources = format!(
        "cpus:{};mem:{};disk:1024",
        n * SIZE.cpus + 2.0,
        n * SIZE.mem + 512.0
    );
    let agent = Agent::start(&corral, &master.host_port(), &resources, &AGENT_FLAGS);
    let mut fw = Framework::subscribe(&master.url(), SIZE);
    let measured = measure(opts, &agent, &mut fw, &crun, &bundle);
    let acks = fw.stop_acker();
    let agent_log = measured.as_ref().err().map(|_| agent.log_tail(3000));
    drop(fw);
    drop(agent);
    drop(master);
    let _ = fs::remove_dir_all(work);
    let mut m = match (measured, agent_log) {
        (Ok(m), _) => m,
        (Err(e), log) => {
            return Err(format!(
                "{e}\nthe agent's log, last lines:\n{}",
                log.unwrap_or_default()
            ));
        }
    };
    m.setup.push(format!(
        "resources offered by the agent: `{resources}`; agent `{}`; master `--allocation-interval {ALLOCATION_INTERVAL}`", AGENT_FLAGS.join(" ")));
    m.checks.push(match acks {
        Ok(n) => format!("acknowledgements sent: {n}, each answered 202"),
        Err(e) => format!("ACKNOWLEDGE FAILED: {e}"),
    });
    m.checks.push(leftovers(&corral));
    Ok(report(&m, opts.batch))
}

/// The phases, in order (module doc).
fn measure(
    opts: &Options,
    agent: &Agent,
    fw: &mut Framework,
    crun: &Path,
    bundle: &Path,
) -> Result<Measured, String> {
    let phase = |name, cmd, count, until_running| Phase {
        name,
        cmd,
        count,
        batch: opts.batch,
        until_running,
        serial: false,
    };
    fw.wait_registered(PHASE_TIMEOUT)?;
    std::thread::sleep(SETTLE);
    let idle = rss(agent.pid())?;
    eprintln!(
        "corral-agent-bench: agent registered; {} warm-up tasks",
        opts.warmup
    );
    if opts.warmup > 0 {
        fw.run(&phase("warmup", "true", opts.warmup, false), PHASE_TIMEOUT)?;
    }
    eprintln!(
        "corral-agent-bench: {} tasks `true`, one at a time",
        opts.tasks
    );
    let serial = Phase {
        serial: true,
        ..phase("one", "true", opts.tasks, false)
    };
    let serial = fw.run(&serial, PHASE_TIMEOUT)?;
    eprintln!(
        "corral-agent-bench: {} tasks `true`, in batches",
        opts.tasks
    );
    let truth = fw.run(&phase("true", "true", opts.tasks, false), PHASE_TIMEOUT)?;
    eprintln!("corral-agent-bench: {} `crun run`", opts.tasks);
    let crun_times = crun::run_times(crun, Path::new(WORK), bundle, opts.warmup, opts.tasks)?;
    let mut checks = Vec::new();
    let mut cycles = Vec::new();
    let mut first = None;
    for cycle in 1..=opts.cycles {
        eprintln!(
            "corral-agent-bench: cycle {cycle}: {} tasks `sleep 600`",
            opts.tasks
        );
        // Task ids must not repeat: each cycle names its own.
        let name = format!("sleep{cycle}-");
        let sleep = Phase {
            name: &name,
            cmd: "sleep 600",
            count: opts.tasks,
            batch: opts.batch,
            until_running: true,
            serial: false,
        };
        let sleepers = fw.run(&sleep, PHASE_TIMEOUT)?;
        std::thread::sleep(SETTLE);
        let loaded = rss(agent.pid())?;
        let containers = agent.container_memory();
        let ids: Vec<String> = sleepers.tasks.iter().map(|s| s.id.clone()).collect();
        let not_killed = fw.kill_all(&ids, PHASE_TIMEOUT)?;
        let left = agent.wait_containers_gone(Duration::from_secs(60));
        std::thread::sleep(SETTLE);
        let after = rss(agent.pid())?;
        checks.push(format!(
            "cycle {cycle}: {not_killed} of {} sleepers ended other than TASK_KILLED; \
             container cgroups left 60 s later: {left}",
            ids.len()
        ));
        cycles.push(Cycle {
            loaded,
            after,
            containers,
        });
        first.get_or_insert(sleepers);
    }
    let sleepers = first.expect("at least one cycle");
    for (what, r) in [
        ("`true` one at a time", &serial),
        ("`true`", &truth),
        ("`sleep 600`", &sleepers),
    ] {
        if !r.failures.is_empty() {
            checks.push(format!(
                "{what}: {} tasks did not end as expected: {}",
                r.failures.len(),
                r.failures.join(", ")
            ));
        }
    }
    Ok(Measured {
        setup: setup(opts, crun, &corral_version(&opts.corral)),
        serial,
        truth,
        sleepers,
        crun: crun_times,
        idle,
        cycles,
        checks,
    })
}

/// The setup lines of the report.
fn setup(opts: &Options, crun: &Path, corral: &str) -> Vec<String> {
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = mem
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .nth(1)
        .unwrap_or("?")
        .to_string();
    let commit = std::env::var("CORRAL_BENCH_COMMIT").unwrap_or_else(|_| "?".into());
    vec![
        format!(
            "{}; guest kernel {}, {cpus} vCPUs, MemTotal {mem} kB",
            corral_oci::state::rfc3339_now(),
            kernel.trim()
        ),
        format!("corral at {commit} ({corral}); {}", crun::version(crun)),
        format!(
            "{} tasks per phase (+{} warm-up), at most {} per ACCEPT, each cpus {} mem {} MiB, as user root, CPU as weight only (no cpu.max); \
             the same command, limits and namespaces for `crun run`",
            opts.tasks, opts.warmup, opts.batch, SIZE.cpus, SIZE.mem
        ),
    ]
}

fn corral_version(corral: &Path) -> String {
    let out = Command::new(corral).arg("--version").output();
    let text = out.map(|o| o.stdout).unwrap_or_default();
    String::from_utf8_lossy(&text).trim().to_string()
}

/// After the teardown: processes still running the corral binary (the
/// agent, the master, an executor) and the agent's cgroup subtrees.
fn leftovers(corral: &Path) -> String {
    let me = std::process::id().to_string();
    let mut procs = 0;
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name == me || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if fs::read_link(entry.path().join("exe")).is_ok_and(|exe| exe == corral) {
            procs += 1;
        }
    }
    let cgroups = fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("corral-test-agentbench")
        })
        .count();
    format!(
        "after the teardown: {procs} processes of the corral binary, {cgroups} agent cgroup subtrees left"
    )
}
