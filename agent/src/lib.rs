//! The agent daemon: fingerprinting the machine's real capacity, the
//! containerizer (each task an OCI container started in-process), the
//! isolators that build its spec, the status-update manager (checkpointed,
//! retried until acknowledged), recovery after a restart, the link to the
//! master and the agent's own HTTP endpoints. `docs/agent.md` describes
//! the flows.

pub mod checkpoint;
pub mod config;
pub mod containerizer;
pub mod core;
pub mod default_executor;
pub mod executor;
pub mod fingerprint;
pub mod http;
pub mod images;
pub mod isolators;
pub mod link;
pub mod paths;
pub mod service;
pub mod start;
pub mod status;

pub use config::Config;
pub use start::{AgentError, run};
