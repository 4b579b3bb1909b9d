//! Loaded device programs kept for reuse. Loading runs the kernel's
//! verifier, the dearest part of giving a new cgroup its device filter; a
//! loaded program is immutable and can be attached to any number of
//! cgroups, so a long-lived process (the agent) loads each distinct rule set
//! once and attaches the same program to every container that has it.

use super::insn::BpfInsn;
use super::sys;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};

/// How many distinct programs are kept; the least recently used goes first.
/// Containers of one agent share a handful of rule sets.
const CAPACITY: usize = 16;

/// A loaded program: its descriptor and its id.
#[derive(Debug)]
pub(super) struct Loaded {
    pub fd: OwnedFd,
    pub id: u32,
}

type Entry = (Vec<BpfInsn>, Arc<Loaded>);

static LOADED: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The loaded program for `insns`: the cached one, or a fresh load (kept).
/// On failure, the kernel's error and the verifier's log.
pub(super) fn load(insns: &[BpfInsn]) -> Result<Arc<Loaded>, (io::Error, String)> {
    let mut cache = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(i) = cache.iter().position(|(k, _)| k == insns) {
        let entry = cache.remove(i);
        let fd = entry.1.clone();
        cache.push(entry);
        return Ok(fd);
    }
    let fd = sys::prog_load(insns)?;
    let id = sys::prog_id(fd.as_fd()).map_err(|e| (e, String::new()))?;
    let fd = Arc::new(Loaded { fd, id });
    if cache.len() == CAPACITY {
        cache.remove(0);
    }
    cache.push((insns.to_vec(), fd.clone()));
    Ok(fd)
}
