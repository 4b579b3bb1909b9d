//! linux.netDevices through `corral oci`: dummy devices made on the host
//! move into the container's network namespace under their new names (a
//! `%d` template filled by the kernel), with their permanent global
//! addresses, and up; the host no longer has them; after delete the
//! namespace is gone and the kernel destroyed the virtual devices with it
//! (the runtime spec forbids moving them back). An unknown device or a name
//! already taken fails create naming the device; the devices moved before
//! that failure, or before any later failure of the create, are back on the
//! host, and no state or cgroup is left. Runs inside the VM only.

use corral_tests::bundle::TestBundle;
use corral_tests::oci::Oci;
use corral_tests::vm;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `ip ARGS` on the host, asserting success.
fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A dummy device on the host with an IPv4 and an IPv6 address, up;
/// deleted on drop when it is still there.
struct Dummy {
    name: String,
}

impl Dummy {
    fn new(name: &str, v4: &str, v6: &str) -> Dummy {
        let _ = Command::new("modprobe").arg("dummy").status();
        let _ = Command::new("ip").args(["link", "del", name]).status();
        ip(&["link", "add", name, "type", "dummy"]);
        ip(&["addr", "add", v4, "dev", name]);
        ip(&["addr", "add", v6, "dev", name, "nodad"]);
        ip(&["link", "set", name, "up"]);
        Dummy { name: name.into() }
    }

    fn on_host(&self) -> bool {
        Path::new("/sys/class/net").join(&self.name).exists()
    }
}

impl Drop for Dummy {
    fn drop(&mut self) {
        if self.on_host() {
            let _ = Command::new("ip")
                .args(["link", "del", &self.name])
                .status();
        }
    }
}

/// A host folder the container writes what it sees into, at /out.
fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("corral-net-out-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nothing_left(oci: &Oci, id: &str) {
    assert!(!oci.root().join(id).exists(), "state of {id} left behind");
    let cgroup = Path::new("/sys/fs/cgroup/corral-oci").join(id);
    assert!(!cgroup.exists(), "cgroup {} left behind", cgroup.display());
}

fn stderr_of_create(oci: &Oci, b: &TestBundle, id: &str) -> String {
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), id]);
    assert!(!out.status.success(), "create {id} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_host_device_moves_in_renamed_with_its_addresses_and_up() {
    vm::require();
    let dummy = Dummy::new("corraltest0", "10.77.0.1/24", "fd77::1/64");
    let templated = Dummy::new("corraltest1", "10.76.0.1/24", "fd76::1/64");
    let out = out_dir("move");
    let oci = Oci::new("netdev");
    let script = "cat /sys/class/net/eth7/flags > /out/flags; \
                  ip -o addr show dev eth7 > /out/addr; \
                  ls /sys/class/net > /out/links";
    let mut b = TestBundle::busybox("netdev", &["sh", "-c", script]);
    b.edit(|s| {
        s["linux"]["netDevices"] =
            json!({"corraltest0": {"name": "eth7"}, "corraltest1": {"name": "net%d"}});
        s["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/out", "type": "bind", "source": out, "options": ["rbind"]}),
        );
    });
    oci.ok(&["create", "--bundle", b.dir().to_str().unwrap(), "n1"]);
    assert!(
        !dummy.on_host() && !templated.on_host(),
        "a device is still on the host after create"
    );
    oci.ok(&["start", "n1"]);
    oci.wait_status("n1", "stopped");
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    let flags = u32::from_str_radix(read("flags").trim().trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("flags {:?}: {e}", read("flags")));
    assert_eq!(flags & 1, 1, "eth7 is not up: flags {flags:#x}");
    let addr = read("addr");
    assert!(addr.contains("inet 10.77.0.1/24"), "{addr}");
    assert!(addr.contains("inet6 fd77::1/64"), "{addr}");
    let links: Vec<String> = read("links").split_whitespace().map(String::from).collect();
    // The template is filled by the kernel with the first free number.
    for (want, gone) in [("eth7", "corraltest0"), ("net0", "corraltest1")] {
        assert!(
            links.contains(&want.to_string()) && !links.contains(&gone.to_string()),
            "{links:?}"
        );
    }
    oci.ok(&["delete", "n1"]);
    // The namespace is freed asynchronously (a work queue): watch long
    // enough for a device given back to show up. A dummy dies with it.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        for name in ["corraltest0", "corraltest1", "eth7", "net0"] {
            assert!(
                !Path::new("/sys/class/net").join(name).exists(),
                "{name} came back to the host"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn an_unknown_device_fails_create_naming_it() {
    vm::require();
    let oci = Oci::new("netdev-unknown");
    let mut b = TestBundle::busybox("netdev-unknown", &["true"]);
    b.edit(|s| s["linux"]["netDevices"] = json!({"corralnope0": {}}));
    let err = stderr_of_create(&oci, &b, "u1");
    assert!(
        err.contains("linux.netDevices.corralnope0") && err.contains("no network device"),
        "{err}"
    );
    nothing_left(&oci, "u1");
}

#[test]
fn a_failed_move_gives_the_devices_moved_before_back() {
    vm::require();
    let first = Dummy::new("corralrb0", "10.78.0.1/24", "fd78::1/64");
    let second = Dummy::new("corralrb1", "10.79.0.1/24", "fd79::1/64");
    let oci = Oci::new("netdev-back");
    let mut b = TestBundle::busybox("netdev-back", &["true"]);
    // Moved in host-name order: corralrb0 goes in, then corralrb1 cannot
    // take the name of the namespace's loopback.
    b.edit(|s| {
        s["linux"]["netDevices"] =
            json!({"corralrb0": {"name": "eth7"}, "corralrb1": {"name": "lo"}});
    });
    let err = stderr_of_create(&oci, &b, "b1");
    assert!(
        err.contains("linux.netDevices.corralrb1.name") && err.contains("already exists"),
        "{err}"
    );
    nothing_left(&oci, "b1");
    assert!(first.on_host() && second.on_host(), "a device was lost");
    let addr = ip(&["-o", "addr", "show", "dev", "corralrb0"]);
    assert!(
        addr.contains("inet 10.78.0.1/24") && addr.contains("inet6 fd78::1/64"),
        "{addr}"
    );
    let link = ip(&["-o", "link", "show", "dev", "corralrb0"]);
    assert!(link.contains(",UP"), "corralrb0 is not up again: {link}");
}

#[test]
fn the_hosts_own_network_namespace_is_refused() {
    vm::require();
    let dummy = Dummy::new("corralhost0", "10.80.0.1/24", "fd80::1/64");
    let oci = Oci::new("netdev-host");
    let mut b = TestBundle::busybox("netdev-host", &["true"]);
    b.edit(|s| {
        s["linux"]["netDevices"] = json!({"corralhost0": {}});
        for ns in s["linux"]["namespaces"].as_array_mut().unwrap() {
            if ns["type"] == "network" {
                ns["path"] = "/proc/1/ns/net".into();
            }
        }
    });
    let err = stderr_of_create(&oci, &b, "h1");
    assert!(
        err.contains("linux.netDevices") && err.contains("host's"),
        "{err}"
    );
    nothing_left(&oci, "h1");
    assert!(dummy.on_host());
}

#[test]
fn a_create_failing_after_the_move_gives_the_devices_back() {
    vm::require();
    let dummy = Dummy::new("corrallate0", "10.81.0.1/24", "fd81::1/64");
    let oci = Oci::new("netdev-late");
    let mut b = TestBundle::busybox("netdev-late", &["true"]);
    // The devices move before the root is built; the missing bind source
    // then fails the create in the container's init.
    b.edit(|s| {
        s["linux"]["netDevices"] = json!({"corrallate0": {"name": "eth7"}});
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/data", "type": "bind",
            "source": "/nonexistent/corral-source", "options": ["rbind"]
        }));
    });
    let err = stderr_of_create(&oci, &b, "l1");
    assert!(err.contains("/nonexistent/corral-source"), "{err}");
    nothing_left(&oci, "l1");
    assert!(dummy.on_host(), "corrallate0 was not given back");
    let addr = ip(&["-o", "addr", "show", "dev", "corrallate0"]);
    assert!(
        addr.contains("inet 10.81.0.1/24") && addr.contains("inet6 fd81::1/64"),
        "{addr}"
    );
}

#[test]
fn exec_joins_the_namespace_the_devices_moved_into() {
    vm::require();
    let dummy = Dummy::new("corralexec0", "10.82.0.1/24", "fd82::1/64");
    let oci = Oci::new("netdev-exec");
    let mut b = TestBundle::busybox("netdev-exec", &["sleep", "600"]);
    b.edit(|s| s["linux"]["netDevices"] = json!({"corralexec0": {"name": "eth7"}}));
    let bundle = b.dir().to_str().unwrap().to_string();
    oci.ok(&["run", "--detach", "--bundle", &bundle, "e1"]);
    // exec moves nothing again: it joins the namespace that has them.
    let out = oci.ok(&["exec", "e1", "ip", "-o", "addr", "show", "dev", "eth7"]);
    assert!(out.contains("inet 10.82.0.1/24"), "{out}");
    assert!(!dummy.on_host());
    oci.ok(&["delete", "--force", "e1"]);
}

#[test]
fn a_one_step_run_whose_program_cannot_exec_gives_the_devices_back() {
    vm::require();
    let dummy = Dummy::new("corralrun0", "10.83.0.1/24", "fd83::1/64");
    // The library's run (the agent's launch) fails as a whole when the
    // exec fails, unlike `corral oci run`, which is create then start.
    let root = std::env::temp_dir().join(format!("corral-netdev-run-{}", std::process::id()));
    let rt = corral_oci::Runtime::new(&root, "/sys/fs/cgroup");
    let mut b = TestBundle::busybox("netdev-run", &["/no/such/program"]);
    b.edit(|s| s["linux"]["netDevices"] = json!({"corralrun0": {"name": "eth7"}}));
    let id = corral_oci::ContainerId::new("r1").unwrap();
    let err = rt
        .run(&id, b.dir(), &corral_oci::CreateOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("/no/such/program"), "{err}");
    assert!(rt.list().unwrap().is_empty(), "state left behind");
    assert!(dummy.on_host(), "corralrun0 was not given back");
    let addr = ip(&["-o", "addr", "show", "dev", "corralrun0"]);
    assert!(addr.contains("inet 10.83.0.1/24"), "{addr}");
    let _ = std::fs::remove_dir_all(&root);
}
