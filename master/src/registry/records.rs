//! What the registry stores: one record per framework, agent and task, the
//! per-role weights and quota, and the [`Snapshot`] of all of them that a
//! restarted master recovers from.
//!
//! Records are stored as compact JSON of these structs (the api types keep
//! Mesos' JSON rules, unknown keys are ignored), so a field added later
//! reads back from an older file with its default.

use std::collections::BTreeMap;

use corral_api::v1::{AgentInfo, FrameworkInfo, Resource, Scalar, Task};
use corral_api::{AgentId, FrameworkId, TaskId};
use serde::{Deserialize, Serialize};

/// A framework the master knows: subscribed, or disconnected and still
/// within its failover timeout. A torn-down framework is deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkRecord {
    /// What the scheduler subscribed with; `id` is set (it is the key).
    pub info: FrameworkInfo,
    /// When it first subscribed (seconds since the Unix epoch).
    pub registered_at: f64,
    /// While disconnected: when its failover timeout expires (seconds since
    /// the Unix epoch); the master tears it down then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_deadline: Option<f64>,
}

impl FrameworkRecord {
    /// A connected framework registered at `registered_at`.
    pub fn new(info: FrameworkInfo, registered_at: f64) -> Self {
        FrameworkRecord {
            info,
            registered_at,
            failover_deadline: None,
        }
    }

    /// Its id, if `info.id` is set.
    pub fn id(&self) -> Option<&FrameworkId> {
        self.info.id.as_ref()
    }
}

/// Whether an agent is connected.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentState {
    /// Registered and connected (or reconnecting within its timeout).
    Registered,
    /// Lost contact; its tasks are TASK_UNREACHABLE until it comes back.
    Unreachable {
        /// When it became unreachable (seconds since the Unix epoch).
        since: f64,
    },
}

/// An agent the master admitted. A gone agent is deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// What the agent registered with; `id` is set (it is the key).
    pub info: AgentInfo,
    /// Connected or unreachable.
    pub state: AgentState,
    /// When it first registered (seconds since the Unix epoch).
    pub registered_at: f64,
    /// Its dynamic reservations: resources with a one-level `DYNAMIC`
    /// reservation stack (role, principal, labels), no allocation info.
    /// Absent in records written before reservations existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reservations: Vec<Resource>,
}

impl AgentRecord {
    /// A registered agent.
    pub fn new(info: AgentInfo, registered_at: f64) -> Self {
        AgentRecord {
            info,
            state: AgentState::Registered,
            registered_at,
            reservations: Vec::new(),
        }
    }

    /// Its id, if `info.id` is set.
    pub fn id(&self) -> Option<&AgentId> {
        self.info.id.as_ref()
    }
}

/// A task the master tracks, keyed by (framework id, task id): its latest
/// state, resources and only its latest status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task; `statuses` holds at most the latest status.
    pub task: Task,
}

impl TaskRecord {
    /// A record of `task`, its status history trimmed to the latest one
    /// (the registry keeps the state, not the history).
    pub fn new(mut task: Task) -> Self {
        let keep_from = task.statuses.len().saturating_sub(1);
        task.statuses.drain(..keep_from);
        TaskRecord { task }
    }

    /// Its key: (framework id, task id).
    pub fn key(&self) -> (&FrameworkId, &TaskId) {
        (&self.task.framework_id, &self.task.task_id)
    }
}

/// A top-level role's quota, as Mesos' `QuotaConfig` without the role
/// (the role is the key): guarantees and limits per resource name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaRecord {
    /// Resources promised to the role.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub guarantees: BTreeMap<String, Scalar>,
    /// Caps on the role's consumption.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Scalar>,
}

/// Everything in the registry, as a restarted master recovers it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// This open's epoch: 1 on a new registry, one more on every open, so
    /// ids minted as `<epoch>-<counter>` never repeat after a restart.
    pub epoch: u64,
    /// Chosen when the registry was created, never changed: tells this
    /// cluster's ids apart from another's.
    pub cluster_id: String,
    /// Frameworks, by id.
    pub frameworks: Vec<FrameworkRecord>,
    /// Agents, by id.
    pub agents: Vec<AgentRecord>,
    /// Tasks, by (framework id, task id).
    pub tasks: Vec<TaskRecord>,
    /// Role weights that differ from the default (1).
    pub weights: BTreeMap<String, f64>,
    /// Quota per top-level role.
    pub quota: BTreeMap<String, QuotaRecord>,
}
