//! systemd integration: sd_notify (`notify`) and the unit files that ship
//! with corral (`units/`, embedded as [`MASTER_UNIT`] and [`AGENT_UNIT`]).
//! [`scope`] is the systemd cgroup driver: containers as transient scopes,
//! over systemd's D-Bus API.

pub mod notify;
pub mod scope;

pub use notify::{Notifier, NotifyError};

/// `corral-master.service`.
pub const MASTER_UNIT: &str = include_str!("../units/corral-master.service");
/// `corral-agent.service`.
pub const AGENT_UNIT: &str = include_str!("../units/corral-agent.service");
