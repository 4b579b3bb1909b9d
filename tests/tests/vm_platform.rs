//! The VM platform proves itself: each cgroup v2 controller corral relies on
//! really enforces its limit in the test VM. Runs inside the VM only.

use corral_tests::cgroup::ScratchCgroup;
use corral_tests::vm::{self, Disk};
use std::collections::HashMap;
use std::process::{Command, Output};

const PROBE: &str = env!("CARGO_BIN_EXE_corral-probe");

fn probe(cg: &ScratchCgroup, args: &[&str]) -> Output {
    Command::new(PROBE)
        .arg("--cgroup")
        .arg(cg.path())
        .args(args)
        .output()
        .expect("running corral-probe")
}

fn fields(out: &Output) -> HashMap<String, String> {
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn num(map: &HashMap<String, String>, key: &str) -> f64 {
    map.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("probe did not report {key}: {map:?}"))
}

#[test]
fn root_has_every_controller() {
    vm::require();
    let controllers = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").unwrap();
    for c in vm::CONTROLLERS {
        assert!(controllers.contains(c), "{c} missing from {controllers:?}");
    }
}

#[test]
fn memory_max_oom_kills_an_allocation_over_it() {
    let cg = ScratchCgroup::new("oom");
    cg.set("memory.max", &(32 << 20).to_string());
    cg.set("memory.swap.max", "0");
    let out = probe(&cg, &["alloc", "100"]);
    assert!(
        !out.status.success(),
        "100 MiB allocation survived memory.max=32M: {out:?}"
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "not OOM-killed: {out:?}"
    );
    assert!(
        cg.stat("memory.events", "oom_kill") >= 1,
        "{}",
        cg.get("memory.events")
    );
}

#[test]
fn memory_under_the_limit_is_not_killed() {
    let cg = ScratchCgroup::new("no-oom");
    cg.set("memory.max", &(64 << 20).to_string());
    cg.set("memory.swap.max", "0");
    let out = probe(&cg, &["alloc", "16"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(cg.stat("memory.events", "oom_kill"), 0);
}

#[test]
fn pids_max_stops_a_fork_loop() {
    let cg = ScratchCgroup::new("pids");
    cg.set("pids.max", "16");
    let out = probe(&cg, &["forks", "200"]);
    assert!(out.status.success(), "{out:?}");
    let f = fields(&out);
    // The probe itself is one of the 16.
    assert_eq!(num(&f, "forked"), 15.0, "{f:?}");
    assert_eq!(num(&f, "errno"), f64::from(libc::EAGAIN), "{f:?}");
    assert!(
        cg.stat("pids.events", "max") >= 1,
        "{}",
        cg.get("pids.events")
    );
}

#[test]
fn cpu_max_throttles_a_spinning_process() {
    let cg = ScratchCgroup::new("cpu");
    cg.set("cpu.max", "10000 100000");
    let out = probe(&cg, &["spin", "3"]);
    assert!(out.status.success(), "{out:?}");
    let f = fields(&out);
    let (wall, cpu) = (num(&f, "wall_ms"), num(&f, "cpu_ms"));
    // 10% quota: allow generous slack, but a full CPU would be ~100%.
    assert!(
        cpu < 0.3 * wall,
        "cpu {cpu} ms of {wall} ms wall under a 10% quota"
    );
    assert!(
        cg.stat("cpu.stat", "nr_throttled") > 0,
        "{}",
        cg.get("cpu.stat")
    );
    let usage_ms = cg.stat("cpu.stat", "usage_usec") as f64 / 1000.0;
    assert!(
        usage_ms < 0.3 * wall,
        "cgroup usage {usage_ms} ms of {wall} ms wall"
    );
}

#[test]
fn io_max_slows_direct_writes_below_the_limit() {
    let disk = Disk::get();
    let dev = disk.major_minor();
    let limit: f64 = (2 << 20) as f64;
    let cg = ScratchCgroup::new("io");

    // The same write, unthrottled first, shows the disk is faster than the limit.
    let free = probe(
        &cg,
        &["write-direct", &format!("{}/free", disk.mount), "16"],
    );
    assert!(free.status.success(), "{free:?}");
    let free_rate = num(&fields(&free), "bytes_per_sec");
    assert!(
        free_rate > 3.0 * limit,
        "disk too slow to show throttling: {free_rate} B/s"
    );

    cg.set("io.max", &format!("{dev} wbps={}", limit as u64));
    let slow = probe(&cg, &["write-direct", &format!("{}/slow", disk.mount), "6"]);
    assert!(slow.status.success(), "{slow:?}");
    let rate = num(&fields(&slow), "bytes_per_sec");
    assert!(
        rate < 1.25 * limit,
        "throttled rate {rate} B/s over limit {limit}"
    );
    let stat = cg.get("io.stat");
    assert!(stat.contains(&dev), "no {dev} in io.stat: {stat:?}");
}
