//! The master's state and the one task that owns it (Mesos' master actor):
//! every HTTP request becomes a [`Command`] on a channel, handled in order,
//! so no state is shared between threads and every decision sees a
//! consistent picture. Timers (allocation passes, heartbeats, offer
//! timeouts, framework failover, agent silence) run on the same loop.
//!
//! One file per concern: [`frameworks`] (subscribe, failover, teardown),
//! [`agents`] (the agent link: subscribe, reconnect, loss), [`offers`]
//! (allocation passes, declines, rescinds), [`accept`] (ACCEPT and its
//! operations), [`reserve`] (RESERVE and UNRESERVE), [`tasks`] (status
//! updates, acknowledgements, kills, reconciliation), [`calls`] (the
//! scheduler call dispatcher).

mod accept;
mod agents;
mod calls;
mod executors;
mod frameworks;
mod offers;
mod operator;
mod persist;
mod reserve;
mod stream;
mod tasks;

pub use operator::OperatorAction;
pub use stream::Stream;

use crate::allocator::{AgentKey, FrameworkKey, HierarchicalAllocator, Options, Resources};
use crate::config::Config;
use bytes::Bytes;
use corral_api::agent_link::{AgentCall, AgentEvent};
use corral_api::scheduler::Call;
use corral_api::v1::{AgentInfo, ExecutorInfo, FrameworkInfo, MasterInfo, Task, TaskStatus};
use corral_api::{AgentId, FrameworkId, OfferId, TaskId};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// A call's failure as the HTTP layer answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// HTTP status.
    pub status: u16,
    /// The body: what went wrong.
    pub message: String,
}

impl CallError {
    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> CallError {
        CallError {
            status: 400,
            message: message.into(),
        }
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> CallError {
        CallError {
            status: 403,
            message: message.into(),
        }
    }
}

/// A granted subscription: the stream id and the body's records.
#[derive(Debug)]
pub struct Subscription {
    /// `Mesos-Stream-Id`.
    pub stream_id: String,
    /// RecordIO records for the response body.
    pub records: mpsc::UnboundedReceiver<Bytes>,
    /// What to report when the body goes away.
    pub closed: Closed,
    /// Resolves once the registry holds the subscriber: answer only then.
    pub durable: Option<crate::registry::Ticket>,
}

/// Whose stream closed.
#[derive(Debug, Clone)]
pub enum Closed {
    /// A framework's subscription.
    Framework(FrameworkId, String),
    /// An agent's link.
    Agent(AgentId, String),
}

type Reply<T> = oneshot::Sender<Result<T, CallError>>;

/// What the HTTP layer asks of the master.
#[derive(Debug)]
pub enum Command {
    /// A scheduler SUBSCRIBE.
    Subscribe {
        call: Box<Call>,
        reply: Reply<Subscription>,
    },
    /// Any other scheduler call, with the caller's stream id header.
    Call {
        call: Box<Call>,
        stream_id: Option<String>,
        reply: Reply<()>,
    },
    /// An agent opens its link.
    AgentSubscribe {
        info: Box<AgentInfo>,
        tasks: Vec<Task>,
        executors: Vec<ExecutorInfo>,
        reply: Reply<Subscription>,
    },
    /// Any other agent call.
    AgentCall {
        agent_id: AgentId,
        stream_id: Option<String>,
        call: Box<AgentCall>,
        reply: Reply<()>,
    },
    /// A subscription's HTTP body went away.
    StreamClosed(Closed),
    /// A snapshot for the operator API and metrics.
    Inspect(oneshot::Sender<crate::view::View>),
    /// Answered at once: the loop is alive (systemd's watchdog).
    Ping(oneshot::Sender<()>),
    /// An operator's action.
    Operator {
        action: OperatorAction,
        reply: Reply<()>,
    },
}

/// A subscribed (or failed-over, disconnected) framework.
#[derive(Debug)]
pub(crate) struct Framework {
    pub info: FrameworkInfo,
    pub key: FrameworkKey,
    pub stream: Option<Stream>,
    /// When a disconnected framework's tasks are killed.
    pub failover_deadline: Option<Instant>,
    pub next_heartbeat: Instant,
    pub offers: HashSet<OfferId>,
    pub registered_at: f64,
}

impl Framework {
    pub fn partition_aware(&self) -> bool {
        self.info
            .has_capability(corral_api::v1::FrameworkCapabilityType::PartitionAware)
    }
}

/// Where an agent's link stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Link {
    /// Streaming; `last_heard` is its last call.
    Connected,
    /// The stream closed at this time; unreachable once silent too long.
    Disconnected,
    /// Declared unreachable (its tasks were reported so).
    Unreachable,
}

/// An agent known to the master.
#[derive(Debug)]
pub(crate) struct Agent {
    pub info: AgentInfo,
    pub key: AgentKey,
    pub stream: Option<Stream>,
    pub link: Link,
    pub last_heard: Instant,
    pub next_heartbeat: Instant,
    pub tasks: HashSet<(FrameworkId, TaskId)>,
    /// Tasks reported TASK_LOST while it was unreachable: killed on return.
    pub lost_tasks: HashSet<(FrameworkId, TaskId)>,
    pub offers: HashSet<OfferId>,
    pub registered_at: f64,
    /// Its dynamic reservations (kept in its registry record).
    pub reservations: crate::reservation::AgentReservations,
    /// Its containers' usage, as last reported (memory only).
    pub usage: Vec<corral_api::agent_link::ContainerUsage>,
    /// The executors running there, charged once each (`executors.rs`).
    pub executors: executors::Executors,
}

impl Agent {
    /// The total the allocator works with: the reported resources with the
    /// reservations moved out of the unreserved part (cut to fit if the
    /// agent shrank; `true` then, and the cut must be persisted).
    pub fn total(&mut self) -> Result<(Resources, bool), crate::convert::ConvertError> {
        let reported = crate::convert::to_alloc(&self.info.resources)?;
        Ok(self.reservations.overlay(&reported))
    }
}

/// An outstanding offer.
#[derive(Debug)]
pub(crate) struct Offer {
    pub framework: FrameworkId,
    pub agent: AgentId,
    pub role: String,
    pub resources: Resources,
    pub expires: Option<Instant>,
}

/// A task the master tracks, from launch until its terminal update is
/// acknowledged.
#[derive(Debug)]
pub(crate) struct TaskEntry {
    pub task: Task,
    pub role: String,
    pub resources: Resources,
    /// Its resources went back to the allocator (terminal update seen).
    pub recovered: bool,
}

/// Counters for metrics.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Offers sent.
    pub offers_sent: u64,
    /// Offers declined.
    pub offers_declined: u64,
    /// Offers rescinded.
    pub offers_rescinded: u64,
    /// Tasks launched.
    pub tasks_launched: u64,
    /// Allocation pass durations, seconds.
    pub allocation_seconds: Vec<f64>,
}

/// All of the master's state.
#[derive(Debug)]
pub struct Master {
    pub(crate) config: Config,
    pub(crate) info: MasterInfo,
    pub(crate) allocator: HierarchicalAllocator,
    pub(crate) frameworks: HashMap<FrameworkId, Framework>,
    pub(crate) framework_keys: HashMap<FrameworkKey, FrameworkId>,
    pub(crate) agents: HashMap<AgentId, Agent>,
    pub(crate) agent_keys: HashMap<AgentKey, AgentId>,
    pub(crate) offers: HashMap<OfferId, Offer>,
    pub(crate) tasks: HashMap<(FrameworkId, TaskId), TaskEntry>,
    pub(crate) counters: Counters,
    /// Kills for tasks nobody tracks, sent once the agent's stream is up.
    pub(crate) pending_kills: Vec<(AgentId, (FrameworkId, TaskId))>,
    /// The registry's writer (none in tests of the loop alone).
    pub(crate) registry: Option<crate::registry::RegistryWriter>,
    allocation_requested: bool,
    next_allocation: Instant,
    sequence: u64,
    started: Instant,
}

impl Master {
    /// A master with nothing registered.
    pub fn new(config: Config, info: MasterInfo) -> Master {
        let mut allocator = HierarchicalAllocator::new(Options::default());
        for (role, weight) in &config.weights {
            // Invalid roles were refused when the flags were parsed.
            let _ = crate::allocator::Allocator::set_weight(&mut allocator, role, *weight);
        }
        for (role, quota) in &config.quota {
            let _ = crate::allocator::Allocator::set_quota(&mut allocator, role, quota.clone());
        }
        let now = Instant::now();
        Master {
            next_allocation: now + config.allocation_interval,
            config,
            info,
            allocator,
            frameworks: HashMap::new(),
            framework_keys: HashMap::new(),
            agents: HashMap::new(),
            agent_keys: HashMap::new(),
            offers: HashMap::new(),
            tasks: HashMap::new(),
            counters: Counters::default(),
            pending_kills: Vec::new(),
            registry: None,
            allocation_requested: false,
            sequence: 0,
            started: now,
        }
    }

    /// Writes every change to `writer` from now on.
    pub fn with_registry(mut self, writer: crate::registry::RegistryWriter) -> Master {
        self.registry = Some(writer);
        self
    }

    /// A fresh id: `<master id>-<kind><number>` (Mesos' shape).
    pub(crate) fn next_id(&mut self, kind: &str) -> String {
        self.sequence += 1;
        format!("{}-{kind}{:04}", self.info.id, self.sequence)
    }

    /// Asks for an allocation pass right after the current batch.
    pub(crate) fn request_allocation(&mut self) {
        self.allocation_requested = true;
    }

    /// Seconds since the epoch, for timestamps.
    pub(crate) fn wall_now() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }

    /// Uptime, for the operator API.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Runs the master until the command channel closes.
    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = commands.recv() => {
                    let Some(cmd) = cmd else { return };
                    self.handle(cmd);
                    // Batch whatever else is queued before allocating.
                    while let Ok(cmd) = commands.try_recv() {
                        self.handle(cmd);
                    }
                }
                _ = tick.tick() => self.timers(Instant::now()),
            }
            let now = Instant::now();
            if self.allocation_requested || now >= self.next_allocation {
                self.allocation_requested = false;
                self.next_allocation = now + self.config.allocation_interval;
                self.allocate(now);
            }
        }
    }

    fn handle(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::Subscribe { call, reply } => {
                let _ = reply.send(self.subscribe(*call, now));
            }
            Command::Call {
                call,
                stream_id,
                reply,
            } => {
                let _ = reply.send(self.call(*call, stream_id.as_deref(), now));
            }
            Command::AgentSubscribe {
                info,
                tasks,
                executors,
                reply,
            } => {
                let _ = reply.send(self.agent_subscribe(*info, tasks, executors, now));
            }
            Command::AgentCall {
                agent_id,
                stream_id,
                call,
                reply,
            } => {
                let _ = reply.send(self.agent_call(&agent_id, stream_id.as_deref(), *call, now));
            }
            Command::StreamClosed(closed) => self.stream_closed(closed, now),
            Command::Inspect(reply) => {
                let _ = reply.send(crate::view::View::of(self));
            }
            Command::Ping(reply) => {
                let _ = reply.send(());
            }
            Command::Operator { action, reply } => {
                let _ = reply.send(self.operator_action(action, now));
            }
        }
    }

    fn timers(&mut self, now: Instant) {
        self.heartbeats(now);
        self.expire_offers(now);
        self.expire_frameworks(now);
        self.check_agents(now);
    }

    fn stream_closed(&mut self, closed: Closed, now: Instant) {
        match closed {
            Closed::Framework(id, stream) => self.framework_disconnected(&id, &stream, now),
            Closed::Agent(id, stream) => self.agent_disconnected(&id, &stream, now),
        }
    }

    /// Sends `event` to the framework if it is connected.
    pub(crate) fn to_framework(&self, id: &FrameworkId, event: &corral_api::scheduler::Event) {
        if let Some(s) = self.frameworks.get(id).and_then(|f| f.stream.as_ref()) {
            s.send(event);
        }
    }

    /// Sends `event` to the agent if it is connected.
    pub(crate) fn to_agent(&self, id: &AgentId, event: &AgentEvent) -> bool {
        self.agents
            .get(id)
            .and_then(|a| a.stream.as_ref())
            .is_some_and(|s| s.send(event))
    }

    /// A status update made by the master itself (no uuid, no ack).
    pub(crate) fn master_status(
        task_id: &TaskId,
        agent_id: Option<&AgentId>,
        state: corral_api::v1::TaskState,
        reason: corral_api::v1::Reason,
        message: impl Into<String>,
    ) -> TaskStatus {
        TaskStatus {
            agent_id: agent_id.cloned(),
            source: Some(corral_api::v1::Source::Master),
            reason: Some(reason),
            message: Some(message.into()),
            timestamp: Some(Master::wall_now()),
            ..TaskStatus::new(task_id.clone(), state)
        }
    }
}
