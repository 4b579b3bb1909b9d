//! Simulated agents for master tests: each speaks corral's agent link
//! (`corral_api::agent_link`) to a real master from one thread, runs no
//! process, and makes its launched tasks report what a [`Behaviour`] says,
//! with Mesos' reliable status updates (in order per task, one in flight,
//! resent on a backoff until acknowledged). Everything received is recorded
//! for assertions; `disconnect`/`reconnect`/`pause_heartbeats` simulate
//! partitions and hung agents. A refused first subscription makes `start`
//! panic with the master's message.
//!
//! A task's command can override the agent's behaviour: `sim:finish 0.5`,
//! `sim:fail`, `sim:run`, `sim:never`.
//!
//! Parts: `updates` (the pure update queue), `state` (the pure task logic),
//! `link` (the thread and its I/O).

mod link;
mod state;
mod updates;

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corral_api::agent_link::{AgentCall, AgentEvent};
use corral_api::v1::{AgentInfo, Attribute, Resource, TaskInfo, TaskState, TaskStatus};
use corral_api::{AgentId, Bytes, FrameworkId, TaskId};

pub use state::{Behaviour, random_uuid};
pub use updates::{Backoff, UpdateQueue};

use link::{Conn, Shared, State};
use state::Brain;

/// How long `start` and `reconnect` wait for SUBSCRIBED.
pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(30);

/// What a simulated agent is.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Host name (default: unique per agent, `sim-<pid>-<n>`).
    pub hostname: String,
    /// `AgentInfo.port` (default 5051).
    pub port: i32,
    /// Total resources (default `cpus:4;mem:4096;disk:10000;ports:[31000-32000]`).
    pub resources: Vec<Resource>,
    /// Attributes (default none).
    pub attributes: Vec<Attribute>,
    /// What launched tasks do (default `Finish` after 100 ms).
    pub behaviour: Behaviour,
    /// Resend schedule of unacknowledged updates (default 200 ms → 2 s).
    pub backoff: Backoff,
    /// Whether to subscribe again (with backoff) when the link drops or an
    /// ERROR event ends it (default true; `disconnect()` always keeps it
    /// down until `reconnect()`).
    pub auto_reconnect: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        SimOptions {
            hostname: format!("sim-{}-{n}", std::process::id()),
            port: 5051,
            resources: default_resources(),
            attributes: Vec::new(),
            behaviour: Behaviour::Finish {
                after: Duration::from_millis(100),
            },
            backoff: Backoff::default(),
            auto_reconnect: true,
        }
    }
}

/// `cpus:4;mem:4096;disk:10000;ports:[31000-32000]`.
pub fn default_resources() -> Vec<Resource> {
    corral_api::resources::parse("cpus:4;mem:4096;disk:10000;ports:[31000-32000]", "*").unwrap()
}

/// One simulated agent; its thread stops when it is dropped.
#[derive(Debug)]
pub struct SimAgent {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    url: String,
    hostname: String,
}

impl SimAgent {
    /// Starts an agent and waits until the master answered SUBSCRIBED.
    pub fn start(master_url: &str, opts: SimOptions) -> SimAgent {
        let agent = SimAgent::spawn(master_url, opts);
        agent.wait_subscriptions(1, SUBSCRIBE_TIMEOUT);
        agent
    }

    fn spawn(master_url: &str, opts: SimOptions) -> SimAgent {
        let state = State {
            brain: Brain::new(opts.behaviour, opts.backoff),
            conn: Conn {
                want: true,
                auto_reconnect: opts.auto_reconnect,
                ..Conn::default()
            },
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed: Condvar::new(),
        });
        let info = AgentInfo {
            hostname: opts.hostname.clone(),
            port: opts.port,
            resources: opts.resources,
            attributes: opts.attributes,
            ..AgentInfo::default()
        };
        let (s, url) = (shared.clone(), master_url.to_owned());
        let thread = std::thread::Builder::new()
            .name(format!("simagent {}", opts.hostname))
            .spawn(move || link::run(s, url, info, opts.backoff))
            .unwrap();
        SimAgent {
            shared,
            thread: Some(thread),
            url: master_url.to_owned(),
            hostname: opts.hostname,
        }
    }

    fn wait_subscriptions(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut s = self.shared.lock();
        while s.conn.subscriptions < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || s.conn.refused.is_some() {
                panic!(
                    "agent {} did not subscribe to {} within {timeout:?} (refused: {:?}); errors:\n{}",
                    self.hostname,
                    self.url,
                    s.conn.refused,
                    s.conn.errors.join("\n")
                );
            }
            s = self.shared.changed.wait_timeout(s, left).unwrap().0;
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.shared.lock())
    }

    /// The id from the latest SUBSCRIBED.
    pub fn agent_id(&self) -> AgentId {
        self.with(|s| s.brain.agent_id.clone().unwrap_or_default())
    }

    /// Its host name.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Every task launched, in order.
    pub fn launched(&self) -> Vec<TaskInfo> {
        self.with(|s| s.brain.launched.clone())
    }

    /// Every ACKNOWLEDGE received: task and uuid.
    pub fn acked(&self) -> Vec<(TaskId, Bytes)> {
        self.with(|s| s.brain.acked.clone())
    }

    /// Every event received except HEARTBEATs, in order.
    pub fn events(&self) -> Vec<AgentEvent> {
        self.with(|s| s.brain.events.clone())
    }

    /// Every update sent and answered 202, resends included, in order.
    pub fn sent_updates(&self) -> Vec<TaskStatus> {
        self.with(|s| s.conn.sent.clone())
    }

    /// Updates not acknowledged yet.
    pub fn pending_updates(&self) -> usize {
        self.with(|s| s.brain.queue.len())
    }

    /// The latest state of a task (by id, any framework).
    pub fn task_state(&self, task_id: &str) -> Option<TaskState> {
        self.with(|s| {
            let mut tasks = s.brain.tasks.iter();
            tasks
                .find(|(k, _)| k.1.as_str() == task_id)
                .map(|(_, t)| t.state)
        })
    }

    /// HEARTBEATs received and answered (202).
    pub fn heartbeats(&self) -> (usize, usize) {
        self.with(|s| (s.brain.heartbeats, s.conn.answered))
    }

    /// Successful subscriptions so far (1 after start).
    pub fn subscriptions(&self) -> usize {
        self.with(|s| s.conn.subscriptions)
    }

    /// Whether the link is open.
    pub fn is_connected(&self) -> bool {
        self.with(|s| s.conn.connected)
    }

    /// Refused calls, lost links, failed subscriptions, in order.
    pub fn errors(&self) -> Vec<String> {
        self.with(|s| s.conn.errors.clone())
    }

    /// The message of the latest ERROR event from the master (which ended
    /// a link, or refused a subscription).
    pub fn refused(&self) -> Option<String> {
        self.with(|s| s.conn.refused.clone())
    }

    /// Waits until `pred` holds (checked every 20 ms); panics naming `what`
    /// with the agent's errors and events otherwise.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&SimAgent) -> bool) {
        let deadline = Instant::now() + timeout;
        while !pred(self) {
            if Instant::now() >= deadline {
                let events: Vec<String> = self.events().iter().map(|e| format!("{e:?}")).collect();
                panic!(
                    "agent {}: {what} did not happen within {timeout:?}; errors:\n{}\nevents:\n{}",
                    self.hostname,
                    self.errors().join("\n"),
                    events.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Drops the link and stops answering until [`SimAgent::reconnect`].
    pub fn disconnect(&self) {
        self.with(|s| {
            s.conn.want = false;
            if let Some(socket) = s.conn.socket.take() {
                let _ = socket.shutdown(std::net::Shutdown::Both);
            }
        });
        self.shared.changed.notify_all();
        self.wait_for("disconnect", Duration::from_secs(10), |a| !a.is_connected());
    }

    /// Subscribes again with its id and its tasks; waits for SUBSCRIBED.
    pub fn reconnect(&self) {
        let n = self.with(|s| {
            s.conn.want = true;
            s.conn.refused = None;
            s.conn.subscriptions
        });
        self.shared.changed.notify_all();
        self.wait_subscriptions(n + 1, SUBSCRIBE_TIMEOUT);
    }

    /// Hangs (or resumes) the agent: while hung it still reads and records
    /// events but answers no HEARTBEAT, sends no update and does not
    /// subscribe again if the link drops. On resume it catches up.
    pub fn pause_heartbeats(&self, paused: bool) {
        self.with(|s| s.brain.paused = paused);
    }

    /// Changes what tasks launched from now on do.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.with(|s| s.brain.behaviour = behaviour);
    }

    /// Queues an update of a task of `framework_id` (delivered reliably).
    pub fn send_update(&self, framework_id: &FrameworkId, task_id: &str, state: TaskState) {
        let key = (framework_id.clone(), TaskId::new(task_id));
        self.with(|s| s.brain.update(key, state, (None, "sent by the test")));
    }

    /// Tells the master the agent's total resources changed.
    pub fn set_total(&self, total: Vec<Resource>) {
        self.send_call(&AgentCall::Resources { total });
    }

    /// Sends `call` on the agent's link now (errors are recorded, see
    /// [`SimAgent::errors`]).
    pub fn send_call(&self, call: &AgentCall) {
        link::send_now(&self.shared, &self.url, call);
    }
}

impl Drop for SimAgent {
    fn drop(&mut self) {
        self.with(|s| {
            s.conn.stop = true;
            if let Some(socket) = s.conn.socket.take() {
                let _ = socket.shutdown(std::net::Shutdown::Both);
            }
        });
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Many agents (one thread each; meant for n ≤ 100).
#[derive(Debug)]
pub struct SimAgents {
    /// The agents, hostnames `<opts.hostname>-<i>`.
    pub agents: Vec<SimAgent>,
}

impl SimAgents {
    /// Starts `n` agents like `opts` at once and waits until all subscribed.
    pub fn start_many(master_url: &str, n: usize, opts: SimOptions) -> SimAgents {
        let agents: Vec<SimAgent> = (0..n)
            .map(|i| {
                let hostname = format!("{}-{i}", opts.hostname);
                SimAgent::spawn(
                    master_url,
                    SimOptions {
                        hostname,
                        ..opts.clone()
                    },
                )
            })
            .collect();
        for agent in &agents {
            agent.wait_subscriptions(1, SUBSCRIBE_TIMEOUT);
        }
        SimAgents { agents }
    }

    /// Tasks launched over all agents.
    pub fn launched(&self) -> usize {
        self.agents.iter().map(|a| a.launched().len()).sum()
    }
}

impl std::ops::Deref for SimAgents {
    type Target = [SimAgent];

    fn deref(&self) -> &[SimAgent] {
        &self.agents
    }
}

#[cfg(test)]
mod tests;
