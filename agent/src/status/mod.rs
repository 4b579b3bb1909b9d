//! The status-update manager, as Mesos': every update of a task is
//! checkpointed (appended to its log and fsync'd) before it is sent; per
//! task, updates go out in order, one at a time, the head resent on a
//! backoff (10 s doubling to 10 min) until the framework's acknowledgement
//! (relayed by the master) names its uuid; acknowledgements are logged too.
//! After a restart the log is replayed, so nothing generated is lost and
//! nothing acknowledged is sent again. The clock is the caller's.

use crate::checkpoint::{self, CheckpointError};
use crate::paths::ContainerId;
use corral_api::v1::TaskStatus;
use corral_api::{Bytes, FrameworkId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Resend schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// Mesos' STATUS_UPDATE_RETRY_INTERVAL_MIN/MAX.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(600),
        }
    }
}

/// One line of a task's update log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogRecord {
    Update(Box<TaskStatus>),
    Ack(Bytes),
}

#[derive(Debug)]
struct Stream {
    framework_id: FrameworkId,
    log: PathBuf,
    pending: VecDeque<TaskStatus>,
    latest: Option<TaskStatus>,
    /// When the head goes out (again); `None`: now.
    next_send: Option<Instant>,
    wait: Duration,
    terminal_acked: bool,
    /// Every uuid logged (an executor resends what it was not told the
    /// agent holds).
    seen: Vec<Bytes>,
}

/// Updates of every task on the agent.
#[derive(Debug, Default)]
pub struct UpdateManager {
    backoff: Backoff,
    streams: BTreeMap<ContainerId, Stream>,
}

impl UpdateManager {
    /// An empty manager.
    pub fn new(backoff: Backoff) -> UpdateManager {
        UpdateManager {
            backoff,
            streams: BTreeMap::new(),
        }
    }

    /// Starts (or, after a restart, replays) the stream of a container's
    /// task from its log.
    pub fn open(
        &mut self,
        id: &ContainerId,
        framework_id: FrameworkId,
        log: PathBuf,
    ) -> Result<(), CheckpointError> {
        let mut s = Stream {
            framework_id,
            log,
            pending: VecDeque::new(),
            latest: None,
            next_send: None,
            wait: self.backoff.initial,
            terminal_acked: false,
            seen: Vec::new(),
        };
        for r in checkpoint::read_log::<LogRecord>(&s.log)? {
            match r {
                LogRecord::Update(u) => {
                    s.seen.extend(u.uuid.clone());
                    s.latest = Some((*u).clone());
                    s.pending.push_back(*u);
                }
                LogRecord::Ack(uuid) => {
                    if s.pending.front().and_then(|p| p.uuid.as_ref()) == Some(&uuid) {
                        let head = s.pending.pop_front().expect("matched");
                        s.terminal_acked |= head.state.is_terminal();
                    }
                }
            }
        }
        self.streams.insert(id.clone(), s);
        Ok(())
    }

    /// Checkpoints `status` (a fresh uuid is set), then queues it.
    pub fn update(
        &mut self,
        id: &ContainerId,
        mut status: TaskStatus,
    ) -> Result<TaskStatus, CheckpointError> {
        status.uuid = Some(Bytes(uuid::Uuid::new_v4().as_bytes().to_vec()));
        self.update_as_sent(id, status)
    }

    /// Checkpoints `status` with the uuid it has (an executor's update:
    /// the framework acknowledges the executor's uuid), then queues it.
    pub fn update_as_sent(
        &mut self,
        id: &ContainerId,
        status: TaskStatus,
    ) -> Result<TaskStatus, CheckpointError> {
        let s = self
            .streams
            .get_mut(id)
            .expect("update of an opened stream");
        checkpoint::append_json(&s.log, &LogRecord::Update(Box::new(status.clone())))?;
        s.seen.extend(status.uuid.clone());
        s.latest = Some(status.clone());
        s.pending.push_back(status.clone());
        Ok(status)
    }

    /// Whether an update with `uuid` was ever logged for the container.
    pub fn seen(&self, id: &ContainerId, uuid: &Bytes) -> bool {
        self.streams.get(id).is_some_and(|s| s.seen.contains(uuid))
    }

    /// Heads due at `now`, with their frameworks; each is rescheduled.
    pub fn due(&mut self, now: Instant) -> Vec<(FrameworkId, TaskStatus)> {
        let mut out = Vec::new();
        for s in self.streams.values_mut() {
            let Some(head) = s.pending.front() else {
                continue;
            };
            if s.next_send.is_some_and(|t| t > now) {
                continue;
            }
            out.push((s.framework_id.clone(), head.clone()));
            s.next_send = Some(now + s.wait);
            s.wait = (s.wait * 2).min(self.backoff.max);
        }
        out
    }

    /// Makes every head due at once (a new link to the master).
    pub fn resend_now(&mut self) {
        for s in self.streams.values_mut() {
            s.next_send = None;
            s.wait = self.backoff.initial;
        }
    }

    /// The acknowledgement of `uuid` for the container's task: logged,
    /// the head popped, the next due at once. `Ok(false)` if it does not
    /// match the head (a duplicate or a stale ack).
    pub fn ack(&mut self, id: &ContainerId, uuid: &Bytes) -> Result<bool, CheckpointError> {
        let Some(s) = self.streams.get_mut(id) else {
            return Ok(false);
        };
        if s.pending.front().and_then(|p| p.uuid.as_ref()) != Some(uuid) {
            return Ok(false);
        }
        checkpoint::append_json(&s.log, &LogRecord::Ack(uuid.clone()))?;
        let head = s.pending.pop_front().expect("matched");
        s.terminal_acked |= head.state.is_terminal();
        s.next_send = None;
        s.wait = self.backoff.initial;
        Ok(true)
    }

    /// The latest update generated for the container's task.
    pub fn latest(&self, id: &ContainerId) -> Option<&TaskStatus> {
        self.streams.get(id).and_then(|s| s.latest.as_ref())
    }

    /// Whether the task's terminal update was acknowledged (nothing more
    /// will be sent).
    pub fn done(&self, id: &ContainerId) -> bool {
        self.streams
            .get(id)
            .is_some_and(|s| s.terminal_acked && s.pending.is_empty())
    }

    /// Unacknowledged updates of the container.
    pub fn pending(&self, id: &ContainerId) -> usize {
        self.streams.get(id).map_or(0, |s| s.pending.len())
    }

    /// Forgets the container's stream.
    pub fn close(&mut self, id: &ContainerId) {
        self.streams.remove(id);
    }
}

#[cfg(test)]
mod tests;
