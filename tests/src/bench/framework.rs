//! The bench's framework: a Mesos v1 scheduler on one thread over epoll.
//! It subscribes, accepts every offer with as many tasks as fit (one ACCEPT
//! per offer, sent at once), declines what it no longer needs, and
//! acknowledges every status update with an explicit ACKNOWLEDGE, until the
//! planned number of tasks reached TASK_RUNNING. Calls go out pipelined on
//! K keep-alive connections (each to the least busy; the bench uses one,
//! as Mesos' scheduler library does), the calls made for one read of the
//! stream batched into one write per connection.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use corral_api::json;
use corral_api::scheduler::{Call, Event, EventType};
use corral_api::v1::{Filters, Offer, OfferOperation, TaskState, TaskStatus};
use corral_api::{FrameworkId, OfferId};

use super::conn::{Conn, EventStream, Pipeline};
use super::poll::{Poller, Ready};
use crate::http::{self, Target};
use crate::scheduler::{PATH, framework, task_for};

/// Unexpected things kept word for word.
const MAX_NOTES: usize = 20;

/// What the framework is to do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Tasks to bring to TASK_RUNNING.
    pub tasks: usize,
    /// CPUs per task.
    pub cpus: f64,
    /// Memory per task, MB.
    pub mem: f64,
    /// How long to go without progress before giving up.
    pub stall: Duration,
    /// Tasks per second to launch at most (offers are held until their
    /// turn); `None`: every offer is accepted as it comes.
    pub rate: Option<f64>,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Outcome {
    /// When the first ACCEPT was sent.
    pub first_accept: Option<Instant>,
    /// When the planned number of tasks had reached TASK_RUNNING.
    pub done: Option<Instant>,
    /// ACCEPT sent → TASK_RUNNING received, per task (in arrival order).
    pub latencies: Vec<Duration>,
    /// Offers received.
    pub offers: usize,
    /// ACCEPT calls.
    pub accepts: usize,
    /// Offers declined.
    pub declined: usize,
    /// UPDATE events.
    pub updates: usize,
    /// ACKNOWLEDGE calls.
    pub acks: usize,
    /// Calls answered other than 202, updates in unexpected states, ERROR.
    pub notes: Vec<String>,
    /// How many such things.
    pub note_count: usize,
    /// Why the run stopped early.
    pub failure: Option<String>,
}

impl Outcome {
    fn note(&mut self, what: String) {
        self.note_count += 1;
        if self.notes.len() < MAX_NOTES {
            self.notes.push(what);
        }
    }
}

/// A subscribed framework.
#[derive(Debug)]
pub struct Framework {
    poller: Poller,
    target: Target,
    stream: EventStream,
    calls: Vec<Pipeline<&'static str>>,
    id: FrameworkId,
    stream_id: String,
    outbox: Vec<(Vec<u8>, &'static str)>,
    /// Records that came with SUBSCRIBED, handled when the run starts.
    backlog: Vec<Vec<u8>>,
}

impl Framework {
    /// Subscribes with `conns` call connections; returns after SUBSCRIBED.
    pub fn subscribe(addr: SocketAddr, conns: usize) -> Result<Framework, String> {
        let mut poller = Poller::new().map_err(|e| format!("epoll: {e}"))?;
        let target = Target::parse(&addr.to_string());
        let body = json::to_vec(&Call::subscribe(framework("corral-master-bench")))
            .map_err(|e| e.to_string())?;
        let headers = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ];
        let request = http::request_bytes("POST", &target, PATH, &headers, &body);
        let conn = Conn::connect(addr, &poller, 0).map_err(|e| format!("connect: {e}"))?;
        let mut stream = EventStream::open(conn, &request, &poller).map_err(|e| e.to_string())?;
        let mut calls = Vec::new();
        for i in 0..conns.max(1) {
            let conn = Conn::connect(addr, &poller, 1 + i as u64).map_err(|e| e.to_string())?;
            calls.push(Pipeline::new(conn));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut ready = Vec::new();
        let subscribed = loop {
            if Instant::now() > deadline {
                return Err("no SUBSCRIBED within 30 s".into());
            }
            poller
                .wait(Duration::from_millis(20), &mut ready)
                .map_err(|e| e.to_string())?;
            ready.clear();
            let mut records = stream.records().map_err(|e| e.to_string())?;
            if !records.is_empty() {
                let first = records.remove(0);
                let event: Event = json::from_slice(&first).map_err(|e| e.to_string())?;
                break (event, records);
            }
        };
        let (subscribed, backlog) = subscribed;
        let id = subscribed
            .subscribed
            .map(|s| s.framework_id)
            .ok_or("the first event was not SUBSCRIBED")?;
        let head = stream.head.as_ref().ok_or("no head")?;
        let stream_id = http::header(&head.headers, "mesos-stream-id")
            .ok_or("no Mesos-Stream-Id")?
            .to_owned();
        Ok(Framework {
            poller,
            target,
            stream,
            calls,
            id,
            stream_id,
            outbox: Vec::new(),
            backlog,
        })
    }

    fn call_bytes(&self, call: &Call) -> Vec<u8> {
        let body = json::to_vec(call).unwrap_or_default();
        let headers = [
            ("Content-Type", "application/json"),
            ("Mesos-Stream-Id", self.stream_id.as_str()),
        ];
        http::request_bytes("POST", &self.target, PATH, &headers, &body)
    }

    /// Sends what the outbox holds, spread over the least busy connections,
    /// one write per connection.
    fn dispatch(&mut self) -> Result<(), String> {
        if self.outbox.is_empty() {
            return Ok(());
        }
        let mut load: Vec<usize> = self.calls.iter().map(Pipeline::in_flight).collect();
        let mut batches: Vec<Vec<u8>> = vec![Vec::new(); self.calls.len()];
        for (request, tag) in self.outbox.drain(..) {
            let i = (0..load.len()).min_by_key(|i| load[*i]).unwrap_or(0);
            load[i] += 1;
            batches[i].extend_from_slice(&request);
            self.calls[i].push_tag(tag);
        }
        for (p, batch) in self.calls.iter_mut().zip(batches) {
            if !batch.is_empty() {
                p.conn
                    .send(&batch, &self.poller)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Runs `plan`: returns when the tasks run, the stream fails, or
    /// nothing progresses for `plan.stall`.
    pub fn run(&mut self, plan: &Plan) -> Outcome {
        let mut run = Run {
            out: Outcome::default(),
            accepted_at: vec![None; plan.tasks],
            running: vec![false; plan.tasks],
            launched: 0,
            running_count: 0,
            held: VecDeque::new(),
        };
        let mut ready: Vec<Ready> = Vec::new();
        let mut progress = Instant::now();
        while run.running_count < plan.tasks {
            // Held offers wait for their turn: look again soon.
            let wait = if run.held.is_empty() { 20 } else { 1 };
            if let Err(e) = self.poller.wait(Duration::from_millis(wait), &mut ready) {
                run.out.failure = Some(format!("epoll_wait: {e}"));
                break;
            }
            let before = run.running_count;
            let mut result = self.step(plan, &mut run, &mut ready);
            if result.is_ok() && !run.held.is_empty() {
                result = self.release(plan, &mut run).and_then(|()| self.dispatch());
            }
            if let Err(e) = result {
                run.out.failure = Some(e);
                break;
            }
            if run.running_count > before {
                progress = Instant::now();
            } else if progress.elapsed() > plan.stall {
                run.out.failure = Some(format!(
                    "stalled: {} of {} tasks running, no progress for {:?}",
                    run.running_count, plan.tasks, plan.stall
                ));
                break;
            }
        }
        run.out
    }

    fn step(&mut self, plan: &Plan, run: &mut Run, ready: &mut Vec<Ready>) -> Result<(), String> {
        if !self.backlog.is_empty() {
            ready.push(Ready {
                token: 0,
                read: true,
                write: false,
            });
        }
        for r in ready.drain(..) {
            if r.token == 0 {
                let mut records = std::mem::take(&mut self.backlog);
                records.extend(self.stream.records().map_err(|e| e.to_string())?);
                for record in records {
                    let event: Event = serde_json::from_slice(&record)
                        .map_err(|e| format!("undecodable event: {e}"))?;
                    self.event(plan, run, event)?;
                    if run.running_count == plan.tasks {
                        break;
                    }
                }
                continue;
            }
            let p = &mut self.calls[(r.token - 1) as usize];
            if r.write {
                p.conn.flush(&self.poller).map_err(|e| e.to_string())?;
            }
            for (tag, status, body) in p.answers().map_err(|e| e.to_string())? {
                if status != 202 {
                    let text = String::from_utf8_lossy(&body);
                    run.out.note(format!("{tag} answered {status}: {text}"));
                }
            }
        }
        self.dispatch()
    }

    fn event(&mut self, plan: &Plan, run: &mut Run, event: Event) -> Result<(), String> {
        match event.r#type {
            Some(EventType::Offers) => {
                let offers = event.offers.map(|o| o.offers).unwrap_or_default();
                self.offers(plan, run, offers)?;
            }
            Some(EventType::Update) => {
                if let Some(u) = event.update {
                    self.update(run, u.status);
                }
            }
            Some(EventType::Error) => {
                let why = event.error.map(|e| e.message).unwrap_or_default();
                return Err(format!("ERROR event: {why}"));
            }
            _ => {}
        }
        Ok(())
    }

    fn offers(&mut self, plan: &Plan, run: &mut Run, offers: Vec<Offer>) -> Result<(), String> {
        run.out.offers += offers.len();
        run.held.extend(offers);
        self.release(plan, run)
    }

    /// Accepts held offers as fast as the plan's pace allows (all at once
    /// without one); declines those it no longer needs.
    fn release(&mut self, plan: &Plan, run: &mut Run) -> Result<(), String> {
        let mut decline: Vec<OfferId> = Vec::new();
        while let Some(offer) = run.held.pop_front() {
            let n = fit(&offer, plan).min(plan.tasks - run.launched);
            if n == 0 {
                decline.push(offer.id);
                continue;
            }
            if let (Some(rate), Some(start)) = (plan.rate, run.out.first_accept)
                && run.launched as f64 > rate * start.elapsed().as_secs_f64()
            {
                run.held.push_front(offer);
                break;
            }
            let first = run.launched;
            let tasks = (first..first + n)
                .map(|k| task_for(&offer, &format!("t{k}"), "sim:run", plan.cpus, plan.mem))
                .collect();
            run.launched += n;
            let launch = vec![OfferOperation::launch(tasks)];
            let filters = Some(Filters {
                refuse_seconds: 3600.0,
            });
            let call = Call::accept(self.id.clone(), vec![offer.id], launch, filters);
            self.outbox.push((self.call_bytes(&call), "ACCEPT"));
            // Each ACCEPT goes out as soon as it is built: its clock starts.
            self.dispatch()?;
            let now = Instant::now();
            run.out.first_accept.get_or_insert(now);
            run.out.accepts += 1;
            for slot in &mut run.accepted_at[first..first + n] {
                *slot = Some(now);
            }
        }
        if !decline.is_empty() {
            run.out.declined += decline.len();
            let filters = Some(Filters {
                refuse_seconds: 3600.0,
            });
            let call = Call::decline(self.id.clone(), decline, filters);
            self.outbox.push((self.call_bytes(&call), "DECLINE"));
        }
        Ok(())
    }

    fn update(&mut self, run: &mut Run, status: TaskStatus) {
        run.out.updates += 1;
        if let (Some(uuid), Some(agent)) = (&status.uuid, &status.agent_id) {
            let call = Call::acknowledge(
                self.id.clone(),
                agent.clone(),
                status.task_id.clone(),
                uuid.clone(),
            );
            self.outbox.push((self.call_bytes(&call), "ACKNOWLEDGE"));
            run.out.acks += 1;
        }
        let k = status.task_id.as_str().strip_prefix('t');
        let k = k.and_then(|k| k.parse::<usize>().ok());
        match (status.state, k) {
            (TaskState::Starting, Some(_)) => {}
            (TaskState::Running, Some(k)) if k < run.running.len() && !run.running[k] => {
                let now = Instant::now();
                run.running[k] = true;
                run.running_count += 1;
                if let Some(at) = run.accepted_at[k] {
                    run.out.latencies.push(now - at);
                }
                if run.running_count == run.running.len() {
                    run.out.done = Some(now);
                }
            }
            (state, _) => run.out.note(format!(
                "task {} reported {state}: {}",
                status.task_id,
                status.message.unwrap_or_default()
            )),
        }
    }
}

/// The framework's bookkeeping during a run.
struct Run {
    out: Outcome,
    accepted_at: Vec<Option<Instant>>,
    running: Vec<bool>,
    launched: usize,
    running_count: usize,
    /// Offers not accepted yet (paced runs).
    held: VecDeque<Offer>,
}

/// How many tasks of `plan`'s size the offer holds.
fn fit(offer: &Offer, plan: &Plan) -> usize {
    let most = |name: &str| {
        offer
            .resources
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar_value())
            .fold(0.0, f64::max)
    };
    let milli = |v: f64| (v * 1000.0).round() as u64;
    let by_cpus = milli(most("cpus")) / milli(plan.cpus).max(1);
    let by_mem = milli(most("mem")) / milli(plan.mem).max(1);
    by_cpus.min(by_mem) as usize
}
