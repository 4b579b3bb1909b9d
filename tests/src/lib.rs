//! Helpers for corral's integration tests: the VM-platform guard, scratch
//! cgroups that clean up after themselves, and the path of the probe binary
//! that tests run inside limits and containers.
//!
//! Tests that need root, namespaces or a full cgroup v2 hierarchy live in test
//! targets named `vm_*`; `tests/run` runs them inside the VM. They call
//! [`vm::require`] first, so run anywhere else they fail with a message
//! instead of passing vacuously.

pub mod bundle;
pub mod cgroup;
pub mod oci;
pub mod vm;
