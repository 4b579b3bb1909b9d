//! Linux isolation and accounting: the cgroup v2 driver and its controllers,
//! stats, OOM watching, and the isolators that turn a task's resources into an
//! OCI spec patch.

pub mod cgroup;
