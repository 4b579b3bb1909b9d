//! The registry benchmark recorded in docs/registry.md: the registry part
//! of a master restart with a large cluster on file.
//!
//! Fills a registry in a scratch folder with `--frameworks` frameworks,
//! `--agents` agents (cpus, mem, disk and ports, three attributes) and
//! `--tasks` tasks (four resources, one status, labels, a container),
//! submitted one mutation at a time through the group-commit writer, then
//! times, separately:
//! - the fill (mutations/s, commits, the largest batch);
//! - the commit latency of a lone mutation (submitted and waited for);
//! - the file size;
//! - `Registry::open` + `load` of everything after a clean shutdown, and
//!   after a crash (a child process commits one mutation and exits without
//!   closing the file, so redb must repair on open) — the median of
//!   `--runs` each.
//!
//! `corral-registry-bench [--agents N] [--tasks M] [--frameworks F]
//! [--runs R] [--dir PATH] [--keep] [--no-quick-repair]`; defaults 10,000 agents,
//! 100,000 tasks, 1,000 frameworks, 3 runs, a folder under the temp dir
//! (removed afterwards). Build in release:
//! `cargo run --release -p corral-tests --bin corral-registry-bench`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use corral_master::registry::{
    AgentRecord, FILE_NAME, FrameworkRecord, Mutation, Registry, RegistryOptions, RegistryWriter,
    TaskRecord,
};
use serde_json::json;

#[derive(Debug)]
struct Args {
    agents: usize,
    tasks: usize,
    frameworks: usize,
    runs: usize,
    dir: Option<PathBuf>,
    keep: bool,
    options: RegistryOptions,
    /// Internal: the crash child's folder.
    crash_child: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        agents: 10_000,
        tasks: 100_000,
        frameworks: 1_000,
        runs: 3,
        dir: None,
        keep: false,
        options: RegistryOptions::default(),
        crash_child: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<usize>()
                .map_err(|_| format!("{flag}: `{v}` is not a count"))
        };
        match flag.as_str() {
            "--agents" => args.agents = number(value()?)?,
            "--tasks" => args.tasks = number(value()?)?,
            "--frameworks" => args.frameworks = number(value()?)?.max(1),
            "--runs" => args.runs = number(value()?)?.max(1),
            "--dir" => args.dir = Some(value()?.into()),
            "--keep" => args.keep = true,
            "--no-quick-repair" => args.options.quick_repair = false,
            "--crash-child" => args.crash_child = Some(value()?.into()),
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown flag `{flag}`")),
        }
    }
    args.agents = args.agents.max(1);
    Ok(args)
}

fn framework_id(i: usize) -> String {
    format!("5f1c7a0e-3b7d-4f0a-9c1e-2a6b8d4e0f13-{i:04}")
}

fn agent_id(i: usize) -> String {
    format!("5f1c7a0e-3b7d-4f0a-9c1e-2a6b8d4e0f13-S{i}")
}

fn framework(i: usize) -> Result<FrameworkRecord, String> {
    let value = json!({
        "info": {
            "user": "svc-batch", "name": format!("framework-{i}"), "id": {"value": framework_id(i)},
            "failover_timeout": 604800.0, "checkpoint": true,
            "roles": [format!("team-{}", i % 50), "shared"],
            "hostname": format!("scheduler-{i}.example.com"), "principal": format!("team-{}", i % 50),
            "webui_url": format!("http://scheduler-{i}.example.com:8080"),
            "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"},
                             {"type": "TASK_KILLING_STATE"}],
            "labels": {"labels": [{"key": "owner", "value": "batch-platform"}]}
        },
        "registered_at": 1_700_000_000.0 + i as f64
    });
    serde_json::from_value(value).map_err(|e| format!("framework record: {e}"))
}

fn agent(i: usize) -> Result<AgentRecord, String> {
    let value = json!({
        "info": {
            "hostname": format!("node-{i:05}.dc1.example.com"), "port": 5051,
            "id": {"value": agent_id(i)},
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 32.0}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 257_000.0}},
                {"name": "disk", "type": "SCALAR", "scalar": {"value": 1_800_000.0}},
                {"name": "ports", "type": "RANGES",
                 "ranges": {"range": [{"begin": 31000, "end": 32000}]}}
            ],
            "attributes": [
                {"name": "rack", "type": "TEXT", "text": {"value": format!("r{}", i % 200)}},
                {"name": "zone", "type": "TEXT", "text": {"value": format!("z{}", i % 3)}},
                {"name": "kernel", "type": "TEXT", "text": {"value": "6.12.0"}}
            ]
        },
        "state": {"kind": "registered"},
        "registered_at": 1_700_000_100.0 + i as f64
    });
    serde_json::from_value(value).map_err(|e| format!("agent record: {e}"))
}

fn task(i: usize, frameworks: usize, agents: usize) -> Result<TaskRecord, String> {
    let (fw, ag) = (framework_id(i % frameworks), agent_id(i % agents));
    let role = format!("team-{}", (i % frameworks) % 50);
    let task_id = format!("app-{}.{i:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b", i % 97);
    let port = 31000 + (i % 1000) as u64;
    let alloc = json!({"role": role});
    let value = json!({
        "task": {
            "name": format!("app-{}", i % 97), "task_id": {"value": task_id},
            "framework_id": {"value": fw}, "agent_id": {"value": ag}, "state": "TASK_RUNNING",
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "allocation_info": alloc},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 512.0}, "allocation_info": alloc},
                {"name": "disk", "type": "SCALAR", "scalar": {"value": 1024.0}, "allocation_info": alloc},
                {"name": "ports", "type": "RANGES", "allocation_info": alloc,
                 "ranges": {"range": [{"begin": port, "end": port}]}}
            ],
            "statuses": [{
                "task_id": {"value": task_id}, "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR",
                "agent_id": {"value": ag}, "timestamp": 1_700_000_200.0 + i as f64,
                "uuid": "AAECAwQFBgcICQoLDA0ODw==",
                "container_status": {"container_id": {"value": format!("c0ffee00-{i:08x}")},
                                     "executor_pid": 4000 + i % 60000}
            }],
            "labels": {"labels": [{"key": "app", "value": format!("app-{}", i % 97)},
                                  {"key": "version", "value": "2024.06.1"}]},
            "container": {"type": "MESOS",
                          "mesos": {"image": {"type": "DOCKER", "docker": {"name": "nginx:1.27"}}}}
        }
    });
    serde_json::from_value(value).map_err(|e| format!("task record: {e}"))
}

/// What the fill measured.
struct Fill {
    mutations: usize,
    elapsed: Duration,
    commits: u64,
    largest: u64,
    lone_commit: Duration,
}

/// Fills the registry through the writer, one mutation per submit, then
/// times lone commits.
fn fill(dir: &Path, args: &Args) -> Result<Fill, String> {
    let registry = Registry::open_with(dir, args.options).map_err(|e| e.to_string())?;
    let writer = RegistryWriter::spawn(registry).map_err(|e| e.to_string())?;
    let mut mutations = Vec::with_capacity(args.frameworks + args.agents + args.tasks);
    for i in 0..args.frameworks {
        mutations.push(Mutation::from(framework(i)?));
    }
    for i in 0..args.agents {
        mutations.push(Mutation::from(agent(i)?));
    }
    for i in 0..args.tasks {
        mutations.push(Mutation::from(task(i, args.frameworks, args.agents)?));
    }
    let start = Instant::now();
    let tickets: Vec<_> = mutations.into_iter().map(|m| writer.submit(m)).collect();
    let mutations = tickets.len();
    for ticket in tickets {
        ticket.wait().map_err(|e| e.to_string())?;
    }
    let elapsed = start.elapsed();
    let stats = writer.stats();
    let mut lone = Vec::new();
    for i in 0..50 {
        let record = task(i, args.frameworks, args.agents)?;
        let start = Instant::now();
        writer
            .submit(record.into())
            .wait()
            .map_err(|e| e.to_string())?;
        lone.push(start.elapsed());
    }
    writer.shutdown().map_err(|e| e.to_string())?;
    Ok(Fill {
        mutations,
        elapsed,
        commits: stats.commits,
        largest: stats.largest_batch,
        lone_commit: median(lone),
    })
}

/// One restart: open and load; returns (open, load) times.
fn restart(dir: &Path, args: &Args) -> Result<(Duration, Duration), String> {
    let start = Instant::now();
    let registry = Registry::open_with(dir, args.options).map_err(|e| e.to_string())?;
    let opened = start.elapsed();
    let snapshot = registry.load().map_err(|e| e.to_string())?;
    let loaded = start.elapsed() - opened;
    let counts = (
        snapshot.frameworks.len(),
        snapshot.agents.len(),
        snapshot.tasks.len(),
    );
    if counts != (args.frameworks, args.agents, args.tasks) {
        let expected = (args.frameworks, args.agents, args.tasks);
        return Err(format!("loaded {counts:?}, expected {expected:?}"));
    }
    drop(snapshot);
    Ok((opened, loaded))
}

/// Commits one mutation in a child process that exits without closing
/// the file, as a crashed master would leave it.
fn crash(dir: &Path, args: &Args) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe);
    child.arg("--crash-child").arg(dir);
    if !args.options.quick_repair {
        child.arg("--no-quick-repair");
    }
    let status = child.status().map_err(|e| e.to_string())?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("crash child: {status}"))
}

fn crash_child(dir: &Path, args: &Args) -> Result<(), String> {
    let registry = Registry::open_with(dir, args.options).map_err(|e| e.to_string())?;
    let weight = Mutation::PutWeight {
        role: "team-1".into(),
        weight: 2.0,
    };
    registry.apply(&[weight]).map_err(|e| e.to_string())?;
    // Exit without running destructors: the file is left open.
    std::process::exit(0)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Medians of open, load and their sum, and the fastest sum.
fn restarts(dir: &Path, args: &Args, crashed: bool) -> Result<[Duration; 4], String> {
    let (mut opens, mut loads, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.runs {
        if crashed {
            crash(dir, args)?;
        }
        let (open, load) = restart(dir, args)?;
        opens.push(open);
        loads.push(load);
        totals.push(open + load);
    }
    let fastest = totals.iter().min().copied().unwrap_or_default();
    Ok([median(opens), median(loads), median(totals), fastest])
}

fn run(args: &Args) -> Result<(), String> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("corral-registry-bench-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "corral-registry-bench: {} frameworks, {} agents, {} tasks; quick repair {}; {}",
        args.frameworks,
        args.agents,
        args.tasks,
        if args.options.quick_repair {
            "on"
        } else {
            "off"
        },
        dir.display()
    );
    let result = measure(&dir, args);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn measure(dir: &Path, args: &Args) -> Result<(), String> {
    let fill = fill(dir, args)?;
    let size = std::fs::metadata(dir.join(FILE_NAME))
        .map_err(|e| e.to_string())?
        .len();
    let records = (args.frameworks + args.agents + args.tasks) as f64;
    let rate = fill.mutations as f64 / fill.elapsed.as_secs_f64();
    println!("| measure | result |\n|---|---|");
    println!(
        "| fill through the writer | {} mutations in {:.2} s: {rate:.0} mutations/s, {} commits (largest {}) |",
        fill.mutations,
        fill.elapsed.as_secs_f64(),
        fill.commits,
        fill.largest
    );
    println!(
        "| lone mutation, submit to durable | {} (median of 50) |",
        ms(fill.lone_commit)
    );
    println!(
        "| file size | {:.1} MiB ({:.0} bytes per record) |",
        size as f64 / 1048576.0,
        size as f64 / records
    );
    for (label, crashed) in [("a clean shutdown", false), ("a crash", true)] {
        let [open, load, total, fastest] = restarts(dir, args, crashed)?;
        println!(
            "| restart after {label}: open + load | {} + {} = {} (median of {}; fastest {}) |",
            ms(open),
            ms(load),
            ms(total),
            args.runs,
            ms(fastest)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!(
                "{e}\nusage: corral-registry-bench [--agents N] [--tasks M] [--frameworks F] [--runs R] [--dir PATH] [--no-quick-repair]"
            );
            return ExitCode::from(2);
        }
    };
    let result = match &args.crash_child {
        Some(dir) => crash_child(dir, &args),
        None => run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corral-registry-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
