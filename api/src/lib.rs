//! Wire types and codecs shared by corral's processes: the Mesos v1 JSON subset
//! (frameworks, offers, resources, tasks, status updates, the scheduler,
//! executor and agent calls and events) and RecordIO framing.
//!
//! Types that cross a process boundary live here and nowhere else. The
//! contents arrive with the master issue; this crate has no dependencies on
//! the rest of the workspace.
