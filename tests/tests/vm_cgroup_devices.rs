//! The device cgroup on v2 (`corral_isolator::cgroup::devices`) against the
//! real kernel: the eBPF filter compiled from OCI rules allows and denies
//! opens and mknod as the rules say, live updates replace the program (one
//! stays attached), the same rules share one loaded program, the default rules, and invalid rules that create
//! nothing. Runs inside the VM only.
//!
//! Each test roots an `FsDriver` at its own scratch directory
//! `/sys/fs/cgroup/corral-test-devices-<name>-<pid>`, removed with everything
//! below it when the test ends, even when it panics. Processes join a cgroup
//! with `sh -c 'echo $$ > DIR/cgroup.procs; ...'` so every device access
//! after that line is checked by the filter.

use corral_isolator::cgroup::devices::container_rules;
use corral_isolator::cgroup::{Cgroup, CgroupDriver, CgroupError};
use corral_tests::cgroup::DriverRoot as Root;
use corral_tests::vm::Disk;
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxResources};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A device node path in /dev/shm, removed on drop.
struct Node(PathBuf);

impl Node {
    fn new(name: &str) -> Node {
        let p = PathBuf::from(format!(
            "/dev/shm/corral-devices-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_file(&p);
        Node(p)
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bad resources {json}: {e}"))
}

/// deny all, allow c 1:3 rwm (null), allow c 1:5 r (zero), and `extra`.
fn rules(extra: &str) -> LinuxResources {
    resources(&format!(
        r#"{{"devices":[
            {{"allow":false,"access":"rwm"}},
            {{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}},
            {{"allow":true,"type":"c","major":1,"minor":5,"access":"r"}}{extra}
        ]}}"#
    ))
}

/// `sh -c` that first moves itself into `cg`.
fn sh_command(cg: &Cgroup, script: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(format!(
        "echo $$ > {}/cgroup.procs || exit 99\n{script}",
        cg.path().display()
    ));
    c
}

/// Runs `script` inside `cg` to completion.
fn sh(cg: &Cgroup, script: &str) -> Output {
    sh_command(cg, script).output().expect("running sh")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[track_caller]
fn allowed(cg: &Cgroup, script: &str) -> String {
    let out = sh(cg, script);
    assert!(out.status.success(), "{script:?} failed in {cg:?}: {out:?}");
    stdout(&out)
}

#[track_caller]
fn denied(cg: &Cgroup, script: &str) {
    let out = sh(cg, script);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("Operation not permitted"),
        "{script:?} was not denied with EPERM in {cg:?}: {out:?}"
    );
    assert_ne!(
        out.status.code(),
        Some(99),
        "could not join {cg:?}: {out:?}"
    );
}

/// Starts `script` inside `cg` and returns once the shell is a member.
fn spawn(cg: &Cgroup, script: &str) -> Child {
    let child = sh_command(cg, script)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawning sh");
    let pid = child.id() as i32;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cg.procs().unwrap().contains(&pid) {
        assert!(Instant::now() < deadline, "sh {pid} never joined {cg:?}");
        sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn rules_decide_opens_and_mknod_and_live_updates_replace_the_program() {
    let root = Root::new("devices-rules");
    let free = root.create("free", None);
    let cg = root.create("c", Some(&rules("")));
    let first = cg.device_filter_ids().unwrap();
    assert_eq!(first.len(), 1, "one program after create: {first:?}");
    assert_eq!(free.device_filter_ids().unwrap(), Vec::<u32>::new());
    // The same rules elsewhere reuse the program loaded for them, and
    // applying them again leaves it the one program attached.
    let twin = root.create("twin", Some(&rules("")));
    assert_eq!(twin.device_filter_ids().unwrap(), first);
    twin.apply(&rules("")).unwrap();
    assert_eq!(twin.device_filter_ids().unwrap(), first);
    denied(&twin, "echo x > /dev/zero");

    assert_eq!(allowed(&cg, "head -c1 /dev/zero | wc -c"), "1");
    allowed(&cg, "echo x > /dev/null");
    denied(&cg, "echo x > /dev/zero");
    denied(&cg, "head -c1 /dev/full");
    let node = Node::new("sda");
    denied(&cg, &format!("mknod {} b 8 0", node.path()));
    assert!(!Path::new(&node.path()).exists());
    // The same without the filter: the denials above were the filter's.
    assert_eq!(allowed(&free, "head -c1 /dev/full | wc -c"), "1");
    allowed(&free, &format!("mknod {} b 8 0", node.path()));

    // A process already inside when the rules change.
    let flag = Node::new("flag");
    let waiting = spawn(
        &cg,
        &format!(
            "while [ ! -e {} ]; do sleep 0.05; done; head -c1 /dev/full | wc -c",
            flag.path()
        ),
    );
    let full = r#",{"allow":true,"type":"c","major":1,"minor":7,"access":"rwm"}"#;
    cg.apply(&rules(full)).unwrap();
    fs::write(&flag.0, "").unwrap();
    let out = waiting.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "1", "{out:?}");

    assert_eq!(allowed(&cg, "head -c1 /dev/full | wc -c"), "1");
    denied(&cg, "echo x > /dev/zero");
    let second = cg.device_filter_ids().unwrap();
    assert_eq!(second.len(), 1, "one program after the update: {second:?}");
    assert_ne!(second, first, "the update attached a new program");

    // Applying resources without devices leaves the filter alone.
    cg.apply(&resources(r#"{"pids":{"limit":100}}"#)).unwrap();
    assert_eq!(cg.device_filter_ids().unwrap(), second);
    denied(&cg, "echo x > /dev/zero");
}

#[test]
fn container_defaults_allow_the_standard_nodes_and_mknod_only() {
    let root = Root::new("devices-defaults");
    let cg = root.create("c", None);
    let mut deny_all = LinuxDeviceCgroup::default();
    deny_all.set_access(Some("rwm".into()));
    cg.set_devices(&container_rules(&[deny_all])).unwrap();
    assert_eq!(cg.device_filter_ids().unwrap().len(), 1);

    allowed(&cg, "echo x > /dev/null && cat /dev/null");
    for dev in ["zero", "full", "random", "urandom"] {
        assert_eq!(allowed(&cg, &format!("head -c1 /dev/{dev} | wc -c")), "1");
    }
    denied(&cg, "echo x > /dev/null; head -c1 /dev/kmsg");
    let disk = Disk::get();
    denied(&cg, &format!("head -c1 {}", disk.device));
    // mknod is allowed for any char or block device; opening is not.
    let node = Node::new("disk");
    let (major, minor) = disk
        .major_minor()
        .split_once(':')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    allowed(&cg, &format!("mknod {} b {major} {minor}", node.path()));
    denied(&cg, &format!("head -c1 {}", node.path()));

    // Setting the same rules again still leaves one program.
    cg.set_devices(&container_rules(&[])).unwrap();
    assert_eq!(cg.device_filter_ids().unwrap().len(), 1);
}

#[test]
fn invalid_rules_fail_before_anything_is_created() {
    let root = Root::new("devices-invalid");
    let bad = resources(r#"{"devices":[{"allow":true,"type":"c","access":"rwx"}]}"#);
    let err = root.driver.create(Path::new("c"), Some(&bad)).unwrap_err();
    assert!(matches!(err, CgroupError::InvalidResource { .. }), "{err}");
    assert!(err.to_string().contains("devices[0].access"), "{err}");
    assert!(!root.path.join("c").exists());

    let cg = root.create("ok", Some(&rules("")));
    let ids = cg.device_filter_ids().unwrap();
    assert!(cg.apply(&bad).is_err());
    assert_eq!(
        cg.device_filter_ids().unwrap(),
        ids,
        "a refused update changes nothing"
    );
}
