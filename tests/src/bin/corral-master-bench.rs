//! Launch throughput of one master (docs/bench-master.md): a release
//! `corral master`, N simulated agents on the agent link, one framework
//! that accepts every offer with as many tasks as fit and acknowledges
//! every update, until M tasks reached TASK_RUNNING at the framework.
//! Reports tasks/s from the first ACCEPT to the M-th TASK_RUNNING, the
//! ACCEPT → TASK_RUNNING latency per task, and where the CPU went (master
//! process vs bench threads) with the load average.
//!
//! `corral-master-bench [--agents N] [--tasks M] [--allocation-interval D]
//! [--conns K] [--rate R] [--sim lean|threads] [--cpus C] [--mem MB]
//! [--corral PATH]`
//!
//! Defaults: 1000 agents of `cpus:4;mem:4096;disk:10000;ports:[31000-32000]`,
//! tasks of 0.1 cpus and 32 MB (40 per agent), M = every slot (40,000),
//! `--allocation-interval 1secs` (Mesos' default), K = 1 call connection
//! (as Mesos' scheduler library: one for the stream, one for calls,
//! pipelined). `--rate R` holds offers so that at most R tasks/s are
//! launched (latency at a load below capacity). `--sim threads` runs the harness' thread-per-agent
//! `SimAgents` instead of the lean epoll fleet. Build first:
//! `cargo build --release --bin corral -p corral-tests --bin corral-master-bench`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use corral_tests::bench::fleet::{Fleet, FleetStats};
use corral_tests::bench::framework::{Framework, Outcome, Plan};
use corral_tests::bench::report::{
    allocation_passes, loadavg, machine_busy, ms, percentile, process_cpu, thousands, thread_cpu,
};
use corral_tests::master::MasterProcess;
use corral_tests::simagent::{Backoff, Behaviour, SimAgents, SimOptions, default_resources};

/// Mesos' agent status update retry: 10 s doubling to 10 min.
const MESOS_BACKOFF: Backoff = Backoff {
    initial: Duration::from_secs(10),
    max: Duration::from_secs(600),
};

#[derive(Debug)]
struct Args {
    agents: usize,
    tasks: Option<usize>,
    interval: String,
    conns: usize,
    threads: bool,
    cpus: f64,
    mem: f64,
    rate: Option<f64>,
    corral: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        agents: 1000,
        tasks: None,
        interval: "1secs".into(),
        conns: 1,
        threads: false,
        cpus: 0.1,
        mem: 32.0,
        rate: None,
        corral: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let bad = |v: &str| format!("{flag}: `{v}` is not a number");
        match flag.as_str() {
            "--agents" => {
                let v = value()?;
                a.agents = v.parse().map_err(|_| bad(&v))?;
            }
            "--tasks" => {
                let v = value()?;
                a.tasks = Some(v.parse().map_err(|_| bad(&v))?);
            }
            "--conns" => {
                let v = value()?;
                a.conns = v.parse().map_err(|_| bad(&v))?;
            }
            "--cpus" => {
                let v = value()?;
                a.cpus = v.parse().map_err(|_| bad(&v))?;
            }
            "--mem" => {
                let v = value()?;
                a.mem = v.parse().map_err(|_| bad(&v))?;
            }
            "--rate" => {
                let v = value()?;
                a.rate = Some(v.parse().map_err(|_| bad(&v))?);
            }
            "--allocation-interval" => a.interval = value()?,
            "--corral" => a.corral = Some(PathBuf::from(value()?)),
            "--sim" => {
                a.threads = match value()?.as_str() {
                    "lean" => false,
                    "threads" => true,
                    v => return Err(format!("--sim: `{v}` is not lean or threads")),
                }
            }
            "-h" | "--help" => {
                return Err("usage: corral-master-bench [--agents N] [--tasks M] \
                     [--allocation-interval D] [--conns K] [--rate TASKS_PER_S] \
                     [--sim lean|threads] [--cpus C] [--mem MB] [--corral PATH]"
                    .into());
            }
            other => return Err(format!("unknown flag {other} (see --help)")),
        }
    }
    if a.agents == 0 || a.conns == 0 {
        return Err("--agents and --conns must be at least 1".into());
    }
    Ok(a)
}

/// The release `corral` next to this binary (target/release/).
fn corral_path(given: Option<PathBuf>) -> Result<PathBuf, String> {
    let path = match given {
        Some(p) => p,
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("corral"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: build it with `cargo build --release --bin corral`",
            path.display()
        ))
    }
}

/// The agents, whichever kind.
enum Agents {
    Lean(Fleet),
    Threads(SimAgents),
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("corral-master-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let bin = corral_path(args.corral.clone())?;
    let per_agent = ((4000.0 / (args.cpus * 1000.0).round()).floor() as usize)
        .min((4096.0 / args.mem).floor() as usize);
    let capacity = per_agent * args.agents;
    let tasks = args.tasks.unwrap_or(capacity);
    if tasks == 0 || tasks > capacity {
        return Err(format!(
            "--tasks {tasks}: the agents hold 1..={capacity} tasks of {} cpus, {} MB",
            args.cpus, args.mem
        ));
    }
    let master = MasterProcess::start_with(&bin, &["--allocation-interval", &args.interval]);
    let master_pid = master.pid().ok_or("the master is not running")?;
    let setup = Instant::now();
    let agents = if args.threads {
        let opts = SimOptions {
            behaviour: Behaviour::RunUntilKilled,
            backoff: MESOS_BACKOFF,
            ..SimOptions::default()
        };
        Agents::Threads(SimAgents::start_many(&master.url(), args.agents, opts))
    } else {
        let fleet = Fleet::start(
            master.addr(),
            args.agents,
            default_resources(),
            MESOS_BACKOFF,
        )?;
        Agents::Lean(fleet)
    };
    eprintln!(
        "{} agents subscribed in {:.1} s (master pid {master_pid})",
        args.agents,
        setup.elapsed().as_secs_f64()
    );
    let mut framework = Framework::subscribe(master.addr(), args.conns)?;
    let plan = Plan {
        tasks,
        cpus: args.cpus,
        mem: args.mem,
        stall: Duration::from_secs(60),
        rate: args.rate,
    };
    // SAFETY: gettid has no preconditions.
    let main_tid = unsafe { libc::gettid() };
    let fleet_tid = match &agents {
        Agents::Lean(f) => Some(f.tid),
        Agents::Threads(_) => None,
    };
    let passes_before = allocation_passes(&master.url());
    let load_before = loadavg();
    let me = std::process::id();
    let cpu0 = [
        process_cpu(master_pid),
        process_cpu(me),
        thread_cpu(main_tid),
        fleet_tid.map(thread_cpu).unwrap_or_default(),
        machine_busy(),
    ];
    let started = Instant::now();
    let outcome = framework.run(&plan);
    let window = started.elapsed();
    let cpu1 = [
        process_cpu(master_pid),
        process_cpu(me),
        thread_cpu(main_tid),
        fleet_tid.map(thread_cpu).unwrap_or_default(),
        machine_busy(),
    ];
    let load_after = loadavg();
    let passes = allocation_passes(&master.url()) - passes_before;
    let cpu: Vec<Duration> = cpu1.iter().zip(cpu0).map(|(b, a)| *b - a).collect();
    let stats = match agents {
        Agents::Lean(f) => f.stop(),
        Agents::Threads(a) => FleetStats {
            launched: a.launched() as u64,
            ..FleetStats::default()
        },
    };
    let ok = outcome.failure.is_none() && outcome.note_count == 0 && stats.error_count == 0;
    let sim = if args.threads {
        "threads (one per agent)"
    } else {
        "lean (one epoll thread)"
    };
    print_table(&args, tasks, sim, &outcome, &stats, window, &cpu);
    if passes.0 > 0.0 {
        println!(
            "\nallocation passes during the run: {:.0}, {:.2} ms each on average (master `/metrics`)",
            passes.0,
            passes.1 * 1000.0 / passes.0
        );
    }
    println!("\nload average (1/5/15 min): before {load_before}, after {load_after}");
    let others = cpu[4].saturating_sub(cpu[0] + cpu[1]).as_secs_f64() / window.as_secs_f64();
    if others > 0.25 {
        println!(
            "warning: other processes used {:.0}% of a core during the run: \
             the figures are not the master's alone",
            others * 100.0
        );
    }
    for n in outcome.notes.iter().chain(&stats.errors) {
        println!("note: {n}");
    }
    if let Some(f) = &outcome.failure {
        println!("FAILED: {f}");
    }
    drop(master);
    Ok(ok)
}

fn print_table(
    args: &Args,
    tasks: usize,
    sim: &str,
    o: &Outcome,
    stats: &FleetStats,
    window: Duration,
    cpu: &[Duration],
) {
    let span = match (o.first_accept, o.done) {
        (Some(a), Some(b)) => b - a,
        _ => Duration::ZERO,
    };
    let rate = if span.is_zero() {
        0.0
    } else {
        tasks as f64 / span.as_secs_f64()
    };
    let mut lat = o.latencies.clone();
    lat.sort_unstable();
    let p = |q| ms(percentile(&lat, q));
    let share = |d: Duration| {
        format!(
            "{:.2} s ({:.0}% of one core)",
            d.as_secs_f64(),
            100.0 * d.as_secs_f64() / window.as_secs_f64().max(1e-9)
        )
    };
    let bench = if cpu[3].is_zero() {
        share(cpu[1])
    } else {
        format!(
            "{} — agents thread {:.2} s, framework thread {:.2} s",
            share(cpu[1]),
            cpu[3].as_secs_f64(),
            cpu[2].as_secs_f64()
        )
    };
    let rows = [
        (
            "agents",
            format!("{} ({sim})", thousands(args.agents as u64)),
        ),
        (
            "tasks",
            format!(
                "{} of {} cpus, {} MB",
                thousands(tasks as u64),
                args.cpus,
                args.mem
            ),
        ),
        ("allocation interval", args.interval.clone()),
        ("framework call connections", args.conns.to_string()),
        (
            "pace",
            args.rate
                .map_or("every offer accepted at once".into(), |r| {
                    format!("{r} tasks/s")
                }),
        ),
        (
            "first ACCEPT → last TASK_RUNNING",
            format!("{:.3} s", span.as_secs_f64()),
        ),
        (
            "**throughput**",
            format!("**{} tasks/s**", thousands(rate.round() as u64)),
        ),
        (
            "ACCEPT → TASK_RUNNING p50 / p90 / p99 / max",
            format!("{} / {} / {} / {} ms", p(50.0), p(90.0), p(99.0), p(100.0)),
        ),
        (
            "CPU window (framework run)",
            format!("{:.3} s", window.as_secs_f64()),
        ),
        ("master CPU", share(cpu[0])),
        ("bench CPU", bench),
        (
            "rest of the machine (other processes, kernel)",
            share(cpu[4].saturating_sub(cpu[0] + cpu[1])),
        ),
        (
            "master CPU per task",
            format!("{:.0} µs", cpu[0].as_secs_f64() * 1e6 / tasks as f64),
        ),
        (
            "offers / ACCEPTs / declined",
            format!("{} / {} / {}", o.offers, o.accepts, o.declined),
        ),
        (
            "UPDATE events / ACKNOWLEDGE calls",
            format!("{} / {}", o.updates, o.acks),
        ),
        (
            "agent side: launched / UPDATE calls / acks",
            format!(
                "{} / {} / {}",
                stats.launched, stats.updates_sent, stats.acks
            ),
        ),
        (
            "problems (refusals, unexpected states, errors)",
            format!("{}", o.note_count as u64 + stats.error_count),
        ),
    ];
    println!("| figure | value |\n|---|---|");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
}
