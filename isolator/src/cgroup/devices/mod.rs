//! The device cgroup on v2: cgroup v2 has no devices controller, so access to
//! device nodes is decided by a `BPF_PROG_TYPE_CGROUP_DEVICE` program
//! attached to the cgroup. This module owns that program: compiling it from
//! OCI `linux.resources.devices` rules ([`program`], pure), loading and
//! attaching it in place of the previous one ([`Cgroup::set_devices`]), and
//! the rules every container gets by default ([`default_allowed`]).
//!
//! [`Cgroup::set_devices`]: super::Cgroup::set_devices

mod attach;
mod cache;
mod compile;
mod defaults;
mod error;
mod insn;
#[cfg(test)]
mod interp;
mod sys;

pub use compile::{ACC_MKNOD, ACC_READ, ACC_WRITE, DEV_BLOCK, DEV_CHAR, program};
pub use defaults::{container_rules, default_allowed};
pub use error::DevicesError;
pub use insn::BpfInsn;
