//! Changes to the registry ([`Mutation`]) and their checked, encoded form
//! ([`Op`]) that a write transaction applies. Encoding happens before any
//! transaction opens — in the caller's thread for the writer — so a bad
//! mutation fails alone and a transaction can only fail on storage errors.

use corral_api::v1::Scalar;
use corral_api::{AgentId, FrameworkId, TaskId};
use serde::Serialize;

use super::error::RegistryError;
use super::records::{AgentRecord, FrameworkRecord, QuotaRecord, TaskRecord};

/// One change to the registry. A batch of them is applied all-or-nothing.
/// Records are boxed (a `Task` is a kilobyte); `record.into()` makes the
/// put of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// Adds or replaces a framework (`info.id` must be set).
    PutFramework(Box<FrameworkRecord>),
    /// Deletes a framework and every task of it.
    RemoveFramework(FrameworkId),
    /// Adds or replaces an agent (`info.id` must be set).
    PutAgent(Box<AgentRecord>),
    /// Deletes an agent (its tasks are removed by their own mutations).
    RemoveAgent(AgentId),
    /// Adds or replaces a task.
    PutTask(Box<TaskRecord>),
    /// Deletes a task.
    RemoveTask(FrameworkId, TaskId),
    /// Sets a role's weight (finite, greater than zero).
    PutWeight {
        /// The role.
        role: String,
        /// Its weight.
        weight: f64,
    },
    /// Restores a role's default weight.
    RemoveWeight(String),
    /// Sets a top-level role's quota.
    PutQuota {
        /// The role.
        role: String,
        /// Its quota.
        quota: QuotaRecord,
    },
    /// Removes a role's quota.
    RemoveQuota(String),
}

impl From<FrameworkRecord> for Mutation {
    fn from(record: FrameworkRecord) -> Self {
        Mutation::PutFramework(Box::new(record))
    }
}

impl From<AgentRecord> for Mutation {
    fn from(record: AgentRecord) -> Self {
        Mutation::PutAgent(Box::new(record))
    }
}

impl From<TaskRecord> for Mutation {
    fn from(record: TaskRecord) -> Self {
        Mutation::PutTask(Box::new(record))
    }
}

/// A table with string keys and record values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordTable {
    Frameworks,
    Agents,
    Quota,
}

/// A checked, encoded mutation, ready for a write transaction.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    Put(RecordTable, String, Vec<u8>),
    Remove(RecordTable, String),
    /// Deletes the framework's tasks (the framework itself is a `Remove`).
    RemoveTasksOf(String),
    PutTask(String, String, Vec<u8>),
    RemoveTask(String, String),
    PutWeight(String, f64),
    RemoveWeight(String),
}

impl Mutation {
    /// The variant's name, for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Mutation::PutFramework(_) => "PutFramework",
            Mutation::RemoveFramework(_) => "RemoveFramework",
            Mutation::PutAgent(_) => "PutAgent",
            Mutation::RemoveAgent(_) => "RemoveAgent",
            Mutation::PutTask(_) => "PutTask",
            Mutation::RemoveTask(..) => "RemoveTask",
            Mutation::PutWeight { .. } => "PutWeight",
            Mutation::RemoveWeight(_) => "RemoveWeight",
            Mutation::PutQuota { .. } => "PutQuota",
            Mutation::RemoveQuota(_) => "RemoveQuota",
        }
    }

    /// Checks and encodes this mutation, appending its ops to `out`.
    pub(super) fn encode_into(&self, out: &mut Vec<Op>) -> Result<(), RegistryError> {
        let kind = self.kind();
        match self {
            Mutation::PutFramework(record) => {
                let id = key(kind, "framework", record.id().map(FrameworkId::as_str))?;
                out.push(Op::Put(
                    RecordTable::Frameworks,
                    id.clone(),
                    encode("framework", &id, &**record)?,
                ));
            }
            Mutation::RemoveFramework(id) => {
                let id = key(kind, "framework", Some(id.as_str()))?;
                out.push(Op::Remove(RecordTable::Frameworks, id.clone()));
                out.push(Op::RemoveTasksOf(id));
            }
            Mutation::PutAgent(record) => {
                let id = key(kind, "agent", record.id().map(AgentId::as_str))?;
                out.push(Op::Put(
                    RecordTable::Agents,
                    id.clone(),
                    encode("agent", &id, &**record)?,
                ));
            }
            Mutation::RemoveAgent(id) => {
                out.push(Op::Remove(
                    RecordTable::Agents,
                    key(kind, "agent", Some(id.as_str()))?,
                ));
            }
            Mutation::PutTask(record) => {
                let (framework, task) = record.key();
                let framework = key(kind, "framework", Some(framework.as_str()))?;
                let task = key(kind, "task", Some(task.as_str()))?;
                let value = encode("task", &format!("{framework}/{task}"), &**record)?;
                out.push(Op::PutTask(framework, task, value));
            }
            Mutation::RemoveTask(framework, task) => out.push(Op::RemoveTask(
                key(kind, "framework", Some(framework.as_str()))?,
                key(kind, "task", Some(task.as_str()))?,
            )),
            Mutation::PutWeight { role, weight } => {
                if !(weight.is_finite() && *weight > 0.0) {
                    return Err(invalid(
                        kind,
                        format!(
                            "weight {weight} of role `{role}` must be finite and greater than zero"
                        ),
                    ));
                }
                out.push(Op::PutWeight(key(kind, "role", Some(role))?, *weight));
            }
            Mutation::RemoveWeight(role) => {
                out.push(Op::RemoveWeight(key(kind, "role", Some(role))?))
            }
            Mutation::PutQuota { role, quota } => {
                let role = key(kind, "role", Some(role))?;
                check_quota(kind, &role, quota)?;
                out.push(Op::Put(
                    RecordTable::Quota,
                    role.clone(),
                    encode("quota", &role, quota)?,
                ));
            }
            Mutation::RemoveQuota(role) => {
                out.push(Op::Remove(
                    RecordTable::Quota,
                    key(kind, "role", Some(role))?,
                ));
            }
        }
        Ok(())
    }
}

/// Checks and encodes a whole batch.
/// A [`TaskRecord`] that borrows its task: the same JSON, without copying
/// the task first.
#[derive(Serialize)]
struct TaskRecordRef<'a> {
    task: &'a corral_api::v1::Task,
}

/// The op of `PutTask(TaskRecord::new(task.clone()))`, encoded from
/// `task` in place when it holds at most one status (the master's tasks
/// do), so the hot path of a status update copies nothing but the JSON.
pub(super) fn encode_task(task: &corral_api::v1::Task) -> Result<Op, RegistryError> {
    if task.statuses.len() > 1 {
        let mut ops = Vec::with_capacity(1);
        Mutation::PutTask(Box::new(TaskRecord::new(task.clone()))).encode_into(&mut ops)?;
        return ops
            .pop()
            .ok_or_else(|| invalid("PutTask", "nothing encoded".into()));
    }
    let kind = "PutTask";
    let framework = key(kind, "framework", Some(task.framework_id.as_str()))?;
    let id = key(kind, "task", Some(task.task_id.as_str()))?;
    let value = encode(
        "task",
        &format!("{framework}/{id}"),
        &TaskRecordRef { task },
    )?;
    Ok(Op::PutTask(framework, id, value))
}

pub(super) fn encode_batch(batch: &[Mutation]) -> Result<Vec<Op>, RegistryError> {
    let mut ops = Vec::with_capacity(batch.len());
    for mutation in batch {
        mutation.encode_into(&mut ops)?;
    }
    Ok(ops)
}

/// The key, which must be present and not empty.
fn key(kind: &'static str, what: &str, id: Option<&str>) -> Result<String, RegistryError> {
    match id {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        Some(_) => Err(invalid(kind, format!("the {what} id is empty"))),
        None => Err(invalid(
            kind,
            format!("the {what} has no id (`info.id` is unset)"),
        )),
    }
}

fn check_quota(kind: &'static str, role: &str, quota: &QuotaRecord) -> Result<(), RegistryError> {
    let all = quota.guarantees.iter().chain(&quota.limits);
    match all
        .into_iter()
        .find(|(_, Scalar { value })| value.is_nan() || *value < 0.0)
    {
        Some((name, Scalar { value })) => Err(invalid(
            kind,
            format!("quota of role `{role}`: `{name}` is {value}; quantities must not be negative"),
        )),
        None => Ok(()),
    }
}

fn encode<T: Serialize>(
    what: &'static str,
    key: &str,
    record: &T,
) -> Result<Vec<u8>, RegistryError> {
    corral_api::json::to_vec(record).map_err(|e| RegistryError::Encode {
        what,
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn invalid(mutation: &'static str, reason: String) -> RegistryError {
    RegistryError::Invalid { mutation, reason }
}
