//! The simulated agent's status-update queue, as Mesos' status update
//! manager behaves: per task, updates go out in order and one at a time;
//! the head is resent on a backoff (initial, doubling, capped) until an
//! acknowledgement with its uuid arrives, then the next one is due at once.
//! Pure: the caller passes the clock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use corral_api::v1::TaskStatus;
use corral_api::{Bytes, FrameworkId, TaskId};

/// Resend schedule of an unacknowledged update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait after the first send.
    pub initial: Duration,
    /// Longest wait between sends.
    pub max: Duration,
}

impl Default for Backoff {
    /// 200 ms doubling to 2 s.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
        }
    }
}

/// A task's key: its framework and id.
pub type TaskKey = (FrameworkId, TaskId);

#[derive(Debug, Clone)]
struct Pending {
    status: TaskStatus,
    /// `None`: due now.
    next_send: Option<Instant>,
    wait: Duration,
}

/// Unacknowledged updates per task. Heads due at once and heads waiting
/// for a resend are indexed apart, so finding what is due costs what is
/// due, not the number of tasks (the bench's fleet runs 40 per agent).
#[derive(Debug, Clone, Default)]
pub struct UpdateQueue {
    backoff: Backoff,
    tasks: BTreeMap<TaskKey, VecDeque<Pending>>,
    /// Tasks whose head was never sent.
    fresh: BTreeSet<TaskKey>,
    /// Tasks whose head was sent, by when it is to be sent again.
    resends: BTreeSet<(Instant, TaskKey)>,
}

impl UpdateQueue {
    /// An empty queue resending on `backoff`.
    pub fn new(backoff: Backoff) -> Self {
        UpdateQueue {
            backoff,
            ..UpdateQueue::default()
        }
    }

    /// Queues `status` (with its uuid set) behind the task's earlier ones.
    pub fn push(&mut self, key: TaskKey, status: TaskStatus) {
        let pending = Pending {
            status,
            next_send: None,
            wait: self.backoff.initial,
        };
        let queue = self.tasks.entry(key.clone()).or_default();
        if queue.is_empty() {
            self.fresh.insert(key);
        }
        queue.push_back(pending);
    }

    /// The heads due at `now` with their frameworks, in task order; each
    /// is marked sent and its next send scheduled (wait doubles up to the
    /// maximum).
    pub fn due(&mut self, now: Instant) -> Vec<(FrameworkId, TaskStatus)> {
        let mut keys: Vec<TaskKey> = std::mem::take(&mut self.fresh).into_iter().collect();
        while let Some(first) = self.resends.first().filter(|(t, _)| *t <= now) {
            let first = first.clone();
            self.resends.remove(&first);
            keys.push(first.1);
        }
        keys.sort_unstable();
        let max = self.backoff.max;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(head) = self.tasks.get_mut(&key).and_then(VecDeque::front_mut) else {
                continue;
            };
            out.push((key.0.clone(), head.status.clone()));
            let next = now + head.wait;
            head.next_send = Some(next);
            head.wait = (head.wait * 2).min(max);
            self.resends.insert((next, key));
        }
        out
    }

    /// Acknowledges the head of `key` if its uuid is `uuid` (then the next
    /// update is due at once). Returns whether it matched.
    pub fn ack(&mut self, key: &TaskKey, uuid: &Bytes) -> bool {
        let Some(queue) = self.tasks.get_mut(key) else {
            return false;
        };
        if queue.front().and_then(|p| p.status.uuid.as_ref()) != Some(uuid) {
            return false;
        }
        let head = queue.pop_front().expect("matched above");
        let more = !queue.is_empty();
        if !more {
            self.tasks.remove(key);
        }
        match head.next_send {
            Some(t) => self.resends.remove(&(t, key.clone())),
            None => self.fresh.remove(key),
        };
        if more {
            self.fresh.insert(key.clone());
        }
        true
    }

    /// When the next head is due (`None` when nothing is pending).
    pub fn next_due(&self) -> Option<Instant> {
        let resend = self.resends.first().map(|(t, _)| *t);
        if self.fresh.is_empty() {
            return resend;
        }
        let now = Instant::now();
        Some(resend.map_or(now, |t| t.min(now)))
    }

    /// Makes every head due now with the initial wait (after a reconnect).
    pub fn resend_now(&mut self) {
        self.resends.clear();
        for (key, queue) in &mut self.tasks {
            if let Some(head) = queue.front_mut() {
                head.next_send = None;
                head.wait = self.backoff.initial;
                self.fresh.insert(key.clone());
            }
        }
    }

    /// The task's unacknowledged updates, oldest first.
    pub fn pending(&self, key: &TaskKey) -> Vec<&TaskStatus> {
        let queue = self.tasks.get(key).into_iter().flatten();
        queue.map(|p| &p.status).collect()
    }

    /// Number of unacknowledged updates over all tasks.
    pub fn len(&self) -> usize {
        self.tasks.values().map(VecDeque::len).sum()
    }

    /// Whether every update was acknowledged.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use corral_api::v1::TaskState;

    use super::*;

    fn key(task: &str) -> TaskKey {
        (FrameworkId::new("f"), TaskId::new(task))
    }

    fn status(task: &str, state: TaskState, uuid: u8) -> TaskStatus {
        TaskStatus {
            uuid: Some(Bytes::new(vec![uuid; 16])),
            ..TaskStatus::new(TaskId::new(task), state)
        }
    }

    fn states(v: &[(FrameworkId, TaskStatus)]) -> Vec<(String, TaskState)> {
        v.iter()
            .map(|(_, s)| (s.task_id.to_string(), s.state))
            .collect()
    }

    #[test]
    fn one_update_in_flight_per_task_in_order() {
        let mut q = UpdateQueue::new(Backoff::default());
        q.push(key("a"), status("a", TaskState::Starting, 1));
        q.push(key("a"), status("a", TaskState::Running, 2));
        q.push(key("b"), status("b", TaskState::Starting, 3));
        let t0 = Instant::now();
        let due = q.due(t0);
        let expected = [("a", TaskState::Starting), ("b", TaskState::Starting)];
        let expected: Vec<_> = expected.iter().map(|(t, s)| (t.to_string(), *s)).collect();
        assert_eq!(states(&due), expected);
        assert!(q.due(t0).is_empty(), "nothing is due again at once");
        assert!(
            !q.ack(&key("a"), &Bytes::new(vec![2u8; 16])),
            "not the head"
        );
        assert!(q.ack(&key("a"), &Bytes::new(vec![1u8; 16])));
        assert!(
            !q.ack(&key("a"), &Bytes::new(vec![1u8; 16])),
            "a duplicate ack"
        );
        assert_eq!(states(&q.due(t0)), [("a".to_owned(), TaskState::Running)]);
        assert_eq!(q.len(), 2);
        assert_eq!(q.pending(&key("b")).len(), 1);
        assert!(q.ack(&key("a"), &Bytes::new(vec![2u8; 16])));
        assert!(q.ack(&key("b"), &Bytes::new(vec![3u8; 16])));
        assert!(q.is_empty());
        assert_eq!(q.next_due(), None);
    }

    #[test]
    fn resends_back_off_doubling_to_the_cap() {
        let mut q = UpdateQueue::new(Backoff::default());
        q.push(key("a"), status("a", TaskState::Running, 1));
        let t0 = Instant::now();
        let mut now = t0;
        let mut sends = Vec::new();
        while now < t0 + Duration::from_secs(9) {
            if !q.due(now).is_empty() {
                sends.push((now - t0).as_millis());
            }
            now += Duration::from_millis(100);
        }
        // 200, 400, 800, 1600, then every 2000 ms.
        assert_eq!(sends, [0, 200, 600, 1400, 3000, 5000, 7000]);
        assert_eq!(q.next_due(), Some(t0 + Duration::from_millis(9000)));
    }

    #[test]
    fn resend_now_restarts_the_schedule() {
        let mut q = UpdateQueue::new(Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(8),
        });
        q.push(key("a"), status("a", TaskState::Running, 1));
        let t0 = Instant::now();
        q.due(t0);
        q.due(t0 + Duration::from_secs(1));
        assert_eq!(q.next_due(), Some(t0 + Duration::from_secs(3)));
        q.resend_now();
        let t1 = t0 + Duration::from_millis(1500);
        assert_eq!(q.due(t1).len(), 1);
        assert_eq!(q.next_due(), Some(t1 + Duration::from_secs(1)));
    }
}
