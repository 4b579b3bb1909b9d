//! Filesystem isolators.

mod linux;

pub use linux::{EXECUTOR, Linux, ROOTFS, SANDBOX, host_root_dirs, writable_submounts};
