//! The cgroup v2 isolators: each maps a task resource to OCI
//! `linux.resources`, which the OCI runtime's cgroup driver writes.

mod cpu;
mod io;
mod memory;
mod pids;

pub use cpu::Cpu;
pub use io::Io;
pub use memory::Memory;
pub use pids::Pids;
