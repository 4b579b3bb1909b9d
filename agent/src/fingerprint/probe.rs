//! The reads behind the fingerprint: affinity, cpuset, meminfo, the agent
//! cgroup's memory.max chain, statvfs of the work dir, /dev, CPU model and
//! NUMA nodes, and the controllers of the cgroup tasks are created under.

use super::{Capacity, FingerprintError, cpus, devices, memory};
use corral_api::v1::{Attribute, Value};
use std::path::{Path, PathBuf};

/// Everything measured.
#[derive(Debug, Clone)]
pub struct Probed {
    pub capacity: Capacity,
    /// CPU model, NUMA nodes.
    pub attributes: Vec<Attribute>,
    /// The agent's own cgroup, relative to the cgroup mount.
    pub agent_cgroup: PathBuf,
    /// Controllers available to the tasks' cgroups.
    pub controllers: Vec<String>,
}

fn read(path: &Path) -> Result<String, FingerprintError> {
    std::fs::read_to_string(path).map_err(|source| FingerprintError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn parse_err(path: &Path, message: String) -> FingerprintError {
    FingerprintError::Parse {
        path: path.to_path_buf(),
        message,
    }
}

/// Measures the machine. `cgroup_mount` is the cgroup v2 mount,
/// `task_parent` the cgroup (relative to it) whose controllers tasks get.
pub fn probe(
    cgroup_mount: &Path,
    task_parent: &Path,
    work_dir: &Path,
    reserve_mib: u64,
    ports: (u64, u64),
) -> Result<Probed, FingerprintError> {
    let agent_cgroup = own_cgroup()?;
    let cpus = usable_cpus(&cgroup_mount.join(&agent_cgroup))?;
    let meminfo_path = Path::new("/proc/meminfo");
    let mem =
        memory::parse_meminfo(&read(meminfo_path)?).map_err(|m| parse_err(meminfo_path, m))?;
    let limits: Vec<String> = cgroup_mount
        .join(&agent_cgroup)
        .ancestors()
        .take_while(|p| p.starts_with(cgroup_mount) && *p != cgroup_mount)
        .filter_map(|p| std::fs::read_to_string(p.join("memory.max")).ok())
        .collect();
    let mem_mib = memory::cap_by_cgroup(
        mem.total_kib,
        reserve_mib,
        limits.iter().map(String::as_str),
    );
    let disk_mib = free_mib(work_dir)?;
    let dev_names: Vec<String> = std::fs::read_dir("/dev")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let gpus = devices::count_gpus(dev_names.iter().map(String::as_str));
    let controllers = controllers_for(cgroup_mount, task_parent)?;
    Ok(Probed {
        capacity: Capacity {
            cpus: cpus as f64,
            mem_mib,
            disk_mib,
            ports,
            gpus,
        },
        attributes: attributes(),
        agent_cgroup,
        controllers,
    })
}

/// The agent's cgroup v2 path from /proc/self/cgroup (`0::/path`).
pub fn own_cgroup() -> Result<PathBuf, FingerprintError> {
    let path = Path::new("/proc/self/cgroup");
    let text = read(path)?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| PathBuf::from(p.trim().trim_start_matches('/')))
        .ok_or_else(|| parse_err(path, "no cgroup v2 (0::) line".into()))
}

fn usable_cpus(agent_cgroup_dir: &Path) -> Result<usize, FingerprintError> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid cpu_set_t of the size passed.
    let ret = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if ret != 0 {
        return Err(FingerprintError::Read {
            path: "sched_getaffinity".into(),
            source: std::io::Error::last_os_error(),
        });
    }
    let affinity = cpus::CpuSet(
        (0..libc::CPU_SETSIZE as u32)
            // SAFETY: i is below CPU_SETSIZE and set is initialised.
            .filter(|&i| unsafe { libc::CPU_ISSET(i as usize, &set) })
            .collect(),
    );
    let effective = agent_cgroup_dir.join("cpuset.cpus.effective");
    let usable = match std::fs::read_to_string(&effective) {
        Ok(text) => {
            let cpuset = cpus::parse_cpu_list(&text).map_err(|m| parse_err(&effective, m))?;
            match cpuset.is_empty() {
                true => affinity,
                false => affinity.intersect(&cpuset),
            }
        }
        // No cpuset controller on the agent's cgroup: its affinity is all.
        Err(_) => affinity,
    };
    Ok(usable.len())
}

fn free_mib(dir: &Path) -> Result<f64, FingerprintError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| parse_err(dir, "the path has a NUL byte".into()))?;
    // SAFETY: an all-zero statvfs is a valid output buffer.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid path and st a valid buffer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(FingerprintError::Read {
            path: dir.to_path_buf(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(((st.f_bavail as u128 * st.f_frsize as u128) / (1024 * 1024)) as f64)
}

/// The controllers tasks' cgroups can have: the cgroup.controllers of
/// the nearest existing cgroup on the way down to `task_parent` (the
/// driver enables those below it). None when `mount` is no cgroup v2
/// hierarchy at all (a v1 mount has no cgroup.controllers).
pub fn controllers_for(mount: &Path, task_parent: &Path) -> Result<Vec<String>, FingerprintError> {
    let mut dir = mount.join(task_parent);
    while !dir.join("cgroup.controllers").exists() && dir.starts_with(mount) && dir != mount {
        dir.pop();
    }
    let file = dir.join("cgroup.controllers");
    if !file.exists() {
        return Ok(Vec::new());
    }
    Ok(read(&file)?.split_whitespace().map(String::from).collect())
}

fn attributes() -> Vec<Attribute> {
    let mut out = Vec::new();
    if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo")
        && let Some(model) = info
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
    {
        out.push(Attribute::new("cpu_model", Value::text(model.1.trim())));
    }
    let nodes = std::fs::read_dir("/sys/devices/system/node")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    n.strip_prefix("node")
                        .is_some_and(|r| r.parse::<u32>().is_ok())
                })
                .count()
        })
        .unwrap_or(0);
    out.push(Attribute::new(
        "numa_nodes",
        Value::scalar(nodes.max(1) as f64),
    ));
    out
}
