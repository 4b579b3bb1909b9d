//! The systemd cgroup driver: each container a transient scope
//! (`PREFIX-NAME.scope`, by default `corral-ID.scope` in `corral.slice`)
//! started with StartTransientUnit, `Delegate=yes` and its resource
//! properties, updated live with SetUnitProperties and stopped on removal.
//! Stats, events, freezing and killing use the scope's cgroup files, as with
//! the file driver. See docs/cgroups.md, "The systemd driver".

mod bus;
mod driver;
mod holder;
pub mod path;
pub mod props;

pub use bus::{BUS_WAIT, BusError, Manager, SYSTEM_BUS_SOCKET, SYSTEMD_RUN_DIR};
pub use driver::{HOLDER_CGROUP, START_TIMEOUT, SystemdDriver};
pub use holder::Holder;
pub use path::{DEFAULT_PREFIX, DEFAULT_SLICE, ScopePath};
