//! Resource limits of `corral oci` containers enforced by cgroup v2: memory
//! (OOM kill counted), pids, CPU quota and io.max on the VM's disk. Each run
//! keeps the container (`--keep`) so its cgroup files can be read after the
//! process ends, then deletes it. Runs inside the VM only.

use corral_tests::bundle::TestBundle;
use corral_tests::oci::Oci;
use corral_tests::vm::{self, Disk};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

struct Ran {
    code: i32,
    stderr: String,
    cgroup: PathBuf,
    secs: f64,
}

impl Ran {
    fn stat(&self, file: &str, key: &str) -> u64 {
        let text = std::fs::read_to_string(self.cgroup.join(file)).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {file}: {text}"))
    }
}

fn run_kept(
    oci: &Oci,
    name: &str,
    args: &[&str],
    edit: impl FnOnce(&mut serde_json::Value),
) -> Ran {
    let mut b = TestBundle::busybox(name, args);
    b.edit(edit);
    let start = Instant::now();
    let out = oci.run(&["run", "--keep", "--bundle", b.dir().to_str().unwrap(), name]);
    Ran {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        cgroup: PathBuf::from("/sys/fs/cgroup/corral-oci").join(name),
        secs: start.elapsed().as_secs_f64(),
    }
}

#[test]
fn memory_limit_oom_kills_and_counts() {
    vm::require();
    let oci = Oci::new("oom");
    let r = run_kept(
        &oci,
        "oom",
        &["dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"],
        |s| {
            s["linux"]["resources"]["memory"] = json!({"limit": 32 << 20, "swap": 32 << 20});
        },
    );
    assert_eq!(r.code, 137, "not SIGKILLed: {}", r.stderr);
    assert!(r.stat("memory.events", "oom_kill") >= 1);
    assert_eq!(
        std::fs::read_to_string(r.cgroup.join("memory.swap.max"))
            .unwrap()
            .trim(),
        "0"
    );
    oci.ok(&["delete", "oom"]);
    assert!(!r.cgroup.exists(), "delete left the cgroup");
}

#[test]
fn pids_limit_contains_a_fork_loop() {
    vm::require();
    let oci = Oci::new("pids");
    let script = "n=0; for i in $(seq 40); do sleep 2 & n=$((n+1)); done 2>/dev/null; wait";
    let r = run_kept(&oci, "pids", &["sh", "-c", script], |s| {
        s["linux"]["resources"]["pids"] = json!({"limit": 10});
    });
    assert!(
        r.stat("pids.events", "max") >= 1,
        "fork loop never hit pids.max ({})",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(r.cgroup.join("pids.max"))
            .unwrap()
            .trim(),
        "10"
    );
    oci.ok(&["delete", "pids"]);
}

#[test]
fn cpu_quota_throttles_a_spinning_container() {
    vm::require();
    let oci = Oci::new("cpu");
    // busybox timeout execs the program in its own process: keep that off
    // pid 1, which ignores SIGTERM.
    let spin = "timeout 3 sh -c 'while :; do :; done'; true";
    let r = run_kept(&oci, "cpu", &["sh", "-c", spin], |s| {
        s["linux"]["resources"]["cpu"] = json!({"quota": 10000, "period": 100000});
    });
    assert!(r.stat("cpu.stat", "nr_throttled") > 0);
    let usage = r.stat("cpu.stat", "usage_usec") as f64 / 1e6;
    assert!(usage < 0.3 * 3.0, "{usage} s of CPU in 3 s at a 10% quota");
    assert_eq!(
        std::fs::read_to_string(r.cgroup.join("cpu.max"))
            .unwrap()
            .trim(),
        "10000 100000"
    );
    oci.ok(&["delete", "cpu"]);
}

#[test]
fn io_max_throttles_direct_writes_on_the_vm_disk() {
    let disk = Disk::get();
    let (major, minor) = disk
        .major_minor()
        .split_once(':')
        .map(|(a, b)| (a.parse::<i64>().unwrap(), b.parse::<i64>().unwrap()))
        .unwrap();
    let limit = 2u64 << 20;
    let oci = Oci::new("io");
    let data = PathBuf::from(&disk.mount).join(format!("oci-io-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let mount = |s: &mut serde_json::Value| {
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/data", "type": "bind", "source": data, "options": ["rbind", "rw"]
        }));
    };
    let args = [
        "dd",
        "if=/dev/zero",
        "of=/data/f",
        "bs=256k",
        "count=24",
        "oflag=direct",
    ];
    let free = run_kept(&oci, "io-free", &args, mount);
    assert_eq!(free.code, 0, "{}", free.stderr);
    let bytes = 24.0 * 256.0 * 1024.0;
    let slow = run_kept(&oci, "io-slow", &args, |s| {
        mount(s);
        s["linux"]["resources"]["blockIO"] = json!({
            "throttleWriteBpsDevice": [{"major": major, "minor": minor, "rate": limit}]
        });
    });
    assert_eq!(slow.code, 0, "{}", slow.stderr);
    let io_max = std::fs::read_to_string(slow.cgroup.join("io.max")).unwrap();
    assert!(
        io_max.contains(&format!("{major}:{minor} rbps=max wbps={limit}")),
        "{io_max}"
    );
    assert!(slow.stat_io_wbytes(&format!("{major}:{minor}")) >= bytes as u64);
    // The whole run (container start included) is compared in the same VM.
    assert!(
        bytes / slow.secs < 1.25 * limit as f64,
        "throttled run wrote at {} B/s",
        bytes / slow.secs
    );
    assert!(
        slow.secs > 2.0 * free.secs,
        "throttled {} s vs free {} s",
        slow.secs,
        free.secs
    );
    oci.ok(&["delete", "io-free"]);
    oci.ok(&["delete", "io-slow"]);
    let _ = std::fs::remove_dir_all(&data);
}

impl Ran {
    fn stat_io_wbytes(&self, dev: &str) -> u64 {
        let text = std::fs::read_to_string(self.cgroup.join("io.stat")).unwrap();
        text.lines()
            .filter(|l| l.starts_with(dev))
            .flat_map(|l| l.split_whitespace())
            .find_map(|kv| kv.strip_prefix("wbytes=")?.parse().ok())
            .unwrap_or_else(|| panic!("no wbytes for {dev} in io.stat: {text}"))
    }
}
