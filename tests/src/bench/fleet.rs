//! A lean fleet of simulated agents for the bench: N agents on corral's
//! agent link, all driven by one thread over epoll (two non-blocking
//! connections each: the event stream, and a call connection that
//! pipelines UPDATE and HEARTBEAT calls). A launched task reports
//! TASK_STARTING then TASK_RUNNING through the harness' [`UpdateQueue`]:
//! one update in flight per task, the next sent once the framework's
//! acknowledgement comes back, resends on a backoff — the same protocol as
//! [`crate::simagent`] (`Behaviour::RunUntilKilled`), without a thread or a
//! record of every event per agent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corral_api::agent_link::AgentCall;
use corral_api::v1::{AgentInfo, Resource};

use super::agent::{Agent, calls_ready, request, send_due, stream_ready};
use super::conn::{Conn, EventStream, Pipeline};
use super::poll::{Poller, Ready};
use crate::http::Target;
use crate::simagent::{Backoff, UpdateQueue};

/// How long the whole fleet may take to subscribe.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(120);
/// How often every agent's queue is checked for resends.
const SWEEP: Duration = Duration::from_millis(100);
/// Errors kept word for word (the rest are only counted).
const MAX_ERRORS: usize = 20;

/// What the fleet did.
#[derive(Debug, Default, Clone)]
pub struct FleetStats {
    /// Tasks launched on it.
    pub launched: u64,
    /// UPDATE calls sent (resends included).
    pub updates_sent: u64,
    /// ACKNOWLEDGE events received.
    pub acks: u64,
    /// Calls answered with something other than 202.
    pub refused: u64,
    /// The first errors (I/O, refusals, ERROR events).
    pub errors: Vec<String>,
    /// All errors.
    pub error_count: u64,
}

impl FleetStats {
    pub(super) fn error(&mut self, e: String) {
        self.error_count += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        }
    }
}

/// The running fleet; stop it with [`Fleet::stop`].
#[derive(Debug)]
pub struct Fleet {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<FleetStats>>,
    /// The Linux thread id of the fleet's thread (for its CPU time).
    pub tid: i32,
}

impl Fleet {
    /// Starts `n` agents with `resources` against the master at `addr` and
    /// waits until every one is subscribed.
    pub fn start(
        addr: SocketAddr,
        n: usize,
        resources: Vec<Resource>,
        backoff: Backoff,
    ) -> Result<Fleet, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("bench agents".into())
            .spawn(move || {
                // SAFETY: gettid has no preconditions.
                let tid = unsafe { libc::gettid() };
                match setup(addr, n, &resources, backoff) {
                    Ok((poller, agents, target)) => {
                        let _ = tx.send(Ok(tid));
                        run(poller, agents, &target, &flag)
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        FleetStats::default()
                    }
                }
            })
            .map_err(|e| format!("cannot start the fleet's thread: {e}"))?;
        let tid = rx
            .recv()
            .map_err(|_| "the fleet's thread died".to_string())??;
        Ok(Fleet {
            stop,
            thread: Some(thread),
            tid,
        })
    }

    /// Stops the fleet; its statistics.
    pub fn stop(mut self) -> FleetStats {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Connects every agent and subscribes it; returns once all are.
fn setup(
    addr: SocketAddr,
    n: usize,
    resources: &[Resource],
    backoff: Backoff,
) -> Result<(Poller, Vec<Agent>, Target), String> {
    let mut poller = Poller::new().map_err(|e| format!("epoll: {e}"))?;
    let target = Target::parse(&addr.to_string());
    let mut agents = Vec::with_capacity(n);
    let pid = std::process::id();
    for i in 0..n {
        let token = 2 * i as u64;
        let connect = |t| Conn::connect(addr, &poller, t).map_err(|e| format!("connect: {e}"));
        let name = format!("bench-{pid}-{i}");
        let info = AgentInfo {
            hostname: name.clone(),
            port: 5051,
            resources: resources.to_vec(),
            ..AgentInfo::default()
        };
        let call = AgentCall::Subscribe {
            agent_info: Box::new(info),
            tasks: Vec::new(),
            frameworks: Vec::new(),
            executors: Vec::new(),
        };
        let sub = request(&target, &[("Accept", "application/json")], &call);
        let stream = EventStream::open(connect(token)?, &sub, &poller)
            .map_err(|e| format!("subscribe: {e}"))?;
        agents.push(Agent {
            name,
            id: None,
            stream_id: String::new(),
            stream,
            calls: Pipeline::new(connect(token + 1)?),
            queue: UpdateQueue::new(backoff),
            alive: true,
        });
    }
    let mut stats = FleetStats::default();
    let mut ready = Vec::new();
    let deadline = Instant::now() + SUBSCRIBE_TIMEOUT;
    while agents.iter().any(|a| a.id.is_none()) {
        if Instant::now() > deadline {
            let left = agents.iter().filter(|a| a.id.is_none()).count();
            return Err(format!("{left} of {n} agents not subscribed in time"));
        }
        poller
            .wait(Duration::from_millis(20), &mut ready)
            .map_err(|e| format!("epoll_wait: {e}"))?;
        step(&poller, &mut agents, &target, &mut ready, &mut stats);
        if let Some(e) = stats.errors.first() {
            return Err(format!("while subscribing: {e}"));
        }
    }
    Ok((poller, agents, target))
}

fn run(
    mut poller: Poller,
    mut agents: Vec<Agent>,
    target: &Target,
    stop: &AtomicBool,
) -> FleetStats {
    let mut stats = FleetStats::default();
    let mut ready = Vec::new();
    let mut next_sweep = Instant::now() + SWEEP;
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = poller.wait(Duration::from_millis(20), &mut ready) {
            stats.error(format!("epoll_wait: {e}"));
            break;
        }
        step(&poller, &mut agents, target, &mut ready, &mut stats);
        let now = Instant::now();
        if now >= next_sweep {
            next_sweep = now + SWEEP;
            for a in agents.iter_mut().filter(|a| a.alive && !a.queue.is_empty()) {
                send_due(a, target, now, &poller, &mut stats);
            }
        }
    }
    stats
}

/// Handles what `ready` reports, then sends the updates now due on the
/// agents touched.
fn step(
    poller: &Poller,
    agents: &mut [Agent],
    target: &Target,
    ready: &mut Vec<Ready>,
    stats: &mut FleetStats,
) {
    let now = Instant::now();
    let mut touched = Vec::new();
    for r in ready.drain(..) {
        let i = (r.token / 2) as usize;
        let Some(a) = agents.get_mut(i).filter(|a| a.alive) else {
            continue;
        };
        let result = if r.token % 2 == 0 {
            let flushed = if r.write {
                a.stream.conn.flush(poller)
            } else {
                Ok(())
            };
            flushed.and_then(|()| stream_ready(a, target, poller, stats))
        } else {
            calls_ready(a, r.write, poller, stats)
        };
        if let Err(e) = result {
            stats.error(format!("agent {}: {e}", a.name));
            a.alive = false;
            let _ = poller.remove(a.stream.conn.socket());
            let _ = poller.remove(a.calls.conn.socket());
            continue;
        }
        touched.push(i);
    }
    touched.sort_unstable();
    touched.dedup();
    for i in touched {
        send_due(&mut agents[i], target, now, poller, stats);
    }
}
