//! The operator API's actions (the calls that change something, as opposed
//! to the GET_* snapshots): Mesos' TEARDOWN of a framework, and corral's
//! KILL_TASK, which Mesos has no operator call for (`corral kill`).

use super::{CallError, Master};
use corral_api::scheduler::Kill;
use corral_api::{FrameworkId, TaskId};
use std::time::Instant;

/// An operator's action.
#[derive(Debug, Clone, PartialEq)]
pub enum OperatorAction {
    /// Kill a task as its framework's KILL would; the framework gets the
    /// task's TASK_KILLED. Without a framework id the task id must be
    /// unique among the tasks the master tracks.
    KillTask {
        /// Its framework, when the operator names it.
        framework_id: Option<FrameworkId>,
        /// The task.
        task_id: TaskId,
    },
    /// Remove a framework: its offers, and every task killed.
    Teardown {
        /// The framework.
        framework_id: FrameworkId,
    },
}

impl Master {
    pub(super) fn operator_action(
        &mut self,
        action: OperatorAction,
        now: Instant,
    ) -> Result<(), CallError> {
        match action {
            OperatorAction::KillTask {
                framework_id,
                task_id,
            } => {
                let mut owners: Vec<FrameworkId> = self
                    .tasks
                    .keys()
                    .filter(|(f, t)| {
                        *t == task_id && framework_id.as_ref().is_none_or(|want| want == f)
                    })
                    .map(|(f, _)| f.clone())
                    .collect();
                owners.sort();
                let framework = match owners.as_slice() {
                    [one] => one.clone(),
                    [] => {
                        return Err(CallError {
                            status: 404,
                            message: match framework_id {
                                Some(f) => format!("no task '{task_id}' of framework '{f}'"),
                                None => format!("no task '{task_id}'"),
                            },
                        });
                    }
                    many => {
                        let names: Vec<&str> = many.iter().map(FrameworkId::as_str).collect();
                        return Err(CallError::bad_request(format!(
                            "task id '{task_id}' is used by frameworks {}: name one with framework_id",
                            names.join(", ")
                        )));
                    }
                };
                let kill = Kill {
                    task_id,
                    agent_id: None,
                    kill_policy: None,
                };
                self.kill(&framework, kill, now);
                Ok(())
            }
            OperatorAction::Teardown { framework_id } => {
                if !self.frameworks.contains_key(&framework_id) {
                    return Err(CallError {
                        status: 404,
                        message: format!("no framework '{framework_id}'"),
                    });
                }
                self.remove_framework(&framework_id, now);
                Ok(())
            }
        }
    }
}
