//! Namespace isolators: a task gets its own pid namespace (it is pid 1's
//! child and sees no other process), IPC and UTS namespaces.

mod ipc;
mod pid;

pub use ipc::Ipc;
pub use pid::Pid;
