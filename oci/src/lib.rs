//! An OCI runtime as a library: bundle and spec loading, the container
//! lifecycle (create, start, state, kill, delete, exec, update), process setup
//! and the atomic state store.

mod affinity;
pub mod child;
pub mod hooks;
pub mod id;
pub mod idmap;
pub mod launch;
pub mod lifecycle;
pub mod netdev;
pub mod netlink;
pub mod plan;
pub mod process;
pub mod seccomp;
pub mod spec;
pub mod state;
pub mod sys;

pub use id::ContainerId;
pub use lifecycle::{CreateOptions, Runtime, RuntimeError};
