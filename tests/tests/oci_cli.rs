//! Host tests of the `corral oci` command line that need no root: the
//! `corral-oci` executable name, spec, features, and clear errors for bad
//! input (unknown ids, bad ids, bad signals, unsupported flags).

use corral_tests::oci::{Oci, corral_bin};
use std::process::Command;

#[test]
fn invoked_as_corral_oci_it_is_the_runtime() {
    let dir = std::env::temp_dir().join(format!("corral-oci-link-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("corral-oci");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(corral_bin(), &link).unwrap();
    let out = Command::new(&link).arg("features").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["linux"]["cgroup"]["v2"], true);
    assert!(
        v["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "user")
    );
    let listed = |key: &str, want: &str| v[key].as_array().unwrap().iter().any(|o| o == want);
    assert!(listed("mountOptions", "rro"), "{v}");
    assert!(listed("mountOptions", "ridmap"), "{v}");
    assert_eq!(v["linux"]["mountExtensions"]["idmap"]["enabled"], true);
    assert_eq!(v["linux"]["netDevices"]["enabled"], true);
    assert!(
        v["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "time")
    );
    let help = Command::new(&link).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for verb in [
        "create", "start", "state", "kill", "delete", "run", "exec", "ps", "list", "pause",
        "resume", "update", "events", "spec", "features",
    ] {
        assert!(help.contains(verb), "{verb} missing from --help:\n{help}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn spec_writes_a_loadable_default_and_refuses_to_overwrite() {
    let dir = std::env::temp_dir().join(format!("corral-oci-spec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let oci = Oci::new("spec");
    oci.ok(&["spec", "--bundle", dir.to_str().unwrap()]);
    let text = std::fs::read(dir.join("config.json")).unwrap();
    let spec = corral_oci::spec::parse(&dir.join("config.json"), &text).unwrap();
    assert_eq!(
        spec.process().as_ref().unwrap().args().as_ref().unwrap()[0],
        "sh"
    );
    let again = oci.run(&["spec", "--bundle", dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_gets_clear_errors_and_exit_1() {
    let oci = Oci::new("badinput");
    let cases: [(&[&str], &str); 5] = [
        (&["state", "nope"], "container nope does not exist"),
        (&["kill", "nope", "TERM"], "container nope does not exist"),
        (
            &["kill", "x", "NOTASIGNAL"],
            "unknown signal \"NOTASIGNAL\"",
        ),
        (&["delete", "a/b"], "is invalid"),
        (
            &["--systemd-cgroup", "state", "x"],
            "container x does not exist",
        ),
    ];
    for (args, want) in cases {
        let out = oci.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn errors_also_go_to_the_log_file_as_json() {
    let oci = Oci::new("log");
    std::fs::create_dir_all(oci.root()).unwrap();
    let log = oci.root().join("log.json");
    let out = oci.run(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "state",
        "ghost",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let line = std::fs::read_to_string(&log).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["level"], "error");
    assert!(
        v["msg"]
            .as_str()
            .unwrap()
            .contains("container ghost does not exist")
    );
}

#[test]
fn delete_of_a_container_with_no_state_fails_unless_forced_and_clears_its_folder() {
    // As runc: containerd's shim deletes with --force what may be gone.
    let oci = Oci::new("deleteghost");
    let out = oci.run(&["delete", "ghost"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("container ghost does not exist"), "{err}");
    let out = oci.run(&["delete", "--force", "ghost"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // A create cut short before its state.json: the folder goes.
    let left = oci.root().join("half");
    std::fs::create_dir_all(&left).unwrap();
    let out = oci.run(&["delete", "--force", "half"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!left.exists(), "{} is removed", left.display());
}

#[test]
fn create_refuses_a_bundle_without_config() {
    let oci = Oci::new("noconfig");
    let dir = std::env::temp_dir().join(format!("corral-oci-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = oci.run(&["create", "--bundle", dir.to_str().unwrap(), "c"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.json") && err.contains("No such file"),
        "{err}"
    );
    assert!(!oci.root().join("c").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn systemd_cgroup_create_refuses_other_paths_and_a_host_without_systemd() {
    // The test machines boot without systemd; vm_systemd_driver covers the
    // driver itself.
    assert!(
        !std::path::Path::new("/run/systemd/system").exists(),
        "this test needs a host without systemd as PID 1"
    );
    let oci = Oci::new("sdrefuse");
    let mut b = corral_tests::bundle::TestBundle::busybox("sdrefuse", &["true"]);
    let bundle = b.dir().to_str().unwrap().to_string();
    let create = ["--systemd-cgroup", "create", "--bundle", &bundle, "c"];
    let out = oci.run(&create);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("systemd is not the service manager here")
            && err.contains("/run/systemd/system"),
        "{err}"
    );
    assert!(!oci.root().join("c").exists(), "no state is left");
    b.edit(|s| s["linux"]["cgroupsPath"] = "corral/c".into());
    let out = oci.run(&create);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("SLICE:PREFIX:NAME"), "{err}");
    assert!(!oci.root().join("c").exists(), "no state is left");
}
