//! Filesystem isolators.

mod linux;

pub use linux::{Linux, SANDBOX, writable_submounts};
