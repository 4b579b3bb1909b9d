//! The task group as the default executor runs it, as Mesos' default
//! executor does: every task starts together (TASK_STARTING, then
//! TASK_RUNNING once its process runs); a task ending with status 0 is
//! TASK_FINISHED; one that fails (a non-zero status, a signal it was not
//! sent) makes the executor kill all the others (TASK_KILLED); a KILL of
//! any task, or SHUTDOWN, kills the whole group. Pure: the caller runs the
//! processes and sends the updates the [`Action`]s name.

use crate::executor::ExitRecord;
use corral_api::TaskId;
use corral_api::v1::{TaskInfo, TaskState};
use std::collections::BTreeMap;

/// What the caller must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start the task's process.
    Start(TaskId),
    /// Send this update of the task.
    Update(TaskId, TaskState, Option<String>),
    /// SIGTERM the task's process group (then SIGKILL after its grace).
    Kill(TaskId),
}

#[derive(Debug)]
struct Slot {
    info: TaskInfo,
    state: TaskState,
    /// Start issued, no result yet.
    starting: bool,
    running: bool,
    killed: bool,
}

/// The tasks of the group.
#[derive(Debug, Default)]
pub struct Group {
    tasks: BTreeMap<TaskId, Slot>,
    /// The whole group is being killed.
    killing: bool,
}

impl Group {
    /// LAUNCH_GROUP (a second group is added to the first).
    pub fn launch(&mut self, tasks: Vec<TaskInfo>) -> Vec<Action> {
        let mut out = Vec::new();
        for t in tasks {
            let id = t.task_id.clone();
            if self.tasks.contains_key(&id) {
                continue;
            }
            self.tasks.insert(
                id.clone(),
                Slot {
                    info: t,
                    state: TaskState::Starting,
                    starting: !self.killing,
                    running: false,
                    killed: false,
                },
            );
            out.push(Action::Update(id.clone(), TaskState::Starting, None));
            if self.killing {
                out.extend(self.kill_one(&id));
            } else {
                out.push(Action::Start(id));
            }
        }
        out
    }

    /// The task's definition.
    pub fn task(&self, id: &TaskId) -> Option<&TaskInfo> {
        self.tasks.get(id).map(|s| &s.info)
    }

    /// Its process started, or could not (`Err`: why).
    pub fn started(&mut self, id: &TaskId, result: Result<(), String>) -> Vec<Action> {
        let Some(s) = self.tasks.get_mut(id) else {
            return Vec::new();
        };
        s.starting = false;
        match result {
            // Killed while starting: now it can be signalled.
            Ok(()) if s.killed => {
                s.running = true;
                vec![Action::Kill(id.clone())]
            }
            Err(_) if s.killed => {
                s.state = TaskState::Killed;
                vec![Action::Update(id.clone(), TaskState::Killed, None)]
            }
            Ok(()) => {
                s.running = true;
                s.state = TaskState::Running;
                vec![Action::Update(id.clone(), TaskState::Running, None)]
            }
            Err(why) => {
                s.state = TaskState::Failed;
                let mut out = vec![Action::Update(
                    id.clone(),
                    TaskState::Failed,
                    Some(format!("Failed to launch the task: {why}")),
                )];
                out.extend(self.kill_all());
                out
            }
        }
    }

    /// Its process ended.
    pub fn exited(&mut self, id: &TaskId, record: ExitRecord) -> Vec<Action> {
        let Some(s) = self.tasks.get_mut(id) else {
            return Vec::new();
        };
        s.running = false;
        let (state, message) = match (record, s.killed) {
            (_, true) => (TaskState::Killed, "Command killed".to_string()),
            (ExitRecord::Exited(0), false) => {
                (TaskState::Finished, "Command exited with status 0".into())
            }
            (ExitRecord::Exited(c), false) => {
                (TaskState::Failed, format!("Command exited with status {c}"))
            }
            (ExitRecord::Signaled(sig), false) => (
                TaskState::Failed,
                format!("Command terminated by signal {sig}"),
            ),
            (ExitRecord::NotStarted(e), false) => (
                TaskState::Failed,
                format!(
                    "Command could not be started: {}",
                    std::io::Error::from_raw_os_error(e)
                ),
            ),
        };
        s.state = state;
        let mut out = vec![Action::Update(id.clone(), state, Some(message))];
        if state == TaskState::Failed {
            out.extend(self.kill_all());
        }
        out
    }

    /// Kills every task not yet ended (KILL of one, SHUTDOWN, a failure).
    pub fn kill_all(&mut self) -> Vec<Action> {
        self.killing = true;
        let ids: Vec<TaskId> = self.tasks.keys().cloned().collect();
        ids.iter().flat_map(|id| self.kill_one(id)).collect()
    }

    fn kill_one(&mut self, id: &TaskId) -> Vec<Action> {
        let Some(s) = self.tasks.get_mut(id) else {
            return Vec::new();
        };
        if s.state.is_terminal() || s.killed {
            return Vec::new();
        }
        s.killed = true;
        if s.running {
            return vec![Action::Kill(id.clone())];
        }
        if s.starting {
            // Signalled once its start is known.
            return Vec::new();
        }
        // Never started: nothing to signal.
        s.state = TaskState::Killed;
        vec![Action::Update(
            id.clone(),
            TaskState::Killed,
            Some("Killed before it started".into()),
        )]
    }

    /// Every task has ended (and there was one).
    pub fn done(&self) -> bool {
        !self.tasks.is_empty() && self.tasks.values().all(|s| s.state.is_terminal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> TaskInfo {
        TaskInfo {
            task_id: TaskId::new(id),
            ..TaskInfo::default()
        }
    }

    fn updates(actions: &[Action]) -> Vec<(String, TaskState)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Update(id, s, _) => Some((id.to_string(), *s)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_failure_kills_the_rest_of_the_group() {
        let mut g = Group::default();
        let a = g.launch(vec![task("ok"), task("bad"), task("long")]);
        assert_eq!(
            a.iter().filter(|x| matches!(x, Action::Start(_))).count(),
            3
        );
        for id in ["ok", "bad", "long"] {
            let u = g.started(&TaskId::new(id), Ok(()));
            assert_eq!(updates(&u), [(id.to_string(), TaskState::Running)]);
        }
        let fin = g.exited(&TaskId::new("ok"), ExitRecord::Exited(0));
        assert_eq!(updates(&fin), [("ok".to_string(), TaskState::Finished)]);
        assert!(!g.done());
        let bad = g.exited(&TaskId::new("bad"), ExitRecord::Exited(4));
        assert_eq!(
            bad[0],
            Action::Update(
                TaskId::new("bad"),
                TaskState::Failed,
                Some("Command exited with status 4".into())
            )
        );
        assert_eq!(bad[1..], [Action::Kill(TaskId::new("long"))]);
        let long = g.exited(&TaskId::new("long"), ExitRecord::Signaled(15));
        assert_eq!(updates(&long), [("long".to_string(), TaskState::Killed)]);
        assert!(g.done());
    }

    #[test]
    fn a_kill_takes_the_whole_group_and_unstarted_tasks_end_at_once() {
        let mut g = Group::default();
        g.launch(vec![task("a"), task("b")]);
        g.started(&TaskId::new("a"), Ok(()));
        let k = g.kill_all();
        assert_eq!(k, [Action::Kill(TaskId::new("a"))]);
        assert!(g.kill_all().is_empty());
        // b was starting: signalled once it runs, never reported RUNNING.
        let b = g.started(&TaskId::new("b"), Ok(()));
        assert_eq!(b, [Action::Kill(TaskId::new("b"))]);
        let a = g.exited(&TaskId::new("a"), ExitRecord::Exited(0));
        assert_eq!(updates(&a), [("a".to_string(), TaskState::Killed)]);
        let b = g.exited(&TaskId::new("b"), ExitRecord::Signaled(15));
        assert_eq!(updates(&b), [("b".to_string(), TaskState::Killed)]);
        assert!(g.done());
        // A task launched while the group is being killed never starts.
        let late = g.launch(vec![task("c")]);
        assert_eq!(
            updates(&late),
            [
                ("c".to_string(), TaskState::Starting),
                ("c".to_string(), TaskState::Killed)
            ]
        );
    }

    #[test]
    fn a_task_that_cannot_start_fails_and_kills_the_others() {
        let mut g = Group::default();
        g.launch(vec![task("a"), task("b")]);
        g.started(&TaskId::new("a"), Ok(()));
        let b = g.started(&TaskId::new("b"), Err("no such file".into()));
        assert_eq!(updates(&b), [("b".to_string(), TaskState::Failed)]);
        assert!(b.contains(&Action::Kill(TaskId::new("a"))));
    }
}
