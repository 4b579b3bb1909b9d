//! An OCI runtime as a library: bundle and spec loading, the container
//! lifecycle (create, start, state, kill, delete, exec, update), process setup
//! and the atomic state store.

pub mod seccomp;
