//! The cgroup v2 driver: creating cgroups with OCI `LinuxResources` applied,
//! updating them live, reading their stats and PSI, watching memory events,
//! freezing, killing and removing them.
//!
//! [`CgroupDriver`] is the seam the OCI runtime and the agent code against;
//! [`FsDriver`] implements it with plain reads and writes of the cgroup v2
//! interface files. The OCI → v2 translation is a pure [`plan::plan`],
//! unit-tested without a kernel. Why plain files and not the `cgroups-rs`
//! crate: see `docs/cgroups.md`.

pub mod devices;
mod driver;
mod error;
mod files;
mod fs;
mod handle;
mod inotify;
mod known;
pub mod parse;
pub mod plan;
pub mod psi;
mod stats;
mod tree;
mod watch;

pub use devices::{BpfInsn, DevicesError};
pub use driver::CgroupDriver;
pub use error::CgroupError;
pub use fs::{DEFAULT_CONTROLLERS, DEFAULT_ROOT, FsDriver};
pub use handle::{Cgroup, FREEZE_TIMEOUT, KILL_TIMEOUT};
pub use plan::{Ignored, OnMissing, Plan, Write};
pub use psi::{Pressure, PressureLine, PsiStats};
pub use stats::{CpuStats, IoDeviceStats, MemoryEvents, MemoryStats, PidsStats, Stats};
pub use watch::{MemoryNotice, MemoryWatcher, RECHECK};
