//! The allocator benchmark recorded in docs/allocator.md: Mesos'
//! `HierarchicalAllocator_BENCHMARK_Test` setup — agents with
//! `cpus:2;mem:1024;disk:4096;ports:[31000-32000]`, frameworks in role `*`
//! — and the time of one full allocation pass on one thread.
//!
//! Scenarios (each pass starts from the same prepared state, cloned before
//! the clock starts; the median of `--rounds` passes is reported):
//! - `fresh`: nothing allocated; every agent is offered whole.
//! - `used`: each agent already runs a slice for framework `i % M` (Mesos'
//!   `AddAndUpdateSlave` slice `cpus:1;mem:128;disk:1024;ports:[…]`); the
//!   pass offers the rest.
//! - `declined`: `--declines K` passes (default 10) whose every offer was
//!   declined with a day-long filter, as in Mesos' `DeclineOffers` rounds
//!   (each agent then carries about K filters, each framework about
//!   K·N/M); the timed pass checks the filters of every framework it
//!   considers. Decliners go to the back of their tie (allocation count),
//!   so most agents are taken by the first framework asked.
//! - `filtered`: the worst case for filters: the first K frameworks each
//!   declined every agent, and the others hold a sliver elsewhere, so the
//!   K decliners come first on every agent and the pass skips all of them
//!   (agents × K filter hits) before one takes it.
//!
//! `corral-alloc-bench [--agents N --frameworks M] [--rounds R]
//! [--scenario fresh|used|declined|filtered|all] [--declines K]
//! [--order shuffled|stable]`; agents are visited shuffled (the default)
//! unless `--order stable`; without `--agents`, runs the two
//! recorded setups (10,000 × 1,000 and 50,000 × 1,000). Build in release:
//! `cargo run --release -p corral-tests --bin corral-alloc-bench`.

use corral_master::allocator::{
    AgentKey, AgentOrder, Allocator, FrameworkKey, FrameworkSpec, HierarchicalAllocator, Options,
    Resources, Used,
};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const AGENT: &str = "cpus:2;mem:1024;disk:4096;ports:[31000-32000]";
const SLICE: &str =
    "cpus:1;mem:128;disk:1024;ports:[31126-31510,31512-31623,31810-31852,31854-31964]";
const SCENARIOS: [&str; 4] = ["fresh", "used", "declined", "filtered"];

#[derive(Debug)]
struct Args {
    setups: Vec<(usize, usize)>,
    rounds: usize,
    declines: usize,
    stable: bool,
    scenarios: Vec<&'static str>,
}

fn parse_args() -> Result<Args, String> {
    let (mut agents, mut frameworks, mut rounds, mut scenarios) =
        (None, 1000, 7, SCENARIOS.to_vec());
    let (mut declines, mut stable) = (10, false);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<usize>()
                .map_err(|_| format!("{flag}: `{v}` is not a count"))
        };
        match flag.as_str() {
            "--agents" => agents = Some(number(value()?)?),
            "--frameworks" => frameworks = number(value()?)?,
            "--rounds" => rounds = number(value()?)?.max(1),
            "--declines" => declines = number(value()?)?,
            "--order" => {
                stable = match value()?.as_str() {
                    "stable" => true,
                    "shuffled" => false,
                    v => return Err(format!("--order: `{v}` is not stable or shuffled")),
                }
            }
            "--scenario" => {
                let v = value()?;
                scenarios = match SCENARIOS.iter().find(|s| **s == v) {
                    Some(s) => vec![*s],
                    None if v == "all" => SCENARIOS.to_vec(),
                    None => {
                        return Err(format!(
                            "--scenario: `{v}` is not fresh, used, declined, filtered or all"
                        ));
                    }
                };
            }
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown flag `{flag}`")),
        }
    }
    let setups = match agents {
        Some(n) => vec![(n, frameworks)],
        None => vec![(10_000, frameworks), (50_000, frameworks)],
    };
    Ok(Args {
        setups,
        rounds,
        declines,
        stable,
        scenarios,
    })
}

/// Builds the cluster: frameworks first, then agents (with their used
/// slice in the `used` scenario), as Mesos' benchmark does.
fn build(
    (agents, frameworks): (usize, usize),
    used: bool,
    args: &Args,
) -> Result<(HierarchicalAllocator, Vec<FrameworkKey>), String> {
    let mut options = Options::default();
    if args.stable {
        options.agent_order = AgentOrder::Stable;
    }
    let mut alloc = HierarchicalAllocator::new(options);
    let spec = FrameworkSpec {
        roles: vec!["*".into()],
        active: true,
        ..Default::default()
    };
    let keys: Vec<FrameworkKey> = (0..frameworks)
        .map(|_| alloc.add_framework(&spec))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let total = Resources::parse(AGENT).map_err(|e| e.to_string())?;
    let slice = Resources::parse(SLICE).map_err(|e| e.to_string())?;
    for i in 0..agents {
        let uses = match (used, keys.get(i % frameworks.max(1))) {
            (true, Some(&framework)) => vec![Used {
                framework,
                role: "*".into(),
                resources: slice.clone(),
            }],
            _ => Vec::new(),
        };
        alloc.add_agent(&total, &uses).map_err(|e| e.to_string())?;
    }
    Ok((alloc, keys))
}

/// The `filtered` setup: each of the first `k` frameworks in turn is the
/// only active one, is offered every agent and declines it; then the
/// others get a sliver each on one extra agent, so that the `k` decliners
/// (share 0) come first in DRF order on every agent.
fn filter_first_k(
    alloc: &mut HierarchicalAllocator,
    keys: &[FrameworkKey],
    k: usize,
    now: Instant,
) -> Result<(), String> {
    let err = |e: corral_master::allocator::AllocatorError| e.to_string();
    for &f in keys {
        alloc.deactivate_framework(f).map_err(err)?;
    }
    for &d in keys.iter().take(k) {
        alloc.activate_framework(d).map_err(err)?;
        decline_everything(alloc, now)?;
        alloc.deactivate_framework(d).map_err(err)?;
    }
    for &f in keys {
        alloc.activate_framework(f).map_err(err)?;
    }
    let others = keys.len().saturating_sub(k);
    let sliver = Resources::parse("cpus:1;mem:1").map_err(|e| e.to_string())?;
    let used: Vec<Used> = keys
        .iter()
        .skip(k)
        .map(|&framework| Used {
            framework,
            role: "*".into(),
            resources: sliver.clone(),
        })
        .collect();
    let total =
        Resources::parse(&format!("cpus:{others};mem:{others}")).map_err(|e| e.to_string())?;
    alloc.add_agent(&total, &used).map_err(err)?;
    Ok(())
}

/// Runs one pass and declines every offer with a day-long filter.
fn decline_everything(alloc: &mut HierarchicalAllocator, now: Instant) -> Result<(), String> {
    let day = Some(Duration::from_secs(86_400));
    for offer in alloc.allocate(now) {
        let (f, role, agent): (FrameworkKey, _, AgentKey) =
            (offer.framework, offer.role, offer.agent);
        alloc
            .recover(f, role.as_str(), agent, &offer.resources, day, now)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

struct Row {
    scenario: &'static str,
    agents: usize,
    frameworks: usize,
    setup: Duration,
    passes: Vec<Duration>,
    offers: usize,
}

fn run(
    scenario: &'static str,
    (agents, frameworks): (usize, usize),
    args: &Args,
) -> Result<Row, String> {
    let now = Instant::now();
    let started = Instant::now();
    let (mut base, keys) = build((agents, frameworks), scenario == "used", args)?;
    match scenario {
        "declined" => {
            for _ in 0..args.declines {
                decline_everything(&mut base, now)?;
            }
        }
        "filtered" => filter_first_k(&mut base, &keys, args.declines, now)?,
        _ => {}
    }
    let setup = started.elapsed();
    let mut passes = Vec::with_capacity(args.rounds);
    let mut offers = 0;
    for _ in 0..args.rounds {
        let mut alloc = base.clone();
        let t = Instant::now();
        let out = alloc.allocate(now + Duration::from_secs(1));
        passes.push(t.elapsed());
        offers = out.len();
        drop(alloc);
    }
    passes.sort_unstable();
    Ok(Row {
        scenario,
        agents,
        frameworks,
        setup,
        passes,
        offers,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("corral-alloc-bench: {e}");
            }
            eprintln!(
                "usage: corral-alloc-bench [--agents N] [--frameworks M] [--rounds R] \
                 [--scenario fresh|used|declined|filtered|all] [--declines K] [--order shuffled|stable]"
            );
            return ExitCode::from(2);
        }
    };
    println!(
        "| scenario | agents | frameworks | setup ms | pass median ms | min ms | max ms | offers |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for &(agents, frameworks) in &args.setups {
        for &scenario in &args.scenarios {
            match run(scenario, (agents, frameworks), &args) {
                Ok(r) => println!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    r.scenario,
                    r.agents,
                    r.frameworks,
                    ms(r.setup),
                    ms(r.passes[r.passes.len() / 2]),
                    ms(r.passes[0]),
                    ms(r.passes[r.passes.len() - 1]),
                    r.offers
                ),
                Err(e) => {
                    eprintln!("corral-alloc-bench: {scenario} {agents}x{frameworks}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
