//! The cgroup v2 driver (`corral_isolator::cgroup`) against the real kernel:
//! creating trees with controllers and limits, enforcement of memory, pids,
//! cpu and io limits, the OOM watcher, live updates, freeze, kill, destroy,
//! failure cleanup, stats and PSI. Runs inside the VM only.
//!
//! Each test roots an `FsDriver` at its own scratch directory
//! `/sys/fs/cgroup/corral-test-driver-<name>-<pid>`, removed with everything
//! below it when the test ends, even when it panics.

use corral_isolator::cgroup::{
    Cgroup, CgroupDriver, CgroupError, FsDriver, MemoryEvents, MemoryNotice,
};
use corral_tests::cgroup::DriverRoot as Root;
use corral_tests::vm::{self, Disk};
use oci_spec::runtime::LinuxResources;
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const PROBE: &str = env!("CARGO_BIN_EXE_corral-probe");

fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bad resources {json}: {e}"))
}

fn read(cg: &Cgroup, file: &str) -> String {
    let p = cg.path().join(file);
    fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
        .trim()
        .to_string()
}

fn command(cg: &Cgroup, args: &[&str]) -> Command {
    let mut c = Command::new(PROBE);
    c.arg("--cgroup").arg(cg.path()).args(args);
    c
}

/// Runs the probe inside `cg` to completion.
fn probe(cg: &Cgroup, args: &[&str]) -> Output {
    command(cg, args).output().expect("running corral-probe")
}

/// Starts the probe inside `cg` and returns once it is a member.
fn spawn(cg: &Cgroup, args: &[&str]) -> Child {
    let child = command(cg, args)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawning corral-probe");
    let pid = child.id() as i32;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cg.procs().unwrap().contains(&pid) {
        assert!(Instant::now() < deadline, "probe {pid} never joined {cg:?}");
        sleep(Duration::from_millis(20));
    }
    child
}

/// The number the probe reported as `key=...`.
fn num(out: &Output, key: &str) -> f64 {
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
        .unwrap_or_else(|| panic!("probe did not report {key}: {out:?}"))
}

/// Held by the tests that use the VM disk, so a scheduler switch never
/// overlaps a rate measurement (nextest runs each test in its own process).
fn disk_lock() -> fs::File {
    let f = fs::File::create("/run/corral-test-driver-disk.lock").unwrap();
    // SAFETY: f is an open descriptor for the duration of the call.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(r, 0, "flock: {}", std::io::Error::last_os_error());
    f
}

fn assert_killed(child: &mut Child) {
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
}

#[test]
fn create_enables_controllers_and_applies_limits() {
    let root = Root::new("driver-create");
    let r = resources(
        r#"{
        "memory": {"limit": 67108864, "swap": 67108864, "reservation": 16777216},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 32},
        "blockIO": {"weight": 500},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
        "unified": {"memory.high": "50331648", "memory.oom.group": "1"}
    }"#,
    );
    let cg = root.create("a/b/leaf", Some(&r));
    assert_eq!(cg.path(), root.path.join("a/b/leaf"));
    for dir in [&root.path, &root.path.join("a"), &root.path.join("a/b")] {
        let on = fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap();
        for c in ["cpu", "cpuset", "hugetlb", "io", "memory", "pids"] {
            assert!(
                on.split_whitespace().any(|x| x == c),
                "{c} not in {dir:?}: {on}"
            );
        }
    }
    assert_eq!(
        read(&cg, "cgroup.subtree_control"),
        "",
        "the leaf enables nothing"
    );
    let expect = [
        ("memory.max", "67108864"),
        ("memory.swap.max", "0"),
        ("memory.low", "16777216"),
        ("memory.high", "50331648"),
        ("memory.oom.group", "1"),
        ("cpu.weight", "39"),
        ("cpu.max", "50000 100000"),
        ("cpuset.cpus", "0"),
        ("cpuset.mems", "0"),
        ("pids.max", "32"),
        ("hugetlb.2MB.max", "4194304"),
    ];
    for (file, value) in expect {
        assert_eq!(read(&cg, file), value, "{file}");
    }
    if cg.path().join("io.weight").exists() {
        assert_eq!(read(&cg, "io.weight"), "default 4950");
    } else {
        assert_eq!(read(&cg, "io.bfq.weight"), "default 500");
    }
}

#[test]
fn memory_oom_group_kill_is_counted_and_watched() {
    let root = Root::new("driver-oom");
    let r = resources(
        r#"{"memory": {"limit": 33554432, "swap": 33554432},
            "unified": {"memory.oom.group": "1"}}"#,
    );
    let cg = root.create("oom", Some(&r));
    let mut watcher = cg.memory_watcher().unwrap();
    let watching = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut seen = MemoryEvents::default();
        while seen.oom_kill == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match watcher.wait(left).unwrap() {
                MemoryNotice::Changed { new, .. } => {
                    seen.oom += new.oom;
                    seen.oom_kill += new.oom_kill;
                    seen.max += new.max;
                }
                other => panic!("watcher saw {other:?} before any OOM kill"),
            }
        }
        seen
    });
    let out = probe(&cg, &["alloc", "100"]);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "not OOM-killed: {out:?}"
    );
    let seen = watching.join().unwrap();
    assert!(seen.oom >= 1 && seen.oom_kill >= 1, "{seen:?}");
    let events = cg.memory_events().unwrap();
    assert!(events.oom_kill >= 1, "{events:?}");
    if read(&cg, "memory.events").contains("oom_group_kill") {
        assert!(events.oom_group_kill >= 1, "memory.oom.group=1: {events:?}");
    }
}

#[test]
fn pids_max_stops_a_fork_loop() {
    let root = Root::new("driver-pids");
    let cg = root.create("pids", Some(&resources(r#"{"pids": {"limit": 16}}"#)));
    let out = probe(&cg, &["forks", "200"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(num(&out, "forked"), 15.0, "the probe is the 16th");
    assert_eq!(num(&out, "errno"), f64::from(libc::EAGAIN));
    assert_eq!(cg.stats().unwrap().pids.unwrap().max, Some(16));
}

#[test]
fn cpu_max_throttles_a_spinning_process() {
    let root = Root::new("driver-cpu");
    let r = resources(r#"{"cpu": {"quota": 10000, "period": 100000}}"#);
    let cg = root.create("cpu", Some(&r));
    let out = probe(&cg, &["spin", "3"]);
    assert!(out.status.success(), "{out:?}");
    let (wall, cpu) = (num(&out, "wall_ms"), num(&out, "cpu_ms"));
    assert!(
        cpu < 0.3 * wall,
        "cpu {cpu} ms of {wall} ms wall under a 10% quota"
    );
    let stat = cg.stats().unwrap().cpu;
    assert!(stat.nr_throttled > 0 && stat.throttled_usec > 0, "{stat:?}");
    assert!(stat.nr_periods >= stat.nr_throttled, "{stat:?}");
}

#[test]
fn io_max_slows_direct_writes_on_the_vm_disk() {
    let disk = Disk::get();
    let _lock = disk_lock();
    let dev = disk.major_minor();
    let (major, minor) = dev.split_once(':').unwrap();
    let limit = 2u64 << 20;
    let root = Root::new("driver-io");
    let free = root.create("free", None);
    let out = probe(
        &free,
        &["write-direct", &format!("{}/free", disk.mount), "16"],
    );
    assert!(out.status.success(), "{out:?}");
    let free_rate = num(&out, "bytes_per_sec");
    assert!(
        free_rate > 3.0 * limit as f64,
        "disk too slow to show throttling: {free_rate}"
    );

    let r = resources(&format!(
        r#"{{"blockIO": {{"throttleWriteBpsDevice": [{{"major": {major}, "minor": {minor}, "rate": {limit}}}]}}}}"#
    ));
    let slow = root.create("slow", Some(&r));
    assert_eq!(
        read(&slow, "io.max"),
        format!("{dev} rbps=max wbps={limit} riops=max wiops=max")
    );
    let out = probe(
        &slow,
        &["write-direct", &format!("{}/slow", disk.mount), "6"],
    );
    assert!(out.status.success(), "{out:?}");
    let rate = num(&out, "bytes_per_sec");
    assert!(
        rate < 1.25 * limit as f64,
        "throttled rate {rate} B/s over {limit}"
    );
    let io = slow.stats().unwrap().io.unwrap();
    let d = io
        .iter()
        .find(|d| format!("{}:{}", d.major, d.minor) == dev)
        .unwrap_or_else(|| panic!("no {dev} in io.stat: {io:?}"));
    assert!(d.wbytes >= 6 << 20 && d.wios > 0, "{d:?}");
}

#[test]
fn apply_updates_a_running_cgroup_live() {
    let root = Root::new("driver-live");
    let r = resources(r#"{"pids": {"limit": 10}, "memory": {"limit": 67108864}}"#);
    let cg = root.create("live", Some(&r));
    let mut child = spawn(&cg, &["spin", "600"]);
    // 8 MiB of tmpfs pages written from inside stay charged to the cgroup.
    let shm = format!("/dev/shm/corral-driver-live-{}", std::process::id());
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec dd if=/dev/zero of={shm} bs=1M count=8 status=none",
        cg.path().display()
    );
    let dd = Command::new("sh").args(["-c", &script]).status().unwrap();
    assert!(dd.success(), "{dd:?}");
    let refuse = resources(r#"{"memory": {"limit": 4194304, "checkBeforeUpdate": true}}"#);
    let err = cg.apply(&refuse).unwrap_err();
    fs::remove_file(&shm).unwrap();
    assert!(matches!(err, CgroupError::MemoryBelowUsage { .. }), "{err}");
    assert_eq!(read(&cg, "memory.max"), "67108864", "refused, untouched");
    let update = resources(
        r#"{"pids": {"limit": 20}, "memory": {"limit": 134217728},
            "cpu": {"quota": 20000, "period": 100000, "burst": 5000},
            "unified": {"memory.high": "100663296"}}"#,
    );
    cg.apply(&update).unwrap();
    assert_eq!(read(&cg, "pids.max"), "20");
    assert_eq!(read(&cg, "memory.max"), "134217728");
    assert_eq!(read(&cg, "memory.high"), "100663296");
    assert_eq!(read(&cg, "cpu.max"), "20000 100000");
    assert_eq!(read(&cg, "cpu.max.burst"), "5000");
    // Lower quota than the old burst: the plan's burst dance makes it work.
    cg.apply(&resources(r#"{"cpu": {"quota": 4000, "burst": 1000}}"#))
        .unwrap();
    assert_eq!(read(&cg, "cpu.max"), "4000 100000");
    assert_eq!(
        cg.procs().unwrap(),
        vec![child.id() as i32],
        "still running"
    );
    cg.kill_all().unwrap();
    assert_killed(&mut child);
}

#[test]
fn freeze_stops_and_thaw_resumes_a_spinning_process() {
    let root = Root::new("driver-freeze");
    let cg = root.create("freeze", None);
    let mut child = spawn(&cg, &["spin", "600"]);
    let usage = || cg.stats().unwrap().cpu.usage_usec;
    sleep(Duration::from_millis(300));
    cg.freeze(true).unwrap();
    assert!(cg.is_frozen().unwrap());
    let frozen_at = usage();
    sleep(Duration::from_millis(1000));
    let still = usage();
    assert!(
        still - frozen_at < 2_000,
        "frozen cgroup ran {} us",
        still - frozen_at
    );
    cg.freeze(false).unwrap();
    assert!(!cg.is_frozen().unwrap());
    sleep(Duration::from_millis(1000));
    let thawed = usage();
    assert!(
        thawed - still > 50_000,
        "thawed cgroup ran only {} us",
        thawed - still
    );
    cg.kill_all().unwrap();
    assert_killed(&mut child);
}

#[test]
fn kill_all_kills_every_process_below() {
    let root = Root::new("driver-kill");
    let top = root.create("k", None);
    let a = root.create("k/a", None);
    let b = root.create("k/b/c", None);
    let mut children = vec![
        spawn(&a, &["spin", "600"]),
        spawn(&a, &["spin", "600"]),
        spawn(&b, &["spin", "600"]),
    ];
    assert!(top.is_populated().unwrap());
    top.kill_all().unwrap();
    for c in &mut children {
        assert_killed(c);
    }
    assert!(!top.is_populated().unwrap());
}

#[test]
fn kill_each_pid_is_a_working_fallback() {
    let root = Root::new("driver-killpids");
    let top = root.create("k", None);
    let leaf = root.create("k/leaf", None);
    let mut children = vec![
        spawn(&leaf, &["spin", "600"]),
        spawn(&leaf, &["spin", "600"]),
    ];
    top.kill_each_pid().unwrap();
    assert!(!top.is_populated().unwrap());
    for c in &mut children {
        assert_killed(c);
    }
}

#[test]
fn killing_the_hierarchy_root_is_refused() {
    vm::require();
    let top = FsDriver::new().open(Path::new("")).unwrap();
    assert_eq!(top.path(), Path::new("/sys/fs/cgroup"));
    let err = top.kill_all().unwrap_err();
    assert!(matches!(err, CgroupError::HierarchyRoot { .. }), "{err}");
    assert!(
        top.stats().unwrap().cpu.usage_usec > 0,
        "root stats still read"
    );
}

#[test]
fn destroy_removes_the_subtree_and_its_processes() {
    let root = Root::new("driver-destroy");
    root.create("d/e/f", None);
    let g = root.create("d/e/g", Some(&resources(r#"{"pids": {"limit": 8}}"#)));
    let mut child = spawn(&g, &["spin", "600"]);
    let e = root.driver.open(Path::new("d/e")).unwrap();
    e.destroy().unwrap();
    assert_killed(&mut child);
    assert!(!root.path.join("d/e").exists(), "d/e left behind");
    assert!(root.path.join("d").exists(), "destroy went above d/e");
    let again = root.driver.open(Path::new("d/e")).unwrap_err();
    assert!(matches!(again, CgroupError::NotFound { .. }), "{again}");
}

#[test]
fn create_of_an_existing_cgroup_fails_and_leaves_it_untouched() {
    let root = Root::new("driver-exists");
    let cg = root.create("x", Some(&resources(r#"{"pids": {"limit": 5}}"#)));
    let r = resources(r#"{"pids": {"limit": 100}}"#);
    let err = root.driver.create(Path::new("x"), Some(&r)).unwrap_err();
    assert!(matches!(err, CgroupError::AlreadyExists { .. }), "{err}");
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(read(&cg, "pids.max"), "5");
}

#[test]
fn a_bad_value_fails_naming_the_file_and_leaves_nothing_behind() {
    let root = Root::new("driver-bad");
    let r = resources(r#"{"pids": {"limit": 5}, "cpu": {"cpus": "999"}}"#);
    let err = root.driver.create(Path::new("p/q"), Some(&r)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, CgroupError::Write { file, value, .. } if file == "cpuset.cpus" && value == "999"),
        "{msg}"
    );
    assert!(
        msg.contains("p/q") && msg.contains("cpuset.cpus") && msg.contains("999"),
        "{msg}"
    );
    assert!(
        !root.path.join("p").exists(),
        "p left behind after a failed create"
    );
}

#[test]
fn a_unified_key_of_a_controller_not_enabled_is_refused() {
    let root = Root::new("driver-unified");
    let bare = FsDriver::with_root(&root.path).with_default_controllers(Vec::<String>::new());
    let cg = bare.create(Path::new("u"), None).unwrap();
    let err = cg
        .apply(&resources(r#"{"unified": {"pids.max": "5"}}"#))
        .unwrap_err();
    assert!(
        matches!(&err, CgroupError::ControllerNotEnabled { controller, .. } if controller == "pids"),
        "{err}"
    );
    let err = cg
        .apply(&resources(r#"{"unified": {"../pids.max": "5"}}"#))
        .unwrap_err();
    assert!(matches!(err, CgroupError::InvalidResource { .. }), "{err}");
}

#[test]
fn stats_and_psi_parse_from_real_files() {
    let root = Root::new("driver-stats");
    let cg = root.create("s", Some(&resources(r#"{"memory": {"limit": 268435456}}"#)));
    assert!(probe(&cg, &["alloc", "16"]).status.success());
    assert!(probe(&cg, &["spin", "1"]).status.success());
    let s = cg.stats().unwrap();
    assert!(s.cpu.usage_usec > 0 && s.cpu.user_usec > 0, "{:?}", s.cpu);
    let m = s.memory.as_ref().unwrap();
    assert_eq!(m.max, Some(268_435_456));
    assert!(m.peak.unwrap() >= 16 << 20, "peak {:?}", m.peak);
    assert!(
        m.stat.contains_key("anon") && m.stat.contains_key("file"),
        "{:?}",
        m.stat
    );
    assert_eq!(m.events.oom_kill, 0);
    assert_eq!(s.pids.unwrap().current, 0);
    assert!(s.io.is_some());
    for (name, p) in [
        ("cpu", &s.psi.cpu),
        ("memory", &s.psi.memory),
        ("io", &s.psi.io),
    ] {
        let p = p.unwrap_or_else(|| panic!("no {name}.pressure"));
        assert!(p.some.avg10 >= 0.0 && p.full.is_some(), "{name}: {p:?}");
    }
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        json.contains("\"usage_usec\"") && json.contains("\"avg10\""),
        "{json}"
    );
}

#[test]
fn open_dir_is_the_cgroup_directory() {
    let root = Root::new("driver-fd");
    let cg = root.create("fd", None);
    let fd = cg.open_dir().unwrap();
    let link = fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    assert_eq!(link, cg.path());
    let opened = root.driver.open(Path::new("/fd")).unwrap();
    assert_eq!(opened, cg);
    let pid = spawn(&cg, &["spin", "600"]).id() as i32;
    let other = root.create("other", None);
    other.add_process(pid).unwrap();
    assert_eq!(other.procs().unwrap(), vec![pid]);
    assert!(cg.procs().unwrap().is_empty());
    other.destroy().unwrap();
}

/// Writes `.1` back to the file `.0` on drop (e.g. a disk's I/O scheduler).
struct Restore(String, String);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = fs::write(&self.0, &self.1);
    }
}

#[test]
fn device_weight_falls_back_to_bfq_when_io_weight_cannot_take_it() {
    let disk = Disk::get();
    let dev = disk.major_minor();
    let (major, minor) = dev.split_once(':').unwrap();
    let _lock = disk_lock();
    let sched = format!(
        "/sys/block/{}/queue/scheduler",
        disk.device.trim_start_matches("/dev/")
    );
    let all = fs::read_to_string(&sched).unwrap();
    let active = all.split_whitespace().find(|s| s.starts_with('['));
    let _restore = Restore(
        sched.clone(),
        active.unwrap().trim_matches(['[', ']']).into(),
    );
    fs::write(&sched, "bfq").unwrap_or_else(|e| panic!("selecting bfq in {sched}: {e}"));
    let root = Root::new("driver-bfq");
    // io.weight takes a per-device weight only where io.cost is enabled
    // (EOPNOTSUPP otherwise); bfq takes it, in the v1 range.
    let r = resources(&format!(
        r#"{{"blockIO": {{"weightDevice": [{{"major": {major}, "minor": {minor}, "weight": 300}}]}}}}"#
    ));
    let cg = root.create("w", Some(&r));
    let bfq = read(&cg, "io.bfq.weight");
    assert!(bfq.lines().any(|l| l == format!("{dev} 300")), "{bfq:?}");
}
