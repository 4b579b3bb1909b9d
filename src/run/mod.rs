//! `corral run`: one command as a task, the way `docker run` feels. It
//! subscribes as a framework over Mesos' v1 scheduler API, takes the first
//! offer with room (declining the others), launches the task, prints its
//! state changes to stderr, copies its stdout and stderr from the agent
//! while it runs, acknowledges every update, and exits with the task's
//! exit status. Ctrl-C (or SIGTERM) kills the task and waits for it;
//! a second one gives up at once. The framework is torn down either way.

mod output;
pub mod plan;
mod scheduler;

use crate::client;
use anyhow::{Context, Result, anyhow};
use clap::Args;
use corral_api::scheduler::{Call, Event, EventType};
use corral_api::v1::{Filters, FrameworkInfo, Offer, OfferOperation, TaskInfo, TaskStatus};
use corral_api::{AgentId, TaskId};
use output::Tail;
use plan::Want;
use scheduler::Subscription;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

/// What `corral run` exits with when it could not run the task at all
/// (no master, refused, the stream broke), as `docker run` does.
pub const RUN_FAILED: i32 = 125;

/// How long the agent may be unreadable before the output is given up on.
const OUTPUT_GIVE_UP: Duration = Duration::from_secs(60);

/// Flags of `corral run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The master's URL.
    #[arg(long, default_value = "http://127.0.0.1:5050")]
    master: String,
    /// CPUs for the task.
    #[arg(long, default_value_t = 0.5)]
    cpus: f64,
    /// Memory for the task, MiB.
    #[arg(long, default_value_t = 128.0)]
    mem: f64,
    /// Disk for the task, MiB (default: none asked for).
    #[arg(long, default_value_t = 0.0)]
    disk: f64,
    /// The task's name (default: the command's first word).
    #[arg(long)]
    name: Option<String>,
    /// The role the framework subscribes with.
    #[arg(long, default_value = "*")]
    role: String,
    /// A container image (`NAME[:TAG]`, from the agent's --docker-registry):
    /// the task runs in its rootfs, with its Env, WorkingDir and User;
    /// without CMD, its Entrypoint/Cmd.
    #[arg(long)]
    image: Option<String>,
    /// The agent's URL for reading the task's output (default: the
    /// hostname and port the agent registered with).
    #[arg(long)]
    agent: Option<String>,
    /// The command: one argument runs through `/bin/sh -c`, several run as
    /// an argv.
    #[arg(
        required_unless_present = "image",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<String>,
}

/// Runs the command as a task; the process's exit code.
pub fn main(args: RunArgs) -> i32 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match rt {
        Ok(rt) => rt.block_on(run(args)),
        Err(e) => Err(anyhow!("starting the async runtime: {e}")),
    };
    result.unwrap_or_else(|e| {
        eprintln!("corral run: {e:#}");
        RUN_FAILED
    })
}

/// The user tasks run as: this process's own (from /etc/passwd).
fn current_user() -> String {
    // SAFETY: geteuid cannot fail and touches no memory.
    let uid = unsafe { libc::geteuid() };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2].parse() == Ok(uid))
        .map(|f| f[0].to_string())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "root".into())
}

/// Where the run is.
#[derive(Debug)]
struct Run {
    sub: Subscription,
    master: String,
    agent_override: Option<String>,
    task: TaskInfo,
    want: Want,
    launched_on: Option<AgentId>,
    told_waiting: bool,
    tail: Option<Tail>,
    tail_failed: bool,
    /// Since when reading the output fails (the agent restarting, say).
    tail_failing_since: Option<std::time::Instant>,
    /// The signal that asked for a kill.
    interrupted: Option<i32>,
}

async fn run(args: RunArgs) -> Result<i32> {
    let master = client::authority(&args.master, 5050)?;
    let command = match (&args.image, args.command.is_empty()) {
        (Some(_), true) => plan::image_default_command(),
        _ => plan::command_info(&args.command).map_err(|e| anyhow!(e))?,
    };
    let words = match (&args.image, args.command.is_empty()) {
        (Some(image), true) => vec![image.clone()],
        _ => args.command.clone(),
    };
    let name = plan::task_name(args.name.as_deref(), &words);
    let mut int = signal(SignalKind::interrupt()).context("watching SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("watching SIGTERM")?;
    let mut info = FrameworkInfo::new(current_user(), "corral-run");
    info.role = Some(args.role.clone());
    info.hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string());
    let sub = Subscription::open(&master, info, client::REQUEST_TIMEOUT).await?;
    let task_id = TaskId::new(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    eprintln!(
        "corral run: framework {} subscribed at http://{master}; task {task_id}",
        sub.framework_id()
    );
    let mut r = Run {
        sub,
        master,
        agent_override: args.agent.clone(),
        task: TaskInfo {
            name,
            task_id,
            command: Some(command),
            container: args.image.as_deref().map(plan::container_info),
            ..TaskInfo::default()
        },
        want: Want {
            cpus: args.cpus,
            mem: args.mem,
            disk: args.disk,
        },
        launched_on: None,
        told_waiting: false,
        tail: None,
        tail_failed: false,
        tail_failing_since: None,
        interrupted: None,
    };
    let silence = r.sub.heartbeat() * 3 + Duration::from_secs(5);
    let mut deadline = Instant::now() + silence;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        let signo = tokio::select! {
            event = r.sub.next() => {
                let event = event?.ok_or_else(|| anyhow!("the master closed the event stream"))?;
                deadline = Instant::now() + silence;
                if let Some(code) = r.handle(event).await? {
                    return Ok(code);
                }
                continue;
            }
            _ = tick.tick() => {
                r.poll_output().await;
                continue;
            }
            () = tokio::time::sleep_until(deadline) => {
                return Err(anyhow!("the master sent nothing for {silence:?}"));
            }
            _ = int.recv() => libc::SIGINT,
            _ = term.recv() => libc::SIGTERM,
        };
        if let Some(code) = r.interrupt(signo).await? {
            return Ok(code);
        }
    }
}

impl Run {
    /// Handles one event; `Some(exit code)` once the run is over.
    async fn handle(&mut self, event: Event) -> Result<Option<i32>> {
        match event.r#type {
            Some(EventType::Offers) => {
                let offers = event.offers.map(|o| o.offers).unwrap_or_default();
                self.offers(offers).await?;
            }
            Some(EventType::Update) => {
                if let Some(u) = event.update {
                    return self.update(u.status).await;
                }
            }
            Some(EventType::Error) => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                return Err(anyhow!("the master ended the framework: {message}"));
            }
            Some(EventType::Failure) => {
                if let Some(f) = event.failure {
                    eprintln!("corral run: the master reports a failure: {f:?}");
                }
            }
            _ => {}
        }
        Ok(None)
    }

    async fn offers(&mut self, offers: Vec<Offer>) -> Result<()> {
        let mut decline = Vec::new();
        for offer in offers {
            if self.launched_on.is_some() || self.interrupted.is_some() {
                decline.push(offer.id);
                continue;
            }
            let Some(resources) = plan::take(&offer, self.want) else {
                if !self.told_waiting {
                    self.told_waiting = true;
                    eprintln!(
                        "corral run: waiting for an offer with room for {} (agent {} offers {})",
                        self.want,
                        offer.hostname,
                        plan::offered(&offer)
                    );
                }
                decline.push(offer.id);
                continue;
            };
            let mut task = self.task.clone();
            task.agent_id = offer.agent_id.clone();
            task.resources = resources;
            let launch = vec![OfferOperation::launch(vec![task])];
            let fid = self.sub.framework_id().clone();
            self.sub
                .call(Call::accept(fid, vec![offer.id], launch, None))
                .await?;
            eprintln!(
                "corral run: launching on agent {} ({}) with {}",
                offer.agent_id, offer.hostname, self.want
            );
            self.launched_on = Some(offer.agent_id);
            let fid = self.sub.framework_id().clone();
            self.sub.call(Call::suppress(fid, Vec::new())).await?;
        }
        if !decline.is_empty() {
            let refuse = if self.launched_on.is_some() {
                3600.0
            } else {
                1.0
            };
            let filters = Some(Filters {
                refuse_seconds: refuse,
            });
            let fid = self.sub.framework_id().clone();
            self.sub.call(Call::decline(fid, decline, filters)).await?;
        }
        Ok(())
    }

    async fn update(&mut self, status: TaskStatus) -> Result<Option<i32>> {
        if status.task_id != self.task.task_id {
            self.acknowledge(&status).await?;
            return Ok(None);
        }
        if self.tail.is_none()
            && !self.tail_failed
            && let Some(cid) = status
                .container_status
                .as_ref()
                .and_then(|c| c.container_id.as_ref())
        {
            match self.agent_address(status.agent_id.as_ref()).await {
                Ok(agent) => self.tail = Some(Tail::new(agent, cid.as_str().to_string())),
                Err(e) => self.output_failed(&e),
            }
        }
        let terminal = status.state.is_terminal();
        if terminal {
            // The whole output before the last line, waiting out an agent
            // that is restarting.
            while !self.poll_output().await && self.tail.is_some() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        let line = plan::describe(&status);
        eprintln!("corral run: task {} {line}", status.task_id);
        self.acknowledge(&status).await?;
        if !terminal {
            return Ok(None);
        }
        let fid = self.sub.framework_id().clone();
        if let Err(e) = self.sub.call(Call::teardown(fid)).await {
            eprintln!("corral run: TEARDOWN: {e:#}");
        }
        let code = match self.interrupted {
            Some(signo) if status.state == corral_api::v1::TaskState::Killed => 128 + signo,
            _ => plan::exit_code(&status),
        };
        Ok(Some(code))
    }

    async fn acknowledge(&mut self, status: &TaskStatus) -> Result<()> {
        let (Some(uuid), Some(agent)) = (status.uuid.clone(), status.agent_id.clone()) else {
            return Ok(());
        };
        let fid = self.sub.framework_id().clone();
        let call = Call::acknowledge(fid, agent, status.task_id.clone(), uuid);
        self.sub.call(call).await
    }

    /// Ctrl-C or SIGTERM: kill the task and wait for it; before a launch,
    /// or the second time, tear down at once.
    async fn interrupt(&mut self, signo: i32) -> Result<Option<i32>> {
        let fid = self.sub.framework_id().clone();
        match (&self.launched_on, self.interrupted) {
            (Some(agent), None) => {
                eprintln!(
                    "corral run: killing task {} (again to give up waiting)",
                    self.task.task_id
                );
                self.interrupted = Some(signo);
                let call = Call::kill(fid, self.task.task_id.clone(), Some(agent.clone()));
                self.sub.call(call).await?;
                Ok(None)
            }
            _ => {
                eprintln!("corral run: interrupted; tearing the framework down");
                self.sub.call(Call::teardown(fid)).await?;
                Ok(Some(128 + signo))
            }
        }
    }

    /// Copies what the task wrote since the last poll; false when the
    /// agent could not be read. An agent that stays unreadable for
    /// [`OUTPUT_GIVE_UP`] is given up on (said so); until then every poll
    /// retries from where the copy stopped, so an agent restart loses
    /// nothing.
    async fn poll_output(&mut self) -> bool {
        let Some(tail) = self.tail.as_mut() else {
            return true;
        };
        let Err(e) = tail.poll().await else {
            if self.tail_failing_since.take().is_some() {
                eprintln!("corral run: reading the task's output again");
            }
            return true;
        };
        let e = e.context(format!(
            "reading the task's output from the agent at {}",
            tail.agent()
        ));
        let now = std::time::Instant::now();
        match self.tail_failing_since {
            None => {
                eprintln!("corral run: {e:#}; retrying");
                self.tail_failing_since = Some(now);
            }
            Some(since) if now.duration_since(since) > OUTPUT_GIVE_UP => {
                self.tail = None;
                self.output_failed(&e);
            }
            Some(_) => {}
        }
        false
    }

    fn output_failed(&mut self, e: &anyhow::Error) {
        self.tail_failed = true;
        eprintln!(
            "corral run: WARNING: {e:#}; the output stays in the task's sandbox on the agent \
             (--agent URL names where to read it)"
        );
    }

    /// `HOST:PORT` of the agent's API: `--agent`, else what it registered.
    async fn agent_address(&self, agent_id: Option<&AgentId>) -> Result<String> {
        if let Some(url) = &self.agent_override {
            return client::authority(url, 5051);
        }
        let id = agent_id.ok_or_else(|| anyhow!("the update names no agent"))?;
        let call = br#"{"type":"GET_AGENTS"}"#.to_vec();
        let (status, body) = client::exchange(&self.master, "POST", "/api/v1", Some(call)).await?;
        if status != 200 {
            return Err(anyhow!("the master answered GET_AGENTS with {status}"));
        }
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        agent_in(&v, id.as_str()).ok_or_else(|| anyhow!("the master does not list agent {id}"))
    }
}

/// `HOST:PORT` of agent `id` in a GET_AGENTS answer. Pure.
fn agent_in(v: &serde_json::Value, id: &str) -> Option<String> {
    let agents = v["get_agents"]["agents"].as_array()?;
    let info = agents
        .iter()
        .map(|a| &a["agent_info"])
        .find(|i| i["id"]["value"].as_str() == Some(id))?;
    let host = info["hostname"].as_str()?;
    let port = info["port"].as_i64().unwrap_or(5051);
    Some(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_address_comes_from_get_agents() {
        let v = serde_json::json!({"type": "GET_AGENTS", "get_agents": {"agents": [
            {"agent_info": {"id": {"value": "a1"}, "hostname": "h1", "port": 5051}},
            {"agent_info": {"id": {"value": "a2"}, "hostname": "localhost", "port": 40001}},
            {"agent_info": {"id": {"value": "a3"}, "hostname": "::1", "port": 5}},
        ]}});
        assert_eq!(agent_in(&v, "a2").as_deref(), Some("localhost:40001"));
        assert_eq!(agent_in(&v, "a3").as_deref(), Some("[::1]:5"));
        assert_eq!(agent_in(&v, "a9"), None);
    }
}
