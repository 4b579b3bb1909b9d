//! Filesystem isolators.

mod linux;

pub use linux::{Linux, ROOTFS, SANDBOX, host_root_dirs, writable_submounts};
