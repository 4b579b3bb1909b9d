//! Plan tests: the runc-style default spec and its variations, planned
//! without root or syscalls.

use super::*;
use crate::spec::{Bundle, DEFAULT_SPEC};

fn bundle(edit: impl FnOnce(&mut serde_json::Value)) -> Bundle {
    let mut v: serde_json::Value = serde_json::from_str(DEFAULT_SPEC).unwrap();
    edit(&mut v);
    Bundle {
        dir: "/b".into(),
        rootfs: "/b/rootfs".into(),
        spec: serde_json::from_value(v).unwrap(),
    }
}

fn host() -> HostFacts {
    HostFacts {
        last_cap: 40,
        no_pivot: false,
    }
}

#[test]
fn default_spec_plans_new_namespaces_and_a_pivoted_readonly_root() {
    let p = plan(&bundle(|_| {}), &host(), &|_| true).unwrap();
    assert!(p.namespaces.new_pid && p.namespaces.new_mount && p.namespaces.new_net);
    assert!(p.namespaces.new_cgroup_ns);
    assert!(!p.namespaces.new_user);
    let r = p.rootfs.as_ref().unwrap();
    assert!(r.pivot && r.readonly && !r.bind_devices);
    assert_eq!(r.propagation, libc::MS_SLAVE | libc::MS_REC);
    assert_eq!(r.mounts.len(), 7);
    assert!(r.mounts[6].cgroup);
    assert_eq!(p.hostname.as_deref(), Some("corral"));
    assert_eq!(p.rlimits, vec![(libc::RLIMIT_NOFILE, 1024, 1024)]);
    let caps = p.caps.unwrap();
    assert_eq!(caps.bounding, 1 << 29 | 1 << 5 | 1 << 10);
    assert!(p.no_new_privs);
    assert_eq!(p.exec_candidates[0], PathBuf::from("/usr/local/sbin/sh"));
    assert_eq!(p.exec_candidates.len(), 6);
}

#[test]
fn user_namespace_maps_and_bound_devices() {
    let p = plan(
        &bundle(|v| {
            v["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"type":"user"}));
            v["linux"]["uidMappings"] =
                serde_json::json!([{"containerID":0,"hostID":100000,"size":65536}]);
            v["linux"]["gidMappings"] =
                serde_json::json!([{"containerID":0,"hostID":100000,"size":65536}]);
        }),
        &host(),
        &|_| true,
    )
    .unwrap();
    assert!(p.namespaces.new_user);
    assert_eq!(p.uid_map, "0 100000 65536\n");
    assert!(p.rootfs.unwrap().bind_devices);
}

#[test]
fn spec_devices_replace_defaults_and_type_a_is_refused() {
    let p = plan(
        &bundle(|v| {
            v["linux"]["devices"] = serde_json::json!([
                {"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":0o600},
                {"path":"/dev/loop0","type":"b","major":7,"minor":0}
            ]);
        }),
        &host(),
        &|_| true,
    )
    .unwrap();
    let devs = p.rootfs.unwrap().devices;
    assert_eq!(
        devs.iter()
            .filter(|d| d.path == Path::new("/dev/null"))
            .count(),
        1
    );
    assert!(
        devs.iter()
            .any(|d| d.path == Path::new("/dev/null") && d.mode == 0o600)
    );
    assert!(devs.iter().any(|d| d.kind == libc::S_IFBLK && d.major == 7));
    let e = plan(
        &bundle(|v| v["linux"]["devices"] = serde_json::json!([{"path":"/dev/x","type":"a"}])),
        &host(),
        &|_| true,
    )
    .unwrap_err();
    assert!(e.to_string().contains("linux.devices[0].type"), "{e}");
}

#[test]
fn bad_root_propagation_is_named() {
    let e = plan(
        &bundle(|v| v["linux"]["rootfsPropagation"] = "sideways".into()),
        &host(),
        &|_| true,
    )
    .unwrap_err();
    assert!(e.to_string().contains("linux.rootfsPropagation"), "{e}");
}

#[test]
fn exec_search_follows_the_containers_path() {
    let env = vec!["PATH=/opt/bin::/bin".to_string()];
    assert_eq!(
        exec_candidates("ls", &env),
        vec![
            PathBuf::from("/opt/bin/ls"),
            PathBuf::from("./ls"),
            PathBuf::from("/bin/ls")
        ]
    );
    assert_eq!(exec_candidates("./run", &env), vec![PathBuf::from("./run")]);
}

#[test]
fn without_a_mount_namespace_there_is_no_rootfs_plan() {
    let p = plan(
        &bundle(|v| {
            v["linux"]["namespaces"] = serde_json::json!([{"type":"pid"}]);
            v["hostname"] = serde_json::Value::Null;
        }),
        &host(),
        &|_| true,
    )
    .unwrap();
    assert!(p.rootfs.is_none());
}

#[test]
fn scheduler_io_priority_and_time_offsets_are_planned() {
    let p = plan(
        &bundle(|v| {
            v["process"]["scheduler"] = serde_json::json!({"policy": "SCHED_BATCH", "nice": 7});
            v["process"]["ioPriority"] =
                serde_json::json!({"class": "IOPRIO_CLASS_BE", "priority": 6});
            v["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"type": "time"}));
            v["linux"]["timeOffsets"] = serde_json::json!({
                "monotonic": {"secs": 86400}, "boottime": {"secs": 172800, "nanosecs": 5}
            });
        }),
        &host(),
        &|_| true,
    )
    .unwrap();
    let s = p.scheduler.unwrap();
    assert_eq!((s.policy, s.nice), (3, 7));
    assert_eq!(p.io_priority, Some(2 << 13 | 6));
    assert!(p.namespaces.new_time);
    assert_eq!(p.namespaces.clone_flags & libc::CLONE_NEWTIME as u64, 0);
    assert_eq!(p.time_offsets, "boottime 172800 5\nmonotonic 86400 0\n");

    let e = plan(
        &bundle(|v| v["process"]["scheduler"] = serde_json::json!({"policy": "SCHED_FIFO"})),
        &host(),
        &|_| true,
    )
    .unwrap_err();
    assert!(e.to_string().contains("process.scheduler.priority"), "{e}");
}
