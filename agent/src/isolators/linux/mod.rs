//! Process-privilege isolators: capabilities and seccomp.

mod capabilities;
mod seccomp;

pub use capabilities::{Capabilities, DEFAULT_CAPS};
pub use seccomp::Seccomp;
