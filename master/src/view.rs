//! A snapshot of the master's state, taken on its loop for the operator API
//! and `/metrics`, then rendered off the loop.

use crate::core::{Counters, Link, Master};
use corral_api::agent_link::ContainerUsage;
use corral_api::v1::{AgentInfo, FrameworkInfo, Resource, Task};
use std::time::Duration;

/// One agent as the operator API shows it.
#[derive(Debug, Clone)]
pub struct AgentView {
    /// Its info (id set).
    pub info: AgentInfo,
    /// Connected now.
    pub active: bool,
    /// Declared unreachable.
    pub unreachable: bool,
    /// Registration time, seconds since the epoch.
    pub registered_at: f64,
    /// Its total: what it reports, reserved parts with their reservations.
    pub total: Vec<Resource>,
    /// Its dynamic reservations.
    pub reserved: Vec<Resource>,
    /// Its containers' usage as last reported.
    pub usage: Vec<ContainerUsage>,
    /// The executors running there (each with its `framework_id`).
    pub executors: Vec<corral_api::v1::ExecutorInfo>,
}

/// One framework as the operator API shows it.
#[derive(Debug, Clone)]
pub struct FrameworkView {
    /// Its info (id set).
    pub info: FrameworkInfo,
    /// Subscribed now.
    pub connected: bool,
    /// Outstanding offers.
    pub offers: usize,
    /// Registration time, seconds since the epoch.
    pub registered_at: f64,
}

/// Everything the operator API and metrics read.
#[derive(Debug, Clone)]
pub struct View {
    /// Agents.
    pub agents: Vec<AgentView>,
    /// Frameworks.
    pub frameworks: Vec<FrameworkView>,
    /// Tasks.
    pub tasks: Vec<Task>,
    /// Outstanding offers.
    pub offers: usize,
    /// Counters since start.
    pub counters: Counters,
    /// Uptime.
    pub uptime: Duration,
    /// The master's info.
    pub master: corral_api::v1::MasterInfo,
}

impl View {
    pub(crate) fn of(m: &Master) -> View {
        View {
            agents: m
                .agents
                .values()
                .map(|a| AgentView {
                    info: a.info.clone(),
                    active: a.link == Link::Connected,
                    unreachable: a.link == Link::Unreachable,
                    registered_at: a.registered_at,
                    total: agent_total(a),
                    reserved: a.reservations.to_wire(),
                    usage: a.usage.clone(),
                    executors: a.executors.values().map(|e| e.info.clone()).collect(),
                })
                .collect(),
            frameworks: m
                .frameworks
                .values()
                .map(|f| FrameworkView {
                    info: f.info.clone(),
                    connected: f.stream.is_some(),
                    offers: f.offers.len(),
                    registered_at: f.registered_at,
                })
                .collect(),
            tasks: m.tasks.values().map(|t| t.task.clone()).collect(),
            offers: m.offers.len(),
            counters: m.counters.clone(),
            uptime: m.uptime(),
            master: m.info.clone(),
        }
    }
}

/// An agent's total as the operator API shows it (Mesos' `total_resources`:
/// reserved resources carry their reservation stack).
fn agent_total(a: &crate::core::Agent) -> Vec<Resource> {
    if a.reservations.is_empty() {
        return a.info.resources.clone();
    }
    match crate::convert::to_alloc(&a.info.resources) {
        Ok(reported) => {
            let (total, _) = a.reservations.clone().overlay(&reported);
            a.reservations.render(&total, None)
        }
        Err(_) => a.info.resources.clone(),
    }
}
