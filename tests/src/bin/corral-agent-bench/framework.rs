//! The framework of the benchmark: a Mesos v1 scheduler
//! (`corral_tests::scheduler::Scheduler`) that launches a phase's command
//! tasks in batches on the offers as they come, stamps every update when it
//! takes it off its event stream, and acknowledges each one from a thread
//! of its own (its own connection to the master), so that stamping never
//! waits behind an acknowledgement.

use corral_api::FrameworkId;
use corral_api::json;
use corral_api::scheduler::{Call, EventType};
use corral_api::v1::{FrameworkInfo, Offer, TaskState, TaskStatus};
use corral_tests::http::Client;
use corral_tests::scheduler::{PATH, Scheduler, task_for};
use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Resources of one task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    pub(crate) cpus: f64,
    pub(crate) mem: f64,
}

/// What a phase launches and when it is over.
#[derive(Debug)]
pub(crate) struct Phase<'a> {
    /// Prefix of its task ids.
    pub(crate) name: &'a str,
    /// The shell command of every task.
    pub(crate) cmd: &'a str,
    pub(crate) count: usize,
    /// At most this many tasks per ACCEPT.
    pub(crate) batch: usize,
    /// Over once every task is RUNNING (else once every task ended).
    pub(crate) until_running: bool,
    /// One task at a time: the next ACCEPT once the last task ended.
    pub(crate) serial: bool,
}

/// The framework's stamps for one task.
#[derive(Debug, Clone)]
pub(crate) struct Stamps {
    pub(crate) id: String,
    /// Just before its ACCEPT was sent.
    pub(crate) accept: Instant,
    pub(crate) starting: Option<Instant>,
    pub(crate) running: Option<Instant>,
    pub(crate) ended: Option<(Instant, TaskState)>,
}

/// A phase's stamps, in launch order, and what went wrong.
#[derive(Debug)]
pub(crate) struct PhaseResult {
    pub(crate) tasks: Vec<Stamps>,
    /// ACCEPT calls sent.
    pub(crate) accepts: usize,
    /// Tasks that ended other than as expected, with their message.
    pub(crate) failures: Vec<String>,
}

/// The subscribed framework and its acknowledging thread.
pub(crate) struct Framework {
    sched: Scheduler,
    size: Size,
    acks: Option<Sender<TaskStatus>>,
    acker: Option<JoinHandle<Result<usize, String>>>,
    stamps: HashMap<String, Stamps>,
}

impl Framework {
    /// Subscribes as user root and starts the acknowledging thread.
    pub(crate) fn subscribe(master_url: &str, size: Size) -> Framework {
        let sched = Scheduler::subscribe(master_url, FrameworkInfo::new("root", "agent-bench"));
        let (tx, rx) = mpsc::channel();
        let (url, stream) = (master_url.to_string(), sched.stream_id().to_string());
        let id = sched.framework_id();
        let acker = std::thread::spawn(move || acknowledge_all(&url, &stream, &id, rx));
        Framework {
            sched,
            size,
            acks: Some(tx),
            acker: Some(acker),
            stamps: HashMap::new(),
        }
    }

    /// Waits for the first offer (the agent has registered), declines it
    /// for an hour; a phase revives.
    pub(crate) fn wait_registered(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let Some(e) = self.sched.next_event(Duration::from_millis(200)) else {
                self.check_stream()?;
                continue;
            };
            let offers = e.offers.map(|o| o.offers).unwrap_or_default();
            if !offers.is_empty() {
                self.sched
                    .decline(offers.into_iter().map(|o| o.id).collect(), Some(3600.0));
                return Ok(());
            }
        }
        Err(format!(
            "no offer within {timeout:?}: the agent did not register"
        ))
    }

    fn check_stream(&self) -> Result<(), String> {
        match self.sched.closed() {
            Some(why) => Err(format!("the scheduler's event stream ended: {why}")),
            None => Ok(()),
        }
    }

    /// Runs `p`: revives, launches its tasks as offers come (a serial
    /// phase holds an offer until its one task in flight has ended),
    /// acknowledges every update, until every task is RUNNING or ended.
    pub(crate) fn run(&mut self, p: &Phase, timeout: Duration) -> Result<PhaseResult, String> {
        self.sched.revive(&[]);
        let ids: Vec<String> = (0..p.count).map(|i| format!("{}-{i}", p.name)).collect();
        let (mut launched, mut accepts) = (0, 0);
        let mut held: Vec<Offer> = Vec::new();
        let per_accept = if p.serial { 1 } else { p.batch };
        let deadline = Instant::now() + timeout;
        while !self.over(&ids, launched, p.until_running) {
            if Instant::now() >= deadline {
                return Err(self.stuck(p, &ids, launched, timeout));
            }
            let Some(e) = self.sched.next_event(Duration::from_millis(200)) else {
                self.check_stream()?;
                continue;
            };
            let at = Instant::now();
            match e.r#type {
                Some(EventType::Offers) => {
                    held.extend(e.offers.map(|o| o.offers).unwrap_or_default())
                }
                Some(EventType::Update) => {
                    let status = e.update.expect("UPDATE has update").status;
                    self.stamp(&status, at);
                    self.acknowledge(status)?;
                }
                _ => {}
            }
            while let Some(offer) = held.pop() {
                let in_flight = ids[..launched]
                    .iter()
                    .any(|id| self.stamps[id].ended.is_none());
                if p.serial && in_flight && launched < p.count {
                    held.push(offer);
                    break;
                }
                let n = self.fit(&offer).min(per_accept).min(p.count - launched);
                if n == 0 {
                    self.sched.decline(vec![offer.id], Some(3600.0));
                    continue;
                }
                self.launch(&offer, &ids[launched..launched + n], p.cmd);
                launched += n;
                accepts += 1;
            }
        }
        if !held.is_empty() {
            self.sched
                .decline(held.into_iter().map(|o| o.id).collect(), Some(3600.0));
        }
        let expected = if p.until_running {
            TaskState::Running
        } else {
            TaskState::Finished
        };
        Ok(self.result(&ids, accepts, expected))
    }

    /// How many tasks of [`Size`] the offer holds (a margin against
    /// rounding).
    fn fit(&self, offer: &Offer) -> usize {
        let amount = |name: &str| -> f64 {
            let of = offer.resources.iter().filter(|r| r.name == name);
            of.filter_map(|r| r.scalar_value()).fold(0.0, f64::max)
        };
        let by = |have: f64, each: f64| ((have + 1e-6) / each).floor() as usize;
        by(amount("cpus"), self.size.cpus).min(by(amount("mem"), self.size.mem))
    }

    fn launch(&mut self, offer: &Offer, ids: &[String], cmd: &str) {
        let Size { cpus, mem } = self.size;
        let tasks = ids
            .iter()
            .map(|id| task_for(offer, id, cmd, cpus, mem))
            .collect();
        let accept = Instant::now();
        self.sched
            .accept_launch(vec![offer.id.clone()], tasks, Some(0.0));
        for id in ids {
            let stamps = Stamps {
                id: id.clone(),
                accept,
                starting: None,
                running: None,
                ended: None,
            };
            self.stamps.insert(id.clone(), stamps);
        }
    }

    fn stamp(&mut self, status: &TaskStatus, at: Instant) {
        let Some(s) = self.stamps.get_mut(status.task_id.as_str()) else {
            return;
        };
        if status.state == TaskState::Starting {
            s.starting.get_or_insert(at);
        } else if status.state == TaskState::Running {
            s.running.get_or_insert(at);
        } else if status.state.is_terminal() && s.ended.is_none() {
            s.ended = Some((at, status.state));
            if status.state != TaskState::Finished && status.state != TaskState::Killed {
                eprintln!(
                    "corral-agent-bench: task {} ended {}: {}",
                    s.id,
                    status.state,
                    status.message.as_deref().unwrap_or("")
                );
            }
        }
    }

    fn acknowledge(&mut self, status: TaskStatus) -> Result<(), String> {
        let sent = self.acks.as_ref().is_some_and(|tx| tx.send(status).is_ok());
        if sent {
            return Ok(());
        }
        Err(self
            .stop_acker()
            .err()
            .unwrap_or_else(|| "the acknowledging thread stopped".into()))
    }

    fn over(&self, ids: &[String], launched: usize, until_running: bool) -> bool {
        launched == ids.len()
            && ids.iter().all(|id| {
                let s = &self.stamps[id];
                s.ended.is_some() || (until_running && s.running.is_some())
            })
    }

    fn stuck(&self, p: &Phase, ids: &[String], launched: usize, timeout: Duration) -> String {
        let of = |f: &dyn Fn(&Stamps) -> bool| {
            let known = ids.iter().filter_map(|id| self.stamps.get(id));
            known.filter(|s| f(s)).count()
        };
        format!(
            "phase {}: after {timeout:?}, {launched} of {} tasks launched, {} RUNNING, {} ended",
            p.name,
            p.count,
            of(&|s| s.running.is_some()),
            of(&|s| s.ended.is_some())
        )
    }

    fn result(&self, ids: &[String], accepts: usize, expected: TaskState) -> PhaseResult {
        let tasks: Vec<Stamps> = ids.iter().map(|id| self.stamps[id].clone()).collect();
        let failures = tasks
            .iter()
            .filter_map(|s| match s.ended {
                Some((_, state)) if state != expected => Some(format!("{}: {state}", s.id)),
                None if expected == TaskState::Finished => Some(format!("{}: not ended", s.id)),
                _ => None,
            })
            .collect();
        PhaseResult {
            tasks,
            accepts,
            failures,
        }
    }

    /// KILLs every task of `ids` not yet ended and waits until each has
    /// ended (acknowledging as before); returns how many ended other than
    /// TASK_KILLED.
    pub(crate) fn kill_all(&mut self, ids: &[String], timeout: Duration) -> Result<usize, String> {
        for id in ids {
            if self.stamps.get(id).is_some_and(|s| s.ended.is_none()) {
                self.sched.kill(id.as_str(), None);
            }
        }
        let deadline = Instant::now() + timeout;
        while !ids.iter().all(|id| self.stamps[id].ended.is_some()) {
            if Instant::now() >= deadline {
                let left = ids.iter().filter(|id| self.stamps[*id].ended.is_none());
                return Err(format!(
                    "{} tasks not ended {timeout:?} after KILL",
                    left.count()
                ));
            }
            let Some(e) = self.sched.next_event(Duration::from_millis(200)) else {
                self.check_stream()?;
                continue;
            };
            let at = Instant::now();
            if let Some(offers) = e.offers.map(|o| o.offers).filter(|o| !o.is_empty()) {
                let offers = offers.into_iter().map(|o| o.id).collect();
                self.sched.decline(offers, Some(3600.0));
            }
            if let Some(update) = e.update {
                self.stamp(&update.status, at);
                self.acknowledge(update.status)?;
            }
        }
        let ended = ids.iter().filter_map(|id| self.stamps[id].ended);
        Ok(ended.filter(|(_, s)| *s != TaskState::Killed).count())
    }

    /// Ends the acknowledging thread; how many it sent, or why it stopped.
    pub(crate) fn stop_acker(&mut self) -> Result<usize, String> {
        self.acks = None;
        match self.acker.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the acknowledging thread panicked".into()),
            None => Err("the acknowledging thread was already stopped".into()),
        }
    }
}

/// The acknowledging thread: ACKNOWLEDGE of every status with a uuid, on
/// its own keep-alive connection; stops at the first failure.
fn acknowledge_all(
    url: &str,
    stream_id: &str,
    framework: &FrameworkId,
    rx: Receiver<TaskStatus>,
) -> Result<usize, String> {
    let mut client = Client::new(url);
    let headers = [
        ("Content-Type", "application/json"),
        ("Mesos-Stream-Id", stream_id),
    ];
    let mut sent = 0;
    for status in rx {
        let (Some(uuid), Some(agent)) = (status.uuid, status.agent_id) else {
            continue;
        };
        let call = Call::acknowledge(framework.clone(), agent, status.task_id.clone(), uuid);
        let body = json::to_vec(&call).map_err(|e| format!("encoding ACKNOWLEDGE: {e}"))?;
        let r = client
            .post(PATH, &headers, &body)
            .map_err(|e| format!("ACKNOWLEDGE of {}: {e}", status.task_id))?;
        if r.status != 202 {
            let text = r.text();
            return Err(format!(
                "ACKNOWLEDGE of {} answered {}: {text}",
                status.task_id, r.status
            ));
        }
        sent += 1;
    }
    Ok(sent)
}
