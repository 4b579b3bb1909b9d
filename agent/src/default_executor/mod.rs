//! The built-in default executor (`corral executor --default`), what the
//! agent runs for a LAUNCH_GROUP whose executor is of type DEFAULT, as
//! Mesos' default executor: an HTTP executor speaking the agent's
//! `/api/v1/executor` (MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID,
//! MESOS_EXECUTOR_ID), which runs each task of its group as a child
//! process (its own process group, output in `tasks/TASK_ID/` of the
//! sandbox), reports each task's states, kills the rest of the group when
//! one fails or is killed (SIGTERM, SIGKILL after the task's grace
//! period), and exits once every task has ended and the agent holds every
//! update. The decisions are `group.rs`'s; this file runs processes and
//! talks HTTP. Disconnected, it subscribes again (with its unacknowledged
//! updates) for MESOS_RECOVERY_TIMEOUT when the framework checkpoints.

mod group;

use crate::executor::ExitRecord;
use corral_api::executor::{Call, CallType, Event, EventType, Subscribe, Update};
use corral_api::recordio::Decoder;
use corral_api::v1::{Source, TaskState, TaskStatus, VariableType};
use corral_api::{Bytes, ExecutorId, FrameworkId, TaskId};
use group::{Action, Group};
use http_body_util::{BodyExt, Full};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Grace between SIGTERM and SIGKILL when the task names none (Mesos').
const KILL_GRACE: Duration = Duration::from_secs(3);

/// What the agent told it in its environment.
#[derive(Debug, Clone)]
struct Env {
    endpoint: String,
    framework_id: FrameworkId,
    executor_id: ExecutorId,
    sandbox: PathBuf,
    checkpoint: bool,
    recovery: Duration,
}

impl Env {
    fn read() -> Result<Env, String> {
        let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set"));
        Ok(Env {
            endpoint: var("MESOS_AGENT_ENDPOINT")?,
            framework_id: FrameworkId::new(var("MESOS_FRAMEWORK_ID")?),
            executor_id: ExecutorId::new(var("MESOS_EXECUTOR_ID")?),
            sandbox: PathBuf::from(var("MESOS_SANDBOX").unwrap_or_else(|_| ".".into())),
            checkpoint: var("MESOS_CHECKPOINT").is_ok_and(|v| v == "1"),
            recovery: Duration::from_secs(15 * 60),
        })
    }
}

/// Runs the default executor; never returns.
pub fn main() -> ! {
    let code = match Env::read() {
        Err(e) => {
            eprintln!("corral default executor: {e}");
            1
        }
        Ok(env) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(run(env)),
            Err(e) => {
                eprintln!("corral default executor: starting its runtime: {e}");
                1
            }
        },
    };
    std::process::exit(code)
}

/// What its task processes report.
#[derive(Debug)]
enum Note {
    Exited(TaskId, ExitRecord),
}

struct Runner {
    env: Env,
    group: Group,
    pids: HashMap<TaskId, i32>,
    unacked: Vec<TaskStatus>,
    notes: mpsc::UnboundedSender<Note>,
    shutdown: bool,
}

enum Ended {
    Done,
    Disconnected(String),
}

async fn run(env: Env) -> i32 {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut r = Runner {
        env,
        group: Group::default(),
        pids: HashMap::new(),
        unacked: Vec::new(),
        notes: tx,
        shutdown: false,
    };
    let mut delay = Duration::from_millis(100);
    let mut lost_since: Option<Instant> = None;
    loop {
        let why = match r.subscribe().await {
            Ok(body) => {
                lost_since = None;
                delay = Duration::from_millis(100);
                match r.pump(body, &mut rx).await {
                    Ended::Done => return 0,
                    Ended::Disconnected(why) => why,
                }
            }
            Err(e) => e,
        };
        let since = *lost_since.get_or_insert_with(Instant::now);
        if !r.env.checkpoint || since.elapsed() > r.env.recovery {
            eprintln!("corral default executor: lost the agent ({why}); killing the tasks");
            let kill = r.group.kill_all();
            r.apply(kill).await;
            return 1;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

impl Runner {
    fn call(&self, kind: CallType) -> Call {
        Call {
            executor_id: Some(self.env.executor_id.clone()),
            framework_id: Some(self.env.framework_id.clone()),
            r#type: Some(kind),
            ..Call::default()
        }
    }

    async fn post(&self, call: &Call) -> Result<hyper::Response<hyper::body::Incoming>, String> {
        let mut conn = crate::link::connect(&self.env.endpoint)
            .await
            .map_err(|e| e.to_string())?;
        let body = corral_api::json::to_vec(call).map_err(|e| e.to_string())?;
        let req = hyper::Request::post("/api/v1/executor")
            .header("Host", &self.env.endpoint)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(Full::new(hyper::body::Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        conn.send_request(req).await.map_err(|e| e.to_string())
    }

    async fn subscribe(&self) -> Result<hyper::body::Incoming, String> {
        let mut call = self.call(CallType::Subscribe);
        call.subscribe = Some(Subscribe {
            unacknowledged_tasks: Vec::new(),
            unacknowledged_updates: self
                .unacked
                .iter()
                .map(|s| Update { status: s.clone() })
                .collect(),
        });
        let resp = self.post(&call).await?;
        if resp.status() != 200 {
            let status = resp.status();
            let body = resp.into_body().collect().await.map(|b| b.to_bytes());
            let text = body.map(|b| String::from_utf8_lossy(&b).into_owned());
            return Err(format!(
                "SUBSCRIBE answered {status}: {}",
                text.unwrap_or_default()
            ));
        }
        Ok(resp.into_body())
    }

    async fn pump(
        &mut self,
        mut body: hyper::body::Incoming,
        notes: &mut mpsc::UnboundedReceiver<Note>,
    ) -> Ended {
        let mut decoder = Decoder::new();
        loop {
            tokio::select! {
                frame = body.frame() => {
                    let data = match frame {
                        None => return Ended::Disconnected("the agent closed the stream".into()),
                        Some(Err(e)) => return Ended::Disconnected(e.to_string()),
                        Some(Ok(f)) => match f.into_data() {
                            Ok(d) => d,
                            Err(_) => continue,
                        },
                    };
                    let records = match decoder.decode(&data) {
                        Ok(r) => r,
                        Err(e) => return Ended::Disconnected(e.to_string()),
                    };
                    for rec in records {
                        match corral_api::json::from_slice::<Event>(&rec) {
                            Ok(e) => self.on_event(e).await,
                            Err(e) => eprintln!("corral default executor: an event that does not parse: {e}"),
                        }
                    }
                }
                Some(note) = notes.recv() => match note {
                    Note::Exited(id, record) => {
                        self.pids.remove(&id);
                        let actions = self.group.exited(&id, record);
                        self.apply(actions).await;
                    }
                },
            }
            let idle = self.group.done() || (self.shutdown && self.pids.is_empty());
            if idle && self.unacked.is_empty() {
                return Ended::Done;
            }
        }
    }

    async fn on_event(&mut self, e: Event) {
        let actions = match e.r#type {
            Some(EventType::LaunchGroup) => {
                let tasks = e
                    .launch_group
                    .map(|g| g.task_group.tasks)
                    .unwrap_or_default();
                self.group.launch(tasks)
            }
            Some(EventType::Launch) => {
                let tasks = e.launch.map(|l| vec![l.task]).unwrap_or_default();
                self.group.launch(tasks)
            }
            Some(EventType::Kill) => self.group.kill_all(),
            Some(EventType::Shutdown) => {
                self.shutdown = true;
                self.group.kill_all()
            }
            Some(EventType::Acknowledged) => {
                if let Some(a) = e.acknowledged {
                    self.unacked.retain(|s| s.uuid.as_ref() != Some(&a.uuid));
                }
                Vec::new()
            }
            Some(EventType::Error) => {
                let m = e.error.map(|e| e.message).unwrap_or_default();
                eprintln!("corral default executor: the agent says: {m}");
                Vec::new()
            }
            _ => Vec::new(),
        };
        self.apply(actions).await;
    }

    async fn apply(&mut self, actions: Vec<Action>) {
        let mut todo: VecDeque<Action> = actions.into();
        while let Some(a) = todo.pop_front() {
            match a {
                Action::Start(id) => {
                    let result = self.start(&id);
                    todo.extend(self.group.started(&id, result));
                }
                Action::Update(id, state, message) => self.update(id, state, message).await,
                Action::Kill(id) => self.kill(&id),
            }
        }
    }

    /// Starts the task's process; its end comes back as a note.
    fn start(&mut self, id: &TaskId) -> Result<(), String> {
        let task = self.group.task(id).ok_or("unknown task")?;
        let command = task.command.as_ref().ok_or("the task has no command")?;
        let argv = crate::containerizer::command_argv(command, None)?;
        let dir = self.env.sandbox.join("tasks").join(id.as_str());
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let open =
            |n: &str| std::fs::File::create(dir.join(n)).map_err(|e| format!("creating {n}: {e}"));
        let mut cmd = tokio::process::Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(&self.env.sandbox)
            .stdin(std::process::Stdio::null())
            .stdout(open("stdout")?)
            .stderr(open("stderr")?)
            .process_group(0)
            .env("MESOS_TASK_ID", id.as_str());
        for v in command.environment.iter().flat_map(|e| &e.variables) {
            if v.r#type != VariableType::Secret {
                cmd.env(&v.name, v.value.clone().unwrap_or_default());
            }
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("running {:?}: {e}", argv[0]))?;
        let pid = child.id().ok_or("the task ended before it was seen")? as i32;
        self.pids.insert(id.clone(), pid);
        let (tx, id) = (self.notes.clone(), id.clone());
        tokio::spawn(async move {
            use std::os::unix::process::ExitStatusExt;
            let record = match child.wait().await {
                Ok(s) => match s.signal() {
                    Some(sig) => ExitRecord::Signaled(sig),
                    None => ExitRecord::Exited(s.code().unwrap_or(-1)),
                },
                Err(_) => ExitRecord::Exited(-1),
            };
            let _ = tx.send(Note::Exited(id, record));
        });
        Ok(())
    }

    /// SIGTERM to the task's process group now, SIGKILL after its grace.
    fn kill(&self, id: &TaskId) {
        let Some(&pid) = self.pids.get(id) else {
            return;
        };
        let grace = self
            .group
            .task(id)
            .and_then(|t| t.kill_policy)
            .and_then(|k| k.grace_period)
            .and_then(corral_api::v1::DurationInfo::to_duration)
            .unwrap_or(KILL_GRACE);
        // SAFETY: kill with a process group this executor made for the task.
        unsafe { libc::kill(-pid, libc::SIGTERM) };
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            // SAFETY: as above; ESRCH once the group is gone is fine.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        });
    }

    /// Sends an update (kept until the agent acknowledges it).
    async fn update(&mut self, id: TaskId, state: TaskState, message: Option<String>) {
        let mut s = TaskStatus::new(id, state);
        s.source = Some(Source::Executor);
        s.message = message;
        s.executor_id = Some(self.env.executor_id.clone());
        s.uuid = Some(Bytes(uuid::Uuid::new_v4().as_bytes().to_vec()));
        s.timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs_f64());
        self.unacked.push(s.clone());
        let mut call = self.call(CallType::Update);
        call.update = Some(Update { status: s });
        match self.post(&call).await {
            Ok(resp) if resp.status() == 202 => {}
            // Resent with the next SUBSCRIBE.
            Ok(resp) => eprintln!("corral default executor: UPDATE answered {}", resp.status()),
            Err(e) => eprintln!("corral default executor: UPDATE: {e}"),
        }
    }
}
