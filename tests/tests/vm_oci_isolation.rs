//! What a container sees of the host, through `corral oci run` of a busybox
//! bundle: its own pid, uts and mount namespaces, a read-only root, masked
//! paths, the spec's capabilities, seccomp profile, user mapping, identity
//! and rlimits. Runs inside the VM only.

use corral_tests::bundle::TestBundle;
use corral_tests::oci::Oci;
use corral_tests::vm;
use serde_json::json;

/// Runs `args` in a fresh container (after `edit` of the spec); returns
/// (exit code, stdout, stderr).
fn run(
    name: &str,
    args: &[&str],
    edit: impl FnOnce(&mut serde_json::Value),
) -> (i32, String, String) {
    vm::require();
    let oci = Oci::new(name);
    let mut b = TestBundle::busybox(name, args);
    b.edit(edit);
    let out = oci.run(&["run", "--bundle", b.dir().to_str().unwrap(), name]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn with_tmp(s: &mut serde_json::Value) {
    s["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]
    }));
}

#[test]
fn pid_namespace_shows_only_the_container() {
    let (code, out, err) = run(
        "pidns",
        &["sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"],
        |_| {},
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1", "the init is not pid 1: {out}");
    let count: u32 = lines[1].parse().unwrap();
    assert!(
        count <= 4,
        "{count} processes visible: host processes leak in"
    );
}

#[test]
fn hostname_is_the_specs() {
    let (code, out, err) = run("uts", &["hostname"], |_| {});
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "corral-test");
}

#[test]
fn host_mounts_are_invisible_and_the_root_is_read_only() {
    let (code, out, err) = run("mnt", &["sh", "-c", "cat /proc/mounts; touch /x"], |_| {});
    assert_ne!(code, 0, "touch on a read-only root succeeded");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!out.contains("9p"), "host root visible:\n{out}");
    assert!(!out.contains("corral-disk"), "host mounts visible:\n{out}");
    assert!(out.contains(" /proc proc "), "{out}");
    assert!(
        out.contains(" /proc/sys proc ro,"),
        "/proc/sys not read-only:\n{out}"
    );
}

#[test]
fn masked_paths_read_empty() {
    let (code, out, err) = run(
        "masked",
        &["sh", "-c", "cat /proc/keys /proc/timer_list | wc -c"],
        |_| {},
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "0");
}

#[test]
fn dropped_capability_makes_a_privileged_op_fail() {
    let (code, _, err) = run("nocap", &["hostname", "changed"], |_| {});
    assert_ne!(code, 0);
    assert!(
        err.contains("Operation not permitted") || err.contains("not permitted"),
        "{err}"
    );
    let (code, out, err) = run("cap", &["sh", "-c", "hostname changed && hostname"], |s| {
        for set in ["bounding", "effective", "permitted"] {
            s["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push("CAP_SYS_ADMIN".into());
        }
    });
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "changed");
}

#[test]
fn capability_sets_and_no_new_privs_are_the_specs() {
    let (code, out, err) = run(
        "capsets",
        &[
            "grep",
            "-E",
            "^(CapBnd|CapEff|NoNewPrivs)",
            "/proc/self/status",
        ],
        |_| {},
    );
    assert_eq!(code, 0, "{err}");
    // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10).
    assert!(out.contains("CapBnd:\t0000000020000420"), "{out}");
    assert!(out.contains("CapEff:\t0000000020000420"), "{out}");
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
}

#[test]
fn seccomp_blocks_a_syscall_with_the_profiles_errno() {
    let (code, _, err) = run("seccomp", &["mkdir", "/tmp/x"], |s| {
        with_tmp(s);
        s["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]
        });
    });
    assert_ne!(code, 0);
    assert!(
        err.contains("not supported"),
        "mkdir did not fail with EOPNOTSUPP: {err}"
    );
    let (code, _, err) = run("noseccomp", &["mkdir", "/tmp/x"], with_tmp);
    assert_eq!(code, 0, "without the profile mkdir works: {err}");
}

#[test]
fn user_namespace_maps_root_to_an_unprivileged_host_range() {
    let (code, out, err) = run(
        "userns",
        &[
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map /proc/self/gid_map",
        ],
        |s| {
            s["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "user"}));
            s["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            s["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        },
    );
    assert_eq!(code, 0, "{err}");
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(
        words,
        ["0", "0", "100000", "65536", "0", "100000", "65536"],
        "{out}"
    );
}

#[test]
fn user_groups_cwd_env_and_rlimits_are_the_specs() {
    let (code, out, err) = run(
        "identity",
        &["sh", "-c", "id -u; id -g; id -G; pwd; echo $FOO; ulimit -n"],
        |s| {
            with_tmp(s);
            s["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [2000]});
            s["process"]["cwd"] = "/tmp/work".into();
            s["process"]["env"] = json!(["PATH=/bin", "FOO=bar"]);
            s["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}]);
        },
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1000");
    assert_eq!(lines[1], "1000");
    assert!(lines[2].split(' ').any(|g| g == "2000"), "{out}");
    assert_eq!(&lines[3..], ["/tmp/work", "bar", "256"], "{out}");
}

#[test]
fn a_container_cannot_reach_the_runtime_binary_through_proc() {
    // CVE-2019-5736: a process sharing the pid namespace of a container whose
    // init is still the runtime (created, not started) must not be able to
    // open that init's /proc/PID/exe.
    vm::require();
    let oci = Oci::new("exe");
    let waiting = TestBundle::busybox("exe-init", &["true"]);
    oci.ok(&[
        "create",
        "--bundle",
        waiting.dir().to_str().unwrap(),
        "exe-init",
    ]);
    let state: serde_json::Value = serde_json::from_str(&oci.ok(&["state", "exe-init"])).unwrap();
    let pid = state["pid"].as_i64().unwrap();
    let mut b = TestBundle::busybox(
        "exe-peek",
        &[
            "sh",
            "-c",
            "readlink /proc/1/exe; cat /proc/1/exe > /dev/null",
        ],
    );
    b.edit(|s| {
        for ns in s["linux"]["namespaces"].as_array_mut().unwrap() {
            if ns["type"] == "pid" {
                ns["path"] = format!("/proc/{pid}/ns/pid").into();
            }
        }
    });
    let out = oci.run(&["run", "--bundle", b.dir().to_str().unwrap(), "exe-peek"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("corral"),
        "the runtime binary is visible: {stdout}"
    );
    assert!(stderr.contains("Permission denied"), "{stderr}");
    oci.ok(&["delete", "--force", "exe-init"]);
}

#[test]
fn device_cgroup_denies_host_disks_even_with_cap_mknod() {
    let disk = corral_tests::vm::Disk::get();
    let (major, minor) = {
        let mm = disk.major_minor();
        let (a, b) = mm.split_once(':').unwrap();
        (a.to_string(), b.to_string())
    };
    let script = format!(
        "mknod /dev/x b {major} {minor} && head -c 1 /dev/x; echo zero | head -c 4 > /dev/null"
    );
    let (code, _, err) = run("devices", &["sh", "-c", &script], |s| {
        for set in ["bounding", "effective", "permitted"] {
            s["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push("CAP_MKNOD".into());
        }
    });
    assert!(
        err.contains("Operation not permitted"),
        "the host disk was readable: {err}"
    );
    assert_eq!(code, 0, "writing /dev/null must still work: {err}");
}

#[test]
fn sysctls_oom_score_adj_domainname_and_personality_are_applied() {
    let (code, out, err) = run(
        "attrs",
        &[
            "sh",
            "-c",
            "cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj /proc/sys/kernel/domainname; uname -m",
        ],
        |s| {
            s["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
            s["process"]["oomScoreAdj"] = 500.into();
            s["domainname"] = "corral.example".into();
            s["linux"]["personality"] = json!({"domain": "LINUX32"});
        },
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, ["1", "500", "corral.example", "i686"], "{out}");
}

#[test]
fn no_pivot_runs_with_move_and_chroot() {
    vm::require();
    let oci = Oci::new("nopivot");
    let b = TestBundle::busybox(
        "nopivot",
        &["sh", "-c", "cat /proc/mounts | grep -c ' / '; ls /"],
    );
    let out = oci.run(&[
        "run",
        "--no-pivot",
        "--bundle",
        b.dir().to_str().unwrap(),
        "nopivot",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("bin"), "{stdout}");
    assert!(!stdout.contains("corral-disk"), "{stdout}");
}

#[test]
fn a_sysctl_that_would_change_the_host_is_refused() {
    let (code, _, err) = run("badsysctl", &["true"], |s| {
        s["linux"]["sysctl"] = json!({"vm.swappiness": "10"});
    });
    assert_eq!(code, 1);
    assert!(
        err.contains("linux.sysctl.vm.swappiness: not a namespaced sysctl"),
        "{err}"
    );
}

#[test]
fn a_mount_label_without_selinux_is_a_warning() {
    assert!(
        !corral_oci::spec::selinux_enabled(),
        "the VM has no SELinux"
    );
    let (code, _, err) = run("mountlabel", &["true"], |s| {
        s["linux"]["mountLabel"] = "system_u:object_r:svirt_sandbox_file_t:s0".into();
    });
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: linux.mountLabel") && err.contains("SELinux is not enabled"),
        "{err}"
    );
}

#[test]
fn resources_cgroup_v2_cannot_apply_are_warned_about() {
    let (code, _, err) = run("kmem", &["true"], |s| {
        s["linux"]["resources"]["memory"] = json!({"limit": 64 << 20, "kernel": 32 << 20});
    });
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: linux.resources.memory.kernel has no effect on cgroup v2"),
        "{err}"
    );
}
