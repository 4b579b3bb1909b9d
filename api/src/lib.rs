//! Wire types and codecs shared by corral's processes, so that frameworks
//! written for Apache Mesos' v1 HTTP API work against corral unmodified.
//!
//! - [`json`]: Mesos' JSON rules (stout's JSON ↔ protobuf mapping) as serde
//!   helpers — lenient numbers and bools, enums by name, base64 bytes,
//!   defaulted fields — and [`json::from_slice`]/[`json::to_vec`] with errors
//!   naming the offending field.
//! - [`ids`]: typed ids (`FrameworkId`, `AgentId`, `OfferId`, `TaskId`,
//!   `ExecutorId`, `ContainerId`, …), `{"value": "..."}` on the wire.
//! - [`v1`]: the `mesos.v1` messages (resources, frameworks, offers and
//!   operations, tasks and executors, containers, status updates).
//! - [`scheduler`]: the v1 scheduler API — `Call` (with shape validation)
//!   and `Event` (with constructors).
//! - [`executor`]: the v1 executor API — `Call` (with Mesos' agent-side
//!   validation) and `Event` (with constructors).
//! - [`agent_link`]: corral's own agent ↔ master link (calls and events).
//! - [`recordio`]: the `<length>\n<bytes>` framing of event streams.
//! - [`resources`]: Mesos' resource text syntax (`cpus:2;ports:[1-9]`).
//!
//! `docs/api.md` lists the rules as implemented and where they come from.
//! This crate depends on nothing else in the workspace.

pub mod agent_link;
pub mod executor;
pub mod ids;
pub mod json;
pub mod recordio;
pub mod resources;
pub mod scheduler;
pub mod v1;

pub use ids::{
    AgentId, ContainerId, ExecutorId, FrameworkId, OfferId, OperationId, ResourceProviderId, TaskId,
};
pub use json::{Bytes, JsonError};
