//! The translation of OCI `LinuxResources` into cgroup v2 interface-file
//! writes: a [`Plan`] computed without touching the filesystem, so every
//! conversion is unit-tested on any host. [`Cgroup::apply_plan`] carries it out.
//!
//! Writes come in runc's controller order (pids, memory, io, cpu, cpuset,
//! hugetlb, rdma) and `unified` last; a `unified` key replaces the typed write
//! of the same file. Fields cgroup v2 has no knob for are not silently dropped:
//! they are listed in [`Plan::ignored`] with the reason, for the caller to log
//! (runc ignores the same fields on v2 without a word).
//!
//! `linux.resources.devices` has no interface file on cgroup v2: the plan
//! holds it compiled into the eBPF device filter ([`devices::program`]),
//! which [`Cgroup::apply_plan`] attaches after the writes.
//!
//! [`Cgroup::apply_plan`]: super::Cgroup::apply_plan

mod cpu;
mod hugetlb;
mod io;
mod memory;
mod pids;
mod rdma;
mod unified;

pub use cpu::shares_to_weight;
pub use io::blkio_weight_to_io_weight;

use super::devices::{self, BpfInsn};
use super::error::CgroupError;
use oci_spec::runtime::LinuxResources;
use std::collections::BTreeSet;

/// One write of `value` to the interface file `file` of the cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The interface file, e.g. `memory.max`.
    pub file: String,
    /// The exact text written.
    pub value: String,
    /// What to do when the kernel has no such file for this cgroup.
    pub on_missing: OnMissing,
}

/// What [`Write`] does when its file is absent (`ENOENT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnMissing {
    /// Fail, naming the file: the limit was asked for and cannot be set.
    Fail,
    /// Nothing to do: the value is the kernel's behaviour without the file
    /// (e.g. `memory.swap.max` = `max` without swap accounting).
    Skip,
    /// Write this other file instead (e.g. `io.bfq.weight` when there is no
    /// `io.weight`). Also taken when the kernel answers `EOPNOTSUPP`, as
    /// `io.weight` does for a device without io.cost.
    Instead {
        /// The fallback file.
        file: String,
        /// The value for it.
        value: String,
    },
}

impl Write {
    /// A write that fails when the file is missing.
    pub fn new(file: impl Into<String>, value: impl Into<String>) -> Write {
        Write {
            file: file.into(),
            value: value.into(),
            on_missing: OnMissing::Fail,
        }
    }

    /// The same write with another [`OnMissing`].
    pub fn on_missing(mut self, on_missing: OnMissing) -> Write {
        self.on_missing = on_missing;
        self
    }

    /// The controller that owns the file, `None` for the core `cgroup.*` files.
    pub fn controller(&self) -> Option<&str> {
        controller_of(&self.file)
    }
}

/// The controller owning interface file `file`: the part before the first dot,
/// `None` for `cgroup.*` (always present) or a name without a dot.
pub fn controller_of(file: &str) -> Option<&str> {
    match file.split_once('.') {
        Some(("cgroup", _)) | None => None,
        Some((controller, _)) => Some(controller),
    }
}

/// An OCI field with no cgroup v2 counterpart, left out of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The field under `linux.resources`, e.g. `memory.swappiness`.
    pub field: &'static str,
    /// Why cgroup v2 has nothing to write for it.
    pub reason: &'static str,
}

/// Everything applying a `LinuxResources` does to a cgroup, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The writes, in the order they are made.
    pub writes: Vec<Write>,
    /// Fields given but not applicable on cgroup v2, for the caller to log.
    pub ignored: Vec<Ignored>,
    /// `memory.checkBeforeUpdate`: refuse when memory.current exceeds this.
    pub check_memory_usage: Option<u64>,
    /// `devices`, compiled: the `BPF_CGROUP_DEVICE` program to attach in
    /// place of the cgroup's current one; `None` leaves it as it is.
    pub devices: Option<Vec<BpfInsn>>,
}

impl Plan {
    /// The controllers the writes need enabled, sorted.
    pub fn controllers(&self) -> BTreeSet<String> {
        self.writes
            .iter()
            .filter_map(|w| w.controller().map(str::to_string))
            .collect()
    }

    /// The value the plan writes to `file`, if any (for tests and logs).
    pub fn value_of(&self, file: &str) -> Option<&str> {
        self.writes
            .iter()
            .rev()
            .find(|w| w.file == file)
            .map(|w| w.value.as_str())
    }

    fn push(&mut self, write: Write) {
        self.writes.push(write);
    }

    fn ignore(&mut self, field: &'static str, reason: &'static str) {
        self.ignored.push(Ignored { field, reason });
    }
}

/// Translates OCI `resources` into cgroup v2 writes, or says which field is
/// wrong and why. Touches nothing.
pub fn plan(resources: &LinuxResources) -> Result<Plan, CgroupError> {
    let mut p = Plan::default();
    if let Some(pids) = resources.pids() {
        pids::plan(pids, &mut p);
    }
    if let Some(memory) = resources.memory() {
        memory::plan(memory, &mut p)?;
    }
    if let Some(block_io) = resources.block_io() {
        io::plan(block_io, &mut p)?;
    }
    if let Some(cpu) = resources.cpu() {
        cpu::plan(cpu, &mut p)?;
    }
    if let Some(limits) = resources.hugepage_limits() {
        hugetlb::plan(limits, &mut p)?;
    }
    if let Some(rdma) = resources.rdma() {
        rdma::plan(rdma, &mut p)?;
    }
    if let Some(rules) = resources.devices() {
        p.devices = Some(devices::program(rules)?);
    }
    if resources.network().is_some() {
        p.ignore(
            "network",
            "net_cls/net_prio are cgroup v1 only; on v2 classify traffic with eBPF or nftables \
             cgroup matching",
        );
    }
    if let Some(map) = resources.unified() {
        unified::plan(map, &mut p)?;
    }
    Ok(p)
}

/// An [`CgroupError::InvalidResource`] for `field` = `value`.
fn invalid(field: &str, value: impl ToString, reason: impl Into<String>) -> CgroupError {
    CgroupError::InvalidResource {
        field: field.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{
        LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder,
    };
    use std::collections::HashMap;

    #[test]
    fn empty_resources_plan_nothing() {
        let p = plan(&LinuxResources::default()).unwrap();
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn controllers_come_from_file_prefixes() {
        assert_eq!(controller_of("memory.oom.group"), Some("memory"));
        assert_eq!(controller_of("hugetlb.2MB.max"), Some("hugetlb"));
        assert_eq!(controller_of("cgroup.max.depth"), None);
        assert_eq!(controller_of("weird"), None);
    }

    #[test]
    fn controller_order_follows_runc_and_unified_comes_last() {
        let r = LinuxResourcesBuilder::default()
            .cpu(LinuxCpuBuilder::default().shares(1024u64).build().unwrap())
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(1 << 20)
                    .build()
                    .unwrap(),
            )
            .pids(LinuxPidsBuilder::default().limit(10).build().unwrap())
            .unified(HashMap::from([(
                "memory.high".to_string(),
                "524288".to_string(),
            )]))
            .build()
            .unwrap();
        let p = plan(&r).unwrap();
        let files: Vec<&str> = p.writes.iter().map(|w| w.file.as_str()).collect();
        assert_eq!(
            files,
            ["pids.max", "memory.max", "cpu.weight", "memory.high"]
        );
        let want: BTreeSet<String> = ["cpu", "memory", "pids"].map(String::from).into();
        assert_eq!(p.controllers(), want);
    }

    #[test]
    fn unified_replaces_the_typed_write_of_the_same_file() {
        let r = LinuxResourcesBuilder::default()
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(1 << 20)
                    .build()
                    .unwrap(),
            )
            .unified(HashMap::from([(
                "memory.max".to_string(),
                "max".to_string(),
            )]))
            .build()
            .unwrap();
        let p = plan(&r).unwrap();
        assert_eq!(p.writes, vec![Write::new("memory.max", "max")]);
    }

    #[test]
    fn devices_are_compiled_into_the_plan() {
        let mut deny = oci_spec::runtime::LinuxDeviceCgroup::default();
        deny.set_access(Some("rwm".into()));
        let mut r = LinuxResources::default();
        r.set_devices(Some(vec![deny.clone()]));
        let p = plan(&r).unwrap();
        assert!(p.writes.is_empty() && p.ignored.is_empty());
        assert_eq!(
            p.devices,
            Some(devices::program(std::slice::from_ref(&deny)).unwrap())
        );
        deny.set_access(Some("rwx".into()));
        r.set_devices(Some(vec![deny]));
        let err = plan(&r).unwrap_err().to_string();
        assert!(err.contains("linux.resources.devices[0].access"), "{err}");
        assert_eq!(plan(&LinuxResources::default()).unwrap().devices, None);
    }

    #[test]
    fn network_is_reported_as_ignored() {
        let r = LinuxResourcesBuilder::default()
            .network(oci_spec::runtime::LinuxNetwork::default())
            .build()
            .unwrap();
        let p = plan(&r).unwrap();
        assert!(p.writes.is_empty());
        assert_eq!(p.ignored[0].field, "network");
    }
}
