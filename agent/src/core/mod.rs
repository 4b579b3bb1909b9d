//! The agent's state and the one task that owns it (as the master's core):
//! the link, container completions, timers and HTTP queries all arrive as
//! [`Input`]s on one channel; blocking work (launch, finish) runs on the
//! blocking pool and comes back as inputs. No lock guards the state.

mod containers;
mod disk;
mod events;
mod query;
mod recover;

pub use query::{ContainerView, Query};

use crate::containerizer::{Containerizer, Started, TaskRecord, Verdict};
use crate::link::{Caller, LinkInput};
use crate::paths::ContainerId;
use crate::status::UpdateManager;
use corral_api::agent_link::{AgentCall, ContainerUsage};
use corral_api::v1::AgentInfo;
use corral_api::{AgentId, Bytes, FrameworkId, TaskId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often timers are checked.
const TICK: Duration = Duration::from_millis(100);

/// What reaches the agent's loop.
#[derive(Debug)]
pub enum Input {
    Link(LinkInput),
    Launched {
        id: ContainerId,
        result: Result<Started, String>,
    },
    Exited {
        id: ContainerId,
    },
    Finished {
        id: ContainerId,
        result: Result<Verdict, String>,
    },
    /// A sandbox's measured disk usage against its quota, bytes.
    DiskUsage {
        id: ContainerId,
        used: u64,
        limit: u64,
    },
    /// The master refused an update for good (4xx): it is dropped.
    Refused {
        id: ContainerId,
        uuid: Bytes,
        message: String,
    },
    Query(Query),
    /// The containers' usage, for the master.
    Usage(Vec<ContainerUsage>),
}

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Launching,
    Running(Started),
    /// Its init ended; the verdict is being read.
    Finishing,
    /// Its terminal update is out (maybe not yet acknowledged).
    Ended,
}

#[derive(Debug)]
pub(crate) struct Container {
    pub rec: TaskRecord,
    pub phase: Phase,
    /// A kill was asked for: when to escalate to cgroup.kill.
    pub kill_deadline: Option<Instant>,
    pub killed: bool,
    /// Killed over its disk quota: (used, limit) bytes.
    pub disk_exceeded: Option<(u64, u64)>,
}

/// The agent's state.
#[derive(Debug)]
pub struct Agent {
    pub(crate) containerizer: Arc<Containerizer>,
    pub(crate) updates: UpdateManager,
    pub(crate) containers: BTreeMap<ContainerId, Container>,
    pub(crate) tasks: HashMap<(FrameworkId, TaskId), ContainerId>,
    pub(crate) info: AgentInfo,
    pub(crate) stream_id: Option<String>,
    pub(crate) kill_grace: Duration,
    pub(crate) tx: mpsc::Sender<Input>,
    pub(crate) calls: mpsc::UnboundedSender<Outgoing>,
    /// Controllers the tasks' cgroups can have (for GET_AGENT).
    pub(crate) controllers: Vec<String>,
    /// How often sandboxes are measured against their disk quota.
    pub(crate) disk_watch: Duration,
    pub(crate) next_disk_check: Instant,
    /// Launches running at once: each is mostly kernel work (clone,
    /// mounts), so more than the CPUs only slows every one and starves
    /// the loop.
    pub(crate) launches: Arc<tokio::sync::Semaphore>,
    /// What systemd is told (a no-op outside it).
    pub(crate) service: crate::service::Service,
}

/// A call to send to the master, and the update it carries if any.
#[derive(Debug)]
pub struct Outgoing {
    call: AgentCall,
    stream_id: String,
    agent_id: String,
    update_of: Option<(ContainerId, Bytes)>,
}

impl Agent {
    /// A new agent over `containerizer`; `info` without an id unless the
    /// work dir had one.
    pub fn new(
        containerizer: Arc<Containerizer>,
        updates: UpdateManager,
        info: AgentInfo,
        kill_grace: Duration,
        controllers: Vec<String>,
        tx: mpsc::Sender<Input>,
        calls: mpsc::UnboundedSender<Outgoing>,
    ) -> Agent {
        Agent {
            containerizer,
            updates,
            containers: BTreeMap::new(),
            tasks: HashMap::new(),
            info,
            stream_id: None,
            kill_grace,
            tx,
            calls,
            controllers,
            disk_watch: Duration::from_secs(15),
            next_disk_check: Instant::now(),
            launches: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            service: crate::service::Service::new(corral_systemd::Notifier::none()),
        }
    }

    /// Reports to systemd through `service`.
    pub fn with_service(mut self, service: crate::service::Service) -> Agent {
        self.service = service;
        self
    }

    /// Sets how often sandboxes are measured against their disk quota.
    pub fn with_disk_watch(mut self, every: Duration) -> Agent {
        self.disk_watch = every;
        self
    }

    /// The agent's id, once the master gave one.
    pub fn id(&self) -> Option<&AgentId> {
        self.info.id.as_ref()
    }

    /// Runs the loop until every sender is gone.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Input>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                input = rx.recv() => match input {
                    Some(i) => self.handle(i),
                    None => return,
                },
                _ = tick.tick() => self.on_tick(Instant::now()),
            }
        }
    }

    fn handle(&mut self, input: Input) {
        if std::env::var_os("CORRAL_AGENT_TRACE").is_some() {
            eprintln!("TRACE input {input:?}");
        }
        match input {
            Input::Link(l) => self.on_link(l),
            Input::Launched { id, result } => self.on_launched(&id, result),
            Input::Exited { id } => self.on_exited(&id),
            Input::Finished { id, result } => self.on_finished(&id, result),
            Input::Refused { id, uuid, message } => {
                eprintln!(
                    "corral agent: the master refused update {uuid:?} of container {id}: {message}; dropping it"
                );
                self.on_ack(&id, &uuid);
            }
            Input::DiskUsage { id, used, limit } => self.on_disk_usage(&id, used, limit),
            Input::Query(q) => self.on_query(q),
            Input::Usage(containers) => self.send(AgentCall::Usage { containers }, None),
        }
        self.flush(Instant::now());
    }

    fn on_tick(&mut self, now: Instant) {
        self.service.tick(now);
        self.escalate_kills(now);
        self.check_disks(now);
        self.flush(now);
    }

    /// Sends every update due now (a fresh one is due at once, so inputs
    /// that generate updates flush them without waiting for the tick).
    pub(crate) fn flush(&mut self, now: Instant) {
        if self.stream_id.is_none() {
            return;
        }
        for (framework_id, status) in self.updates.due(now) {
            let Some(id) = self
                .tasks
                .get(&(framework_id.clone(), status.task_id.clone()))
                .cloned()
            else {
                continue;
            };
            let uuid = status.uuid.clone().expect("queued updates have uuids");
            self.send(
                AgentCall::Update {
                    framework_id,
                    status: Box::new(status),
                },
                Some((id, uuid)),
            );
        }
    }

    /// Queues `call` for the master (dropped while there is no link: the
    /// update manager resends when one comes up).
    pub(crate) fn send(&self, call: AgentCall, update_of: Option<(ContainerId, Bytes)>) {
        let (Some(stream_id), Some(agent_id)) = (&self.stream_id, self.id()) else {
            return;
        };
        let _ = self.calls.send(Outgoing {
            call,
            stream_id: stream_id.clone(),
            agent_id: agent_id.to_string(),
            update_of,
        });
    }
}

/// Sends queued calls in order on one connection; a 4xx answer to an
/// update is reported back (the master will never take it).
pub async fn sender(
    master: String,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    tx: mpsc::Sender<Input>,
) {
    let mut caller = Caller::new(master);
    while let Some(out) = rx.recv().await {
        let r = caller.call(&out.call, &out.stream_id, &out.agent_id).await;
        if std::env::var_os("CORRAL_AGENT_TRACE").is_some() {
            eprintln!("TRACE call {:?} -> {r:?}", out.call);
        }
        match r {
            Ok(()) => {}
            Err(crate::link::LinkError::Refused { status, body })
                if (400..500).contains(&status) =>
            {
                if let Some((id, uuid)) = out.update_of {
                    let message = format!("{status}: {body}");
                    let _ = tx.send(Input::Refused { id, uuid, message }).await;
                }
            }
            // Resent later by the update manager; heartbeats are not.
            Err(_) => {}
        }
    }
}
