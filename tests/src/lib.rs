//! Helpers for corral's integration tests: the VM-platform guard, scratch
//! cgroups that clean up after themselves, test bundles and the `corral
//! oci` driver; and for the master: a real master process ([`master`]), a
//! Mesos v1 scheduler client ([`scheduler`]), simulated agents on the agent
//! link ([`simagent`]), a small HTTP/1.1 client ([`http`]) and the pymesos
//! compatibility run ([`compat`]).
//!
//! Tests that need root, namespaces or a full cgroup v2 hierarchy live in test
//! targets named `vm_*`; `tests/run` runs them inside the VM. They call
//! [`vm::require`] first, so run anywhere else they fail with a message
//! instead of passing vacuously.

pub mod agent;
pub mod bench;
pub mod bundle;
pub mod cgroup;
pub mod compat;
pub mod http;
pub mod image;
pub mod master;
pub mod oci;
pub mod scheduler;
pub mod simagent;
pub mod vm;
