//! [`SystemdDriver`]: the [`CgroupDriver`] whose cgroups are systemd
//! transient scopes with `Delegate=yes`. A path is a runc-style systemd
//! cgroupsPath (`SLICE:PREFIX:NAME`, see [`super::path`]).
//!
//! `create` plans first (bad resources fail before anything changes), forks
//! the [`Holder`], starts the scope around it with the mapped properties,
//! waits until the holder is in the scope's cgroup, moves the holder into
//! the child cgroup `corral-holder` (so cgroup.procs of the scope lists the
//! container's processes only) and writes what has no property. Any failure
//! kills the holder and stops the scope: nothing is left behind. `update`
//! sets the properties live (runtime) and writes the rest; `remove` kills
//! everything in the cgroup (the holder too), removes it (or lets systemd,
//! which does so once the scope is empty) and stops the unit.

use super::bus::Manager;
use super::holder::Holder;
use super::path::ScopePath;
use super::props::{self, Mapped, Prop};
use corral_isolator::cgroup::{
    Cgroup, CgroupDriver, CgroupError, DEFAULT_ROOT, FsDriver, Plan, plan,
};
use oci_spec::runtime::LinuxResources;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long `create` waits for systemd to put the holder in the scope.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The holder's child cgroup inside each scope.
pub const HOLDER_CGROUP: &str = "corral-holder";

/// Containers as transient scopes of systemd.
#[derive(Debug, Clone)]
pub struct SystemdDriver {
    mount: PathBuf,
}

impl Default for SystemdDriver {
    fn default() -> SystemdDriver {
        SystemdDriver::with_mount(DEFAULT_ROOT)
    }
}

fn manager_error(reason: impl ToString) -> CgroupError {
    CgroupError::Manager {
        driver: "systemd",
        reason: reason.to_string(),
    }
}

fn scope_of(path: &Path) -> Result<ScopePath, CgroupError> {
    let text = path.to_string_lossy();
    ScopePath::parse(text.trim_start_matches('/')).map_err(manager_error)
}

/// The unit a scope's cgroup directory belongs to (its last name).
fn unit_of(cgroup: &Cgroup) -> Option<String> {
    let name = cgroup.path().file_name()?.to_str()?;
    name.ends_with(".scope").then(|| name.to_string())
}

impl SystemdDriver {
    /// Scopes under the cgroup2 mount `mount` (systemd's: /sys/fs/cgroup).
    pub fn with_mount(mount: impl Into<PathBuf>) -> SystemdDriver {
        SystemdDriver {
            mount: mount.into(),
        }
    }

    fn files(&self) -> FsDriver {
        FsDriver::with_root(&self.mount)
    }

    /// The properties every scope starts with.
    fn unit_properties(scope: &ScopePath, holder: i32) -> Vec<(String, Prop)> {
        let b = |n: &str, v| (n.to_string(), Prop::Bool(v));
        vec![
            (
                "Description".into(),
                Prop::Str(format!("corral container {}", scope.unit)),
            ),
            ("Slice".into(), Prop::Str(scope.slice.clone())),
            ("PIDs".into(), Prop::Pids(vec![holder as u32])),
            b("Delegate", true),
            b("CPUAccounting", true),
            b("MemoryAccounting", true),
            b("TasksAccounting", true),
            b("IOAccounting", true),
        ]
    }

    fn start(
        &self,
        manager: &Manager,
        scope: &ScopePath,
        dir: &Path,
        mapped: &Mapped,
        holder: &Holder,
    ) -> Result<Cgroup, CgroupError> {
        let mut properties = Self::unit_properties(scope, holder.pid());
        properties.extend(mapped.properties.iter().cloned());
        manager
            .start_transient_unit(&scope.unit, &properties)
            .map_err(manager_error)?;
        let relative = scope.cgroup_dir();
        wait_in(holder.pid(), &relative, dir)?;
        let cgroup = self.files().open(&relative)?;
        park(&cgroup, holder.pid())?;
        cgroup.apply_plan(&mapped.rest)?;
        Ok(cgroup)
    }
}

/// Waits until /proc/PID/cgroup says the holder is in `relative`.
fn wait_in(pid: i32, relative: &Path, dir: &Path) -> Result<(), CgroupError> {
    let want = format!("0::/{}", relative.display());
    let start = Instant::now();
    loop {
        let now = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if now.lines().any(|l| l == want) {
            return Ok(());
        }
        if start.elapsed() > START_TIMEOUT {
            return Err(CgroupError::Timeout {
                cgroup: dir.to_path_buf(),
                what: "systemd started the scope around the holder process",
                waited: start.elapsed(),
            });
        }
        sleep(Duration::from_millis(5));
    }
}

/// Moves the holder into the scope's child cgroup [`HOLDER_CGROUP`].
fn park(cgroup: &Cgroup, pid: i32) -> Result<(), CgroupError> {
    let dir = cgroup.path().join(HOLDER_CGROUP);
    std::fs::create_dir(&dir).map_err(|source| CgroupError::Dir {
        op: "mkdir",
        path: dir.clone(),
        hint: "the scope is delegated (Delegate=yes): it should be ours to write",
        source,
    })?;
    FsDriver::with_root(&dir)
        .open(Path::new(""))?
        .add_process(pid)
}

impl CgroupDriver for SystemdDriver {
    fn create(
        &self,
        path: &Path,
        resources: Option<&LinuxResources>,
    ) -> Result<Cgroup, CgroupError> {
        let scope = scope_of(path)?;
        let planned = match resources {
            Some(r) => plan::plan(r)?,
            None => Plan::default(),
        };
        let mapped = props::map(&planned)?;
        let dir = self.mount.join(scope.cgroup_dir());
        if dir.exists() {
            return Err(CgroupError::AlreadyExists { path: dir });
        }
        let manager = Manager::connect().map_err(manager_error)?;
        let holder = Holder::spawn()
            .map_err(|e| manager_error(format!("forking the scope's holder process: {e}")))?;
        match self.start(&manager, &scope, &dir, &mapped, &holder) {
            Ok(cgroup) => Ok(cgroup),
            Err(e) => {
                holder.kill();
                // Best effort: the cause matters more than a cleanup error.
                let _ = manager.stop_unit(&scope.unit);
                let _ = self.files().open(&scope.cgroup_dir()).map(Cgroup::destroy);
                Err(e)
            }
        }
    }

    fn open(&self, path: &Path) -> Result<Cgroup, CgroupError> {
        self.files().open(&scope_of(path)?.cgroup_dir())
    }

    fn locate(&self, path: &Path) -> Result<PathBuf, CgroupError> {
        Ok(self.mount.join(scope_of(path)?.cgroup_dir()))
    }

    fn update(&self, cgroup: &Cgroup, resources: &LinuxResources) -> Result<(), CgroupError> {
        let planned = plan::plan(resources)?;
        let check = Plan {
            check_memory_usage: planned.check_memory_usage,
            ..Plan::default()
        };
        cgroup.apply_plan(&check)?;
        let mapped = props::map(&planned)?;
        if !mapped.properties.is_empty() {
            let unit = unit_of(cgroup).ok_or_else(|| {
                manager_error(format!(
                    "{} is not a scope's cgroup",
                    cgroup.path().display()
                ))
            })?;
            Manager::connect()
                .and_then(|m| m.set_unit_properties(&unit, &mapped.properties))
                .map_err(manager_error)?;
        }
        cgroup.apply_plan(&mapped.rest)
    }

    fn remove(&self, cgroup: Cgroup) -> Result<(), CgroupError> {
        let unit = unit_of(&cgroup);
        let dir = cgroup.path().to_path_buf();
        match cgroup.destroy() {
            // Once the kill emptied the scope, systemd stops it and removes
            // its cgroup itself, racing our reads and rmdirs.
            Err(_) if !dir.exists() => {}
            other => other?,
        }
        match unit {
            Some(unit) => Manager::connect()
                .and_then(|m| m.stop_unit(&unit))
                .map_err(manager_error),
            None => Ok(()),
        }
    }
}
