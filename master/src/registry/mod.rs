//! The master's registry: frameworks, agents, tasks, role weights and
//! quota, kept durable in an embedded redb file (`<work-dir>/registry.redb`)
//! so that a restarted master recovers them without losing tasks.
//!
//! - [`Registry`] (`store`): opens the file (schema check, a new epoch on
//!   every open, the cluster id) and applies a batch of [`Mutation`]s in
//!   one transaction — one commit, all or nothing.
//! - [`Registry::load`] (`load`): everything, as a [`Snapshot`], for
//!   recovery; a damaged record is an error naming its table and key.
//! - [`RegistryWriter`] (`writer`): group commit on a dedicated thread;
//!   [`RegistryWriter::submit`] returns a [`Ticket`] that resolves once the
//!   mutation is durable.
//! - `records`: what is stored; `mutation`: the changes and their checked
//!   encoding.
//!
//! `docs/registry.md` says when the master writes, the recovery rules and
//! the restart benchmark.

mod error;
mod load;
mod mutation;
mod records;
mod store;
mod ticket;
mod writer;

#[cfg(test)]
mod tests;

pub use error::RegistryError;
pub use mutation::Mutation;
pub use records::{AgentRecord, AgentState, FrameworkRecord, QuotaRecord, Snapshot, TaskRecord};
pub use store::{FILE_NAME, Registry, RegistryOptions, SCHEMA_VERSION};
pub use ticket::Ticket;
pub use writer::{MAX_BATCH_OPS, RegistryWriter, WriterStats};
