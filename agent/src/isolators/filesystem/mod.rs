//! Filesystem isolators.

mod linux;
pub mod volumes;

pub use linux::{EXECUTOR, Linux, ROOTFS, SANDBOX, host_root_dirs, writable_submounts};
