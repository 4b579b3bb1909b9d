//! [`Cgroup`]: a handle on one existing cgroup v2 directory, with everything
//! done to it after creation: joining processes, applying limits (live too),
//! reading stats and events, freezing, killing and removing.

use super::error::{CgroupError, dir_hint};
use super::files;
use super::parse::{self, CgroupEvents};
use super::plan::{self, OnMissing, Plan, Write};
use super::stats::{self, MemoryEvents, Stats};
use super::tree;
use super::watch::{self, MemoryWatcher};
use oci_spec::runtime::LinuxResources;
use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long [`Cgroup::freeze`] waits for cgroup.events to say `frozen`.
pub const FREEZE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long killing waits for every process of the cgroup to exit.
pub const KILL_TIMEOUT: Duration = Duration::from_secs(30);

/// One cgroup v2 directory. Cheap to clone: it is the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    path: PathBuf,
}

impl Cgroup {
    /// A handle on the cgroup directory `path`, which the driver checked.
    pub(crate) fn at(path: PathBuf) -> Cgroup {
        Cgroup { path }
    }

    /// The cgroup's absolute directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory opened `O_DIRECTORY | O_CLOEXEC`, for `clone3` with
    /// `CLONE_INTO_CGROUP` (the child starts inside, no window outside).
    pub fn open_dir(&self) -> Result<OwnedFd, CgroupError> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&self.path)
            .map(OwnedFd::from)
            .map_err(|source| CgroupError::Dir {
                op: "open",
                path: self.path.clone(),
                hint: dir_hint(&source),
                source,
            })
    }

    /// Moves process `pid` (all its threads) into this cgroup.
    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        files::write(&self.path, "cgroup.procs", &pid.to_string())
    }

    /// Applies OCI `resources`; on a running cgroup this is a live update.
    /// Writes already made stay when a later one fails (the error names it).
    pub fn apply(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        self.apply_plan(&plan::plan(resources)?)
    }

    /// Carries out a [`Plan`]: checks that its controllers are enabled here
    /// and `checkBeforeUpdate`, writes in order, then attaches the device
    /// filter if the plan has one.
    pub fn apply_plan(&self, plan: &Plan) -> Result<(), CgroupError> {
        self.check_controllers(plan)?;
        self.apply_plan_unchecked(plan)
    }

    /// [`Cgroup::apply_plan`] without first checking that the plan's
    /// controllers are enabled here (the caller just enabled them).
    pub(super) fn apply_plan_unchecked(&self, plan: &Plan) -> Result<(), CgroupError> {
        if let Some(limit) = plan.check_memory_usage {
            let usage = stats::parsed(&self.path, "memory.current", parse::single_u64)?;
            if usage > limit {
                return Err(CgroupError::MemoryBelowUsage {
                    cgroup: self.path.clone(),
                    limit,
                    usage,
                });
            }
        }
        plan.writes.iter().try_for_each(|w| self.write(w))?;
        match &plan.devices {
            Some(filter) => self.set_device_filter(filter),
            None => Ok(()),
        }
    }

    fn check_controllers(&self, plan: &Plan) -> Result<(), CgroupError> {
        if plan.controllers().is_empty() {
            return Ok(());
        }
        let enabled = files::read(&self.path, "cgroup.controllers")?;
        let set: BTreeSet<&str> = enabled.split_whitespace().collect();
        for w in &plan.writes {
            match w.controller() {
                Some(c) if !set.contains(c) => {
                    return Err(CgroupError::ControllerNotEnabled {
                        cgroup: self.path.clone(),
                        file: w.file.clone(),
                        controller: c.to_string(),
                        enabled: enabled.trim().to_string(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn write(&self, w: &Write) -> Result<(), CgroupError> {
        let Err(err) = files::write_raw(&self.path, &w.file, &w.value) else {
            return Ok(());
        };
        let missing = err.raw_os_error() == Some(libc::ENOENT);
        let unsupported = err.raw_os_error() == Some(libc::EOPNOTSUPP);
        match &w.on_missing {
            OnMissing::Skip if missing => Ok(()),
            OnMissing::Instead { file, value } if missing || unsupported => {
                files::write(&self.path, file, value)
            }
            _ => Err(files::write_error(&self.path, &w.file, &w.value, err)),
        }
    }

    /// The processes directly in this cgroup (cgroup.procs).
    pub fn procs(&self) -> Result<Vec<i32>, CgroupError> {
        stats::parsed(&self.path, "cgroup.procs", parse::pids)
    }

    /// A snapshot of the cgroup's accounting.
    pub fn stats(&self) -> Result<Stats, CgroupError> {
        stats::collect(&self.path)
    }

    /// memory.events (needs the memory controller).
    pub fn memory_events(&self) -> Result<MemoryEvents, CgroupError> {
        stats::memory_events(&self.path)
    }

    /// A watcher that blocks until memory.events changes (OOM, OOM kill).
    pub fn memory_watcher(&self) -> Result<MemoryWatcher, CgroupError> {
        MemoryWatcher::new(&self.path)
    }

    /// SIGKILLs every process in the cgroup and below, through cgroup.kill
    /// (kernel 5.14+) or, without it, [`Cgroup::kill_each_pid`]. Returns once
    /// the kill is sent; [`Cgroup::destroy`] also waits for the exits. The
    /// hierarchy's root cgroup is refused ([`CgroupError::HierarchyRoot`]).
    pub fn kill_all(&self) -> Result<(), CgroupError> {
        match files::write_raw(&self.path, "cgroup.kill", "1") {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && self.exists() => {
                self.kill_each_pid()
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(CgroupError::NotFound {
                path: self.path.clone(),
            }),
            Err(e) => Err(files::write_error(&self.path, "cgroup.kill", "1", e)),
        }
    }

    /// The fallback of [`Cgroup::kill_all`] for kernels without cgroup.kill:
    /// SIGKILLs every pid in the cgroup.procs of the cgroup and its
    /// descendants, again and again (catching forks), until none is left.
    /// A pid can be reused between reading and killing it; cgroup.kill has
    /// no such race, which is why it comes first.
    pub fn kill_each_pid(&self) -> Result<(), CgroupError> {
        if self.exists() && !self.path.join("cgroup.events").exists() {
            return Err(CgroupError::HierarchyRoot {
                path: self.path.clone(),
            });
        }
        let start = Instant::now();
        loop {
            let mut any = false;
            for dir in tree::descendants(&self.path)? {
                for pid in stats::parsed(&dir, "cgroup.procs", parse::pids)? {
                    any = true;
                    self.sigkill(pid)?;
                }
            }
            if !any && !self.is_populated()? {
                return Ok(());
            }
            if start.elapsed() > KILL_TIMEOUT {
                return Err(CgroupError::Timeout {
                    cgroup: self.path.clone(),
                    what: "every process is gone",
                    waited: start.elapsed(),
                });
            }
            sleep(Duration::from_millis(10));
        }
    }

    fn sigkill(&self, pid: i32) -> Result<(), CgroupError> {
        if pid <= 0 {
            // kill(0 or negative) would signal process groups: never.
            return Ok(());
        }
        // SAFETY: kill has no memory-safety preconditions; pid is positive.
        let r = unsafe { libc::kill(pid, libc::SIGKILL) };
        let e = io::Error::last_os_error();
        if r == 0 || e.raw_os_error() == Some(libc::ESRCH) {
            return Ok(());
        }
        Err(CgroupError::Kill {
            cgroup: self.path.clone(),
            pid,
            source: e,
        })
    }

    /// Freezes (`true`) or thaws (`false`) the cgroup and its descendants
    /// through cgroup.freeze, returning once cgroup.events says so.
    pub fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        files::write(&self.path, "cgroup.freeze", if frozen { "1" } else { "0" })?;
        let what = if frozen { "frozen 1" } else { "frozen 0" };
        watch::wait_for(&self.path, what, FREEZE_TIMEOUT, |e| e.frozen == frozen)
    }

    /// Whether cgroup.events says `frozen 1`.
    pub fn is_frozen(&self) -> Result<bool, CgroupError> {
        Ok(self.events()?.frozen)
    }

    /// Whether any process is in the cgroup or below (`populated 1`).
    pub fn is_populated(&self) -> Result<bool, CgroupError> {
        Ok(self.events()?.populated)
    }

    fn events(&self) -> Result<CgroupEvents, CgroupError> {
        stats::parsed(&self.path, "cgroup.events", parse::cgroup_events)
    }

    fn exists(&self) -> bool {
        self.path.join("cgroup.procs").exists()
    }

    /// Kills everything in the cgroup, waits until it is unpopulated, then
    /// removes it and every cgroup below it (children first). A cgroup that
    /// is already gone is not an error.
    pub fn destroy(self) -> Result<(), CgroupError> {
        if !self.path.exists() {
            return Ok(());
        }
        self.kill_all()?;
        watch::wait_for(
            &self.path,
            "populated 0 (every process exited)",
            KILL_TIMEOUT,
            |e| !e.populated,
        )?;
        tree::remove(&self.path)
    }
}
